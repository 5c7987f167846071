"""Live codes and staff QR cards: WeCom first, then Qike; every change in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from qike.acquisition import pools
from qike.acquisition.models import (
    LIVE_CODE_STATE_PREFIX,
    STAFF_CARD_STATE_PREFIX,
    LiveCode,
    LiveCodeAdd,
    PoolDepartment,
    PoolMember,
    PoolRole,
    Schedule,
    StaffCard,
)
from qike.acquisition.sources import channel_data
from qike.audit.services import record
from qike.core import clock
from qike.core.models import Corp
from qike.core.services import client_for
from qike.customers.models import FollowRelation, TimelineKind
from qike.customers.services import add_timeline
from qike.engagement.models import WelcomeMessage
from qike.jobs import enqueue_on_commit
from qike.org.access import Access, Action
from qike.org.models import Department, Staff, StaffStatus
from qike.tags import services as tag_services
from qike.tags.models import Tag, TagType
from qike.wecom.errors import WeComError

MAX_POOL = 100  # WeCom: a contact way has at most 100 members after expanding departments
MAX_WECOM_REMARK = 30  # WeCom: contact way remark and state are at most 30 characters
CONTACT_WAY_GONE = 41044  # WeCom: unknown or expired config_id


# --- who may ---------------------------------------------------------------------------------


def may_view(access: Access) -> bool:
    """Codes and their figures: corp admins, operations, and managers (figures of their own
    members only). Sales staff work in WeCom and have no business here."""
    return access.can(Action.VIEW_ORG)


def may_manage(access: Access) -> bool:
    """Creating, editing and deleting codes and cards: corp admins and operations."""
    return access.corp_wide and access.can(Action.MANAGE_TAGS)


def require_view(access: Access) -> None:
    if not may_view(access):
        raise PermissionDenied(_("Your role may not see live codes."))


def require_manage(access: Access) -> None:
    if not may_manage(access):
        raise PermissionDenied(_("Only corp admins and operations may change live codes."))


# --- input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShiftSpec:
    weekdays: tuple[int, ...]  # 0 = Monday … 6 = Sunday
    start: dt.time
    end: dt.time
    userids: tuple[str, ...]


@dataclass(frozen=True)
class LiveCodeSpec:
    """What a user asks for. Members by WeCom UserID, departments by WeCom id, tags by WeCom id."""

    name: str
    channel_group: str = ""
    remark: str = ""
    skip_verify: bool = True
    userids: tuple[str, ...] = ()
    department_ids: tuple[int, ...] = ()
    backup_userids: tuple[str, ...] = ()
    tag_ids: tuple[str, ...] = ()
    welcome_message_id: int | None = None
    daily_cap: int | None = None
    spread_evenly: bool = True
    shifts: tuple[ShiftSpec, ...] = field(default=())


@dataclass
class _Resolved:
    staff: list[Staff]
    departments: list[Department]
    backups: list[Staff]
    tags: list[Tag]
    welcome: WelcomeMessage | None
    shifts: list[tuple[ShiftSpec, list[Staff]]]


def _members(corp: Corp, userids: tuple[str, ...], label: str) -> list[Staff]:
    wanted = list(dict.fromkeys(u.strip() for u in userids if u.strip()))
    found = {
        s.userid: s
        for s in Staff.objects.filter(corp=corp, userid__in=wanted, status=StaffStatus.ACTIVE)
    }
    missing = [u for u in wanted if u not in found]
    if missing:
        raise ValidationError(
            _("%(what)s: no active staff member with UserID %(ids)s.")
            % {"what": label, "ids": "、".join(missing)}
        )
    return [found[u] for u in wanted]


def _expanded(corp: Corp, staff: list[Staff], departments: list[Department]) -> set[int]:
    pks = {s.pk for s in staff}
    in_departments = Q()
    for department in departments:
        in_departments |= Q(staffdepartment__department__path__startswith=department.path)
    if departments:
        pks |= set(
            Staff.objects.filter(in_departments, corp=corp, status=StaffStatus.ACTIVE)
            .values_list("pk", flat=True)
            .distinct()
        )
    return pks


def _check_pool_size(size: int, label: str) -> None:
    if size > MAX_POOL:
        raise ValidationError(
            _(
                "%(what)s has %(n)d members after expanding departments; WeCom allows at most "
                "%(max)d on one code."
            )
            % {"what": label, "n": size, "max": MAX_POOL}
        )


def _resolve(corp: Corp, spec: LiveCodeSpec) -> _Resolved:
    """Check everything before anything is written or sent; raise ValidationError with why."""
    name = spec.name.strip()
    if not name:
        raise ValidationError(_("Give the live code a name."))
    if spec.daily_cap is not None and spec.daily_cap < 1:
        raise ValidationError(_("The daily cap must be at least 1, or empty for no cap."))
    staff = _members(corp, spec.userids, _("Pool"))
    wanted_departments = set(spec.department_ids)
    departments = list(Department.objects.filter(corp=corp, wecom_id__in=wanted_departments))
    unknown = wanted_departments - {d.wecom_id for d in departments}
    if unknown:
        raise ValidationError(
            _("Unknown department ids: %(ids)s.") % {"ids": ", ".join(map(str, sorted(unknown)))}
        )
    main_size = len(_expanded(corp, staff, departments))
    _check_pool_size(main_size, _("The pool"))
    shifts = []
    for number, shift in enumerate(spec.shifts, start=1):
        label = _("Shift %(n)d") % {"n": number}
        if not shift.weekdays or any(day not in range(7) for day in shift.weekdays):
            raise ValidationError(
                _("%(what)s needs weekdays from Monday to Sunday.") % {"what": label}
            )
        members = _members(corp, shift.userids, label)
        if not members:
            raise ValidationError(_("%(what)s has no members.") % {"what": label})
        _check_pool_size(len(members), label)
        shifts.append((shift, members))
    if main_size == 0 and not shifts:
        raise ValidationError(
            _("The pool is empty: choose at least one staff member or department.")
        )
    backups = _members(corp, spec.backup_userids, _("Backup staff"))
    _check_pool_size(len(backups), _("Backup staff"))
    tags = list(Tag.objects.filter(corp=corp, type=TagType.CORP, wecom_id__in=set(spec.tag_ids)))
    if len(tags) != len(set(spec.tag_ids)):
        raise ValidationError(_("Auto-tags must be existing corp tags."))
    welcome = None
    if spec.welcome_message_id is not None:
        welcome = WelcomeMessage.objects.filter(corp=corp, pk=spec.welcome_message_id).first()
        if welcome is None:
            raise ValidationError(_("That welcome message does not exist."))
    return _Resolved(staff, departments, backups, tags, welcome, shifts)


# --- live codes -------------------------------------------------------------------------------


def _apply_fields(code: LiveCode, spec: LiveCodeSpec, resolved: _Resolved) -> None:
    code.name = spec.name.strip()
    code.channel_group = spec.channel_group.strip()
    code.remark = spec.remark.strip()
    code.skip_verify = spec.skip_verify
    code.daily_cap = spec.daily_cap
    code.spread_evenly = spec.spread_evenly
    code.welcome_message = resolved.welcome


def _write_pools(code: LiveCode, resolved: _Resolved) -> None:
    """Replace the code's members, departments, backups, shifts and tags."""
    corp = code.corp
    code.members.all().delete()
    code.departments.all().delete()
    code.schedules.all().delete()
    PoolMember.objects.bulk_create(
        [PoolMember(corp=corp, code=code, staff=s, role=PoolRole.MAIN) for s in resolved.staff]
        + [
            PoolMember(corp=corp, code=code, staff=s, role=PoolRole.BACKUP)
            for s in resolved.backups
        ]
    )
    PoolDepartment.objects.bulk_create(
        [PoolDepartment(corp=corp, code=code, department=d) for d in resolved.departments]
    )
    for shift, members in resolved.shifts:
        schedule = Schedule.objects.create(
            corp=corp,
            code=code,
            weekdays=sorted(set(shift.weekdays)),
            start=shift.start,
            end=shift.end,
        )
        schedule.staff.set(members)
    code.tags.set(resolved.tags)


