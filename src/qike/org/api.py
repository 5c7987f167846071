"""REST API: the organisation (departments and staff) within the token's data scope."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from qike.api.auth import access_of, read_auth
from qike.api.errors import ApiError
from qike.api.pagination import numbered_page
from qike.api.schemas import Id, PageQuery, Text, errors
from qike.customers.models import RelationStatus
from qike.org.access import Access, Action
from qike.org.models import Department, Staff, StaffDepartment, StaffStatus
from qike.org.schemas import (
    DepartmentNode,
    DepartmentOut,
    DepartmentPage,
    StaffOut,
    StaffPage,
    StaffQuery,
)

router = Router(tags=["organisation"], auth=read_auth)


# --- staff -----------------------------------------------------------------------------------


def staff_in_scope(access: Access) -> QuerySet[Staff]:
    access.require(Action.VIEW_ORG)
    return (
        Staff.objects.filter(corp=access.corp)
        .filter(access.staff_filter())
        .annotate(
            customer_count=Count("relations", filter=Q(relations__status=RelationStatus.ACTIVE))
        )
        .prefetch_related(
            Prefetch(
                "staffdepartment_set",
                queryset=StaffDepartment.objects.select_related("department").order_by(
                    "department__path"
                ),
            )
        )
        .order_by("userid")
    )


def staff_data(staff: Staff) -> dict:
    return {
        "userid": staff.userid,
        "name": staff.name,
        "alias": staff.alias,
        "position": staff.position,
        "gender": staff.gender,
        "avatar": staff.avatar,
        "status": staff.status,
        "main_department": staff.main_department,
        "left_at": staff.left_at,
        "departments": [
            {"id": m.department.wecom_id, "name": m.department.name, "is_leader": m.is_leader}
            for m in staff.staffdepartment_set.all()
        ],
        "customer_count": staff.customer_count,
    }


@router.get("/staff", response={200: StaffPage, **errors(403)}, summary="List staff")
def list_staff(request: HttpRequest, filters: Query[StaffQuery], page: Query[PageQuery]) -> dict:
    """The members you may see, by UserID, with how many customers each follows."""
    access = access_of(request)
    staff = staff_in_scope(access)
    if filters.department is not None:
        subtree = departments_under(access, filters.department)
        staff = staff.filter(
            pk__in=StaffDepartment.objects.filter(department__in=subtree).values("staff_id")
        )
    if filters.status is not None:
        staff = staff.filter(status=filters.status)
    if filters.q.strip():
        term = filters.q.strip()
        staff = staff.filter(Q(userid__icontains=term) | Q(name__icontains=term))
    result = numbered_page(staff, page)
    result["items"] = [staff_data(s) for s in result["items"]]
    return result


@router.get("/staff/{userid}", response={200: StaffOut, **errors(403, 404)}, summary="Get a member")
def staff_detail(request: HttpRequest, userid: Text) -> dict:
    access = access_of(request)
    visible = staff_in_scope(access)
    if not Staff.objects.filter(corp=access.corp, userid=userid).exists():
        raise ApiError(
            404, "not_found", _("No member with UserID %(userid)s.") % {"userid": userid}
        )
    member = visible.filter(userid=userid).first()
    if member is None:
        raise PermissionDenied(_("This member is outside your scope."))
    return staff_data(member)


# --- departments -----------------------------------------------------------------------------


def departments_in_scope(access: Access) -> QuerySet[Department]:
    """The whole tree for corp-wide roles, a manager's subtrees for a manager."""
    access.require(Action.VIEW_ORG)
    departments = Department.objects.filter(corp=access.corp)
    if not access.corp_wide:
        in_subtrees = Q(pk__in=[])
        for path in access.department_paths:
            in_subtrees |= Q(path__startswith=path)
        departments = departments.filter(in_subtrees)
    # Members who left stay linked to their departments for history; count only current ones.
    members = ~Q(staffdepartment__staff__status=StaffStatus.LEFT)
    return departments.annotate(staff_count=Count("staffdepartment", filter=members)).order_by(
        "path"
    )


def departments_under(access: Access, wecom_id: int) -> QuerySet[Department]:
    department = find_department(access, wecom_id)
    return Department.objects.filter(corp=access.corp, path__startswith=department.path)


def find_department(access: Access, wecom_id: int) -> Department:
    visible = departments_in_scope(access).filter(wecom_id=wecom_id).first()
    if visible is not None:
        return visible
    if Department.objects.filter(corp=access.corp, wecom_id=wecom_id).exists():
        raise PermissionDenied(_("This department is outside your scope."))
    raise ApiError(404, "not_found", _("No department with id %(id)s.") % {"id": wecom_id})


def department_data(department: Department) -> dict:
    return {
        "id": department.wecom_id,
        "name": department.name,
        "name_en": department.name_en,
        "parent_id": department.parent_wecom_id,
        "order": department.order,
        "path": [int(part) for part in department.path.strip("/").split("/") if part],
        "depth": department.depth,
        "staff_count": department.staff_count,
    }


def department_tree(departments: list[Department]) -> list[dict]:
    """Nest the departments; one whose parent is not visible is a root (a manager's subtree)."""
    nodes = {d.wecom_id: {**department_data(d), "children": []} for d in departments}
    roots = []
    for department in departments:
        node = nodes[department.wecom_id]
        parent = nodes.get(department.parent_wecom_id)
        if parent is not None and department.parent_wecom_id != department.wecom_id:
            parent["children"].append(node)
        else:
            roots.append(node)

    def sort(level: list[dict]) -> list[dict]:
        level.sort(key=lambda n: (-n["order"], n["id"]))
        for node in level:
            sort(node["children"])
        return level

    return sort(roots)


@router.get(
    "/departments", response={200: DepartmentPage, **errors(403)}, summary="List departments"
)
def list_departments(request: HttpRequest, page: Query[PageQuery]) -> dict:
    """The departments you may see, flat, parents before children."""
    result = numbered_page(departments_in_scope(access_of(request)), page)
    result["items"] = [department_data(d) for d in result["items"]]
    return result


@router.get(
    "/departments/tree",
    response={200: list[DepartmentNode], **errors(403)},
    summary="Department tree",
)
def tree(request: HttpRequest) -> list[dict]:
    """The departments you may see, nested, siblings in WeCom's order."""
    return department_tree(list(departments_in_scope(access_of(request))))


@router.get(
    "/departments/{department_id}",
    response={200: DepartmentOut, **errors(403, 404)},
    summary="Get a department",
)
def department_detail(request: HttpRequest, department_id: Id) -> dict:
    return department_data(find_department(access_of(request), department_id))
