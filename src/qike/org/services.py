"""Departments and staff, kept equal to WeCom's address book."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from qike.core import clock
from qike.core.models import Corp
from qike.org.models import MAX_DEPARTMENT_DEPTH, Department, Staff, StaffDepartment, StaffStatus

STAFF_FIELDS = ("name", "alias", "mobile", "email", "position", "gender", "avatar")


def _path_for(corp: Corp, wecom_id: int, parent_wecom_id: int) -> tuple[str, int]:
    parent = Department.objects.filter(corp=corp, wecom_id=parent_wecom_id).first()
    if parent is None:
        return f"/{wecom_id}/", 1
    return f"{parent.path}{wecom_id}/", parent.depth + 1


@transaction.atomic
def upsert_department(
    *, corp: Corp, wecom_id: int, name: str, parent_wecom_id: int, order: int = 0, name_en: str = ""
) -> Department:
    path, depth = _path_for(corp, wecom_id, parent_wecom_id)
    if depth > MAX_DEPARTMENT_DEPTH:
        raise ValidationError(
            _("Departments may be nested at most %(max)d levels deep.")
            % {"max": MAX_DEPARTMENT_DEPTH}
        )
    department, _created = Department.objects.update_or_create(
        corp=corp,
        wecom_id=wecom_id,
        defaults={
            "name": name,
            "name_en": name_en,
            "parent_wecom_id": parent_wecom_id,
            "order": order,
            "path": path,
            "depth": depth,
        },
    )
    _refresh_descendant_paths(corp, department)
    return department


def _refresh_descendant_paths(corp: Corp, department: Department) -> None:
    """A moved department moves its subtree: recompute the children's paths level by level."""
    frontier = [department]
    while frontier:
        parent = frontier.pop()
        for child in Department.objects.filter(corp=corp, parent_wecom_id=parent.wecom_id).exclude(
            pk=parent.pk
        ):
            path, depth = f"{parent.path}{child.wecom_id}/", parent.depth + 1
            if child.path != path or child.depth != depth:
                if depth > MAX_DEPARTMENT_DEPTH:
                    raise ValidationError(
                        _("Departments may be nested at most %(max)d levels deep.")
                        % {"max": MAX_DEPARTMENT_DEPTH}
                    )
                child.path, child.depth = path, depth
                child.save(update_fields=["path", "depth"])
            frontier.append(child)


@transaction.atomic
def delete_department(*, corp: Corp, wecom_id: int) -> None:
    Department.objects.filter(corp=corp, wecom_id=wecom_id).delete()


@transaction.atomic
def replace_departments(*, corp: Corp, departments: Iterable[dict]) -> int:
    """Make Qike's tree equal to WeCom's `department/list` answer."""
    rows = sorted(departments, key=lambda d: (d.get("parentid", 0), d["id"]))
    by_id = {int(d["id"]): d for d in rows}
    seen: set[int] = set()

    def place(dept_id: int, trail: tuple[int, ...] = ()) -> None:
        if dept_id in seen or dept_id in trail:
            return
        data = by_id[dept_id]
        parent_id = int(data.get("parentid") or 0)
        if parent_id in by_id:
            place(parent_id, (*trail, dept_id))
        upsert_department(
            corp=corp,
            wecom_id=dept_id,
            name=data.get("name", ""),
            name_en=data.get("name_en", "") or "",
            parent_wecom_id=parent_id,
            order=int(data.get("order") or 0),
        )
        seen.add(dept_id)

    for dept_id in by_id:
        place(dept_id)
    Department.objects.filter(corp=corp).exclude(wecom_id__in=seen).delete()
    return len(seen)


def _check_unique_contact(corp: Corp, userid: str, field: str, value: str) -> None:
    if not value:
        return
    clash = Staff.objects.filter(corp=corp, **{field: value}).exclude(userid=userid).first()
    if clash is not None:
        raise ValidationError(
            _("%(field)s %(value)s is already used by %(userid)s.")
            % {"field": field, "value": value, "userid": clash.userid}
        )