def _wecom_remark(code: LiveCode) -> str:
    return code.name[:MAX_WECOM_REMARK]


def _require_state_free(corp: Corp, state: str, code_pk: int) -> None:
    taken = LiveCode.objects.filter(corp=corp, state=state).exclude(pk=code_pk).exists()
    if taken or StaffCard.objects.filter(corp=corp, state=state).exists():
        raise ValidationError(
            _("The channel state %(state)s is already used by another code.") % {"state": state}
        )


def _require_live(code: LiveCode) -> None:
    if code.deleted_at is not None:
        raise ValidationError(_("This live code has been deleted."))


def create_live_code(*, access: Access, spec: LiveCodeSpec) -> LiveCode:
    """Create the code in Qike and WeCom; if WeCom refuses, nothing is kept."""
    require_manage(access)
    resolved = _resolve(access.corp, spec)
    with transaction.atomic():
        code = LiveCode(corp=access.corp)
        _apply_fields(code, spec, resolved)
        code.save()
        code.state = f"{LIVE_CODE_STATE_PREFIX}{code.pk}"
        _require_state_free(access.corp, code.state, code.pk)
        _write_pools(code, resolved)
        userids = pools.choose_userids(code, clock.now())
        with client_for(access.corp) as client:
            answer = client.add_contact_way(
                type=2,
                scene=2,
                remark=_wecom_remark(code),
                skip_verify=code.skip_verify,
                state=code.state,
                user=userids,
            )
        code.config_id = answer["config_id"]
        code.qr_code = answer.get("qr_code", "")
        code.current_userids = userids
        code.save()
    return code


def update_live_code(*, access: Access, code: LiveCode, spec: LiveCodeSpec) -> LiveCode:
    require_manage(access)
    _require_live(code)
    resolved = _resolve(access.corp, spec)
    with transaction.atomic():
        code = LiveCode.objects.select_for_update().get(pk=code.pk, corp=access.corp)
        _require_live(code)
        _apply_fields(code, spec, resolved)
        _write_pools(code, resolved)
        userids = pools.choose_userids(code, clock.now())
        with client_for(access.corp) as client:
            client.update_contact_way(
                code.config_id,
                remark=_wecom_remark(code),
                skip_verify=code.skip_verify,
                user=userids,
            )
        code.current_userids = userids
        code.save()
    return code


def delete_live_code(*, access: Access, code: LiveCode) -> None:
    """Delete the contact way in WeCom (printed codes stop working) and keep the code's history
    in Qike for its figures."""
    require_manage(access)
    _require_live(code)
    with transaction.atomic():
        code = LiveCode.objects.select_for_update().get(pk=code.pk, corp=access.corp)
        _require_live(code)
        try:
            with client_for(access.corp) as client:
                client.del_contact_way(code.config_id)
        except WeComError as exc:
            if exc.errcode != CONTACT_WAY_GONE:  # already gone in WeCom: that is what we want
                raise
        code.deleted_at = clock.now()
        code.current_userids = []
        code.save(update_fields=["deleted_at", "current_userids", "updated_at"])
        record(corp=access.corp, action="acquisition.live_code_delete", target=code)


def refresh_pool(*, code_id: int) -> bool:
    """Bring the code's WeCom member list up to date; True when it changed.

    The row lock serialises refreshes of one code, so two adds handled at once cannot both
    read the old loads and leave a stale list behind.
    """
    with transaction.atomic():
        code = (
            LiveCode.objects.select_for_update()
            .select_related("corp")
            .filter(pk=code_id, deleted_at__isnull=True)
            .first()
        )
        if code is None or not code.config_id:
            return False
        wanted = pools.choose_userids(code, clock.now())
        if not wanted or wanted == code.current_userids:
            return False
        with client_for(code.corp) as client:
            client.update_contact_way(code.config_id, user=wanted)
        code.current_userids = wanted
        code.save(update_fields=["current_userids", "updated_at"])
    return True