@transaction.atomic
def upsert_staff(
    *,
    corp: Corp,
    userid: str,
    departments: list[int] | None = None,
    leader_in: list[int] | None = None,
    status: int | None = None,
    main_department: int | None = None,
    **profile: str,
) -> Staff:
    """Create or update a member from WeCom's data. Fields not given are left as they are, because
    WeCom pushes only what changed."""
    userid = userid.strip()
    if not userid:
        raise ValidationError(_("UserID is required."))
    values = {key: str(value or "") for key, value in profile.items() if key in STAFF_FIELDS}
    _check_unique_contact(corp, userid, "mobile", values.get("mobile", ""))
    _check_unique_contact(corp, userid, "email", values.get("email", ""))
    if status is not None:
        values["status"] = int(status)
        values["left_at"] = clock.now() if int(status) == StaffStatus.LEFT else None
    if main_department is not None:
        values["main_department"] = int(main_department)
    staff, _created = Staff.objects.update_or_create(corp=corp, userid=userid, defaults=values)
    if departments is not None:
        _set_departments(corp, staff, departments, leader_in or [])
    return staff


def _set_departments(corp: Corp, staff: Staff, wecom_ids: list[int], leader_in: list[int]) -> None:
    wanted = {
        dept.wecom_id: dept
        for dept in Department.objects.filter(corp=corp, wecom_id__in=[int(i) for i in wecom_ids])
    }
    StaffDepartment.objects.filter(staff=staff).exclude(department__wecom_id__in=wanted).delete()
    leaders = {int(i) for i in leader_in}
    for wecom_id, dept in wanted.items():
        StaffDepartment.objects.update_or_create(
            corp=corp,
            staff=staff,
            department=dept,
            defaults={"is_leader": wecom_id in leaders},
        )


@transaction.atomic
def rename_staff(*, corp: Corp, userid: str, new_userid: str) -> None:
    """WeCom lets an admin change a not-yet-activated member's userid (update_user with NewUserID)."""
    if Staff.objects.filter(corp=corp, userid=new_userid).exists():
        return
    Staff.objects.filter(corp=corp, userid=userid).update(userid=new_userid)


@transaction.atomic
def mark_staff_left(*, corp: Corp, userid: str) -> None:
    Staff.objects.filter(corp=corp, userid=userid).exclude(status=StaffStatus.LEFT).update(
        status=StaffStatus.LEFT, left_at=clock.now()
    )


def staff_from_wecom(*, corp: Corp, user: dict) -> Staff:
    """Upsert from a `user/get` or `user/list` entry."""
    departments = [int(d) for d in user.get("department") or []]
    leader_flags = user.get("is_leader_in_dept") or []
    leader_in = [d for d, flag in zip(departments, leader_flags, strict=False) if int(flag or 0)]
    return upsert_staff(
        corp=corp,
        userid=user["userid"],
        departments=departments,
        leader_in=leader_in,
        status=int(user.get("status") or StaffStatus.ACTIVE),
        main_department=user.get("main_department"),
        name=user.get("name", ""),
        alias=user.get("alias", ""),
        mobile=user.get("mobile", ""),
        email=user.get("email", ""),
        position=user.get("position", ""),
        gender=str(user.get("gender", "") or ""),
        avatar=user.get("avatar", ""),
    )


def replace_staff(*, corp: Corp, users: Iterable[dict]) -> int:
    """Make Qike's staff equal to WeCom's `user/list`: members WeCom no longer lists have left."""
    seen: set[str] = set()
    for user in users:
        staff_from_wecom(corp=corp, user=user)
        seen.add(user["userid"])
    for userid in (
        Staff.objects.filter(corp=corp).exclude(userid__in=seen).values_list("userid", flat=True)
    ):
        mark_staff_left(corp=corp, userid=userid)
    return len(seen)


def ensure_staff(*, corp: Corp, userid: str) -> Staff:
    """The member behind an event; a member WeCom told us nothing about yet gets a bare row that the
    next change_contact event or sync fills in."""
    staff = Staff.objects.filter(corp=corp, userid=userid).first()
    if staff is not None:
        return staff
    return upsert_staff(corp=corp, userid=userid)