def refresh_all_pools() -> int:
    """Refresh every live code (shift boundaries, a new day); WeCom hears only of changes."""
    changed = 0
    ids = LiveCode.objects.filter(deleted_at__isnull=True).exclude(config_id="")
    for code_id in ids.values_list("pk", flat=True):
        try:
            changed += refresh_pool(code_id=code_id)
        except WeComError:
            # One corp's WeCom trouble must not stop the others; the next run tries again.
            continue
    return changed


# --- adds -------------------------------------------------------------------------------------


def _relation(corp: Corp, external_userid: str, userid: str) -> FollowRelation | None:
    return (
        FollowRelation.objects.filter(
            corp=corp, customer__external_userid=external_userid, staff__userid=userid
        )
        .select_related("customer", "staff")
        .first()
    )


def attribute_add(
    *, corp: Corp, state: str, external_userid: str, userid: str, at: dt.datetime | None
) -> LiveCodeAdd | None:
    """Record that the add carrying `state` came through that live code (once, however often the
    event is delivered), put it on the customer's timeline, and refresh the code's pool."""
    if not state.startswith(LIVE_CODE_STATE_PREFIX):
        return None
    code = LiveCode.objects.filter(corp=corp, state=state).first()
    relation = _relation(corp, external_userid, userid)
    if code is None or relation is None:
        return None
    with transaction.atomic():
        add, created = LiveCodeAdd.objects.get_or_create(
            code=code,
            relation=relation,
            defaults={"corp": corp, "staff": relation.staff, "added_at": at or clock.now()},
        )
        if created:
            add_timeline(
                corp=corp,
                customer_id=relation.customer_id,
                staff_id=relation.staff_id,
                kind=TimelineKind.CHANNEL,
                occurred_at=add.added_at,
                data=channel_data(code),
            )
            from qike.acquisition.tasks import refresh_pool_job

            enqueue_on_commit(refresh_pool_job, code.pk)
    return add


def apply_auto_tags(*, corp: Corp, state: str, external_userid: str, userid: str) -> list[str]:
    """Put the code's auto-tags on the customer (WeCom first); names of the tags added. Tags the
    customer already has are skipped, so a repeated event changes nothing."""
    if not state.startswith(LIVE_CODE_STATE_PREFIX):
        return []
    code = LiveCode.objects.filter(corp=corp, state=state).first()
    relation = _relation(corp, external_userid, userid)
    if code is None or relation is None or relation.is_half:
        return []  # a half-added customer cannot be tagged yet (84061); the full add will do it
    return tag_services.apply_auto_tags(
        corp=corp, relation=relation, tags=code.tags.all(), actor=code.name
    )


# --- staff cards ------------------------------------------------------------------------------


def ensure_staff_card(*, access: Access, staff: Staff) -> StaffCard:
    """The member's QR card, created in WeCom the first time it is asked for."""
    require_manage(access)
    if staff.corp_id != access.corp.pk:
        raise ValidationError(_("That staff member is not in this corp."))
    existing = StaffCard.objects.filter(corp=access.corp, staff=staff).first()
    if existing is not None:
        return existing
    if staff.status != StaffStatus.ACTIVE:
        raise ValidationError(_("Only active staff members can have a QR card."))
    with transaction.atomic():
        card = StaffCard.objects.create(corp=access.corp, staff=staff, state="", config_id="")
        card.state = f"{STAFF_CARD_STATE_PREFIX}{card.pk}"
        with client_for(access.corp) as client:
            answer = client.add_contact_way(
                type=1,
                scene=2,
                remark=(staff.name or staff.userid)[:MAX_WECOM_REMARK],
                skip_verify=True,
                state=card.state,
                user=[staff.userid],
            )
        card.config_id = answer["config_id"]
        card.qr_code = answer.get("qr_code", "")
        card.save()
    return card
