"""Churn (lost customers, their alerts and reasons) and the shared pool (公海): settings, returns,
claims and give-backs. Every state change is here, one transaction each."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qike.audit.context import current_actor
from qike.audit.services import record
from qike.core import clock
from qike.core.models import Corp
from qike.customers.models import (
    Customer,
    FollowRelation,
    RelationStatus,
    TimelineEntry,
    TimelineKind,
)
from qike.customers.services import add_timeline
from qike.org.access import Access, Action
from qike.org.models import Department, Role, Staff, StaffDepartment, StaffStatus
from qike.org.notify import send_text
from qike.retention.models import (
    DEFAULT_CLAIM_LIMIT,
    DEFAULT_DELETE_LIMIT,
    DEFAULT_IDLE_DAYS,
    DEFAULT_REASONS,
    MAX_REASONS,
    NOTE_MAX,
    REASON_MAX,
    AlertState,
    Claim,
    DeletionAlert,
    LostCustomer,
    LostKind,
    PoolEntry,
    PoolReason,
    PoolStatus,
    RetentionSettings,
)

log = logging.getLogger("qike.retention")

MAX_DAYS = 3650
MAX_LIMIT = 10000
CHUNK = 500


def local_day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date()


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


# --- settings --------------------------------------------------------------------------------

SETTING_FIELDS = (
    "alert_staff",
    "alert_manager",
    "delete_limit",
    "reasons",
    "pool_idle_days",
    "claim_limit",
)


def settings_for(corp: Corp) -> RetentionSettings:
    """The corp's settings, made with the defaults the first time."""
    found = RetentionSettings.objects.filter(corp=corp).first()
    if found is not None:
        return found
    now = clock.now()
    try:
        with transaction.atomic():
            return RetentionSettings.objects.create(
                corp=corp,
                reasons=list(DEFAULT_REASONS),
                delete_limit=DEFAULT_DELETE_LIMIT,
                pool_idle_days=DEFAULT_IDLE_DAYS,
                claim_limit=DEFAULT_CLAIM_LIMIT,
                pool_since=now,
                updated_at=now,
            )
    except IntegrityError:  # made by a concurrent caller
        return RetentionSettings.objects.get(corp=corp)


def may_manage_settings(access: Access) -> bool:
    return access.can(Action.MANAGE_CORP)


def require_manage_settings(access: Access) -> None:
    if not may_manage_settings(access):
        raise PermissionDenied(_("Only corp admins may change the churn and pool settings."))


def clean_reasons(values: Iterable[str]) -> list[str]:
    reasons = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    if len(reasons) > MAX_REASONS:
        raise ValidationError(
            {"reasons": _("At most %(n)d reasons.") % {"n": MAX_REASONS}}, code="reasons"
        )
    long = [r for r in reasons if len(r) > REASON_MAX]
    if long:
        raise ValidationError(
            {
                "reasons": _("A reason is at most %(n)d characters: %(reason)s")
                % {"n": REASON_MAX, "reason": long[0]}
            }
        )
    return reasons


def _bounded(field: str, value: int, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError(
            {
                field: _("Enter a whole number from %(low)d to %(high)d.")
                % {"low": low, "high": high}
            }
        )
    return value


@transaction.atomic
def update_settings(
    *,
    access: Access,
    alert_staff: bool,
    alert_manager: bool,
    delete_limit: int,
    reasons: Iterable[str],
    pool_idle_days: int,
    claim_limit: int,
) -> RetentionSettings:
    require_manage_settings(access)
    values = {
        "alert_staff": bool(alert_staff),
        "alert_manager": bool(alert_manager),
        "delete_limit": _bounded("delete_limit", delete_limit, 1, MAX_LIMIT),
        "reasons": clean_reasons(reasons),
        "pool_idle_days": _bounded("pool_idle_days", pool_idle_days, 0, MAX_DAYS),
        "claim_limit": _bounded("claim_limit", claim_limit, 0, MAX_LIMIT),
    }
    current = RetentionSettings.objects.select_for_update().get(pk=settings_for(access.corp).pk)
    before = {f: getattr(current, f) for f in SETTING_FIELDS}
    if before == values:
        return current
    now = clock.now()
    if not current.pool_idle_days and values["pool_idle_days"]:
        current.pool_since = now  # the idle rule switched on: count from now
    for key, value in values.items():
        setattr(current, key, value)
    current.updated_at = now
    current.save()
    changed = [f for f in SETTING_FIELDS if before[f] != values[f]]
    record(
        corp=access.corp,
        action="retention.settings",
        target=current,
        target_label=_("Churn and pool settings"),
        before={f: before[f] for f in changed},
        after={f: values[f] for f in changed},
    )
    return current


# --- who is told -----------------------------------------------------------------------------


def managers_of(staff: Staff) -> list[Staff]:
    """The leaders of the member's main department (or, when it has none but them, of the nearest
    department above it that has one), active members only, never the member themselves."""
    if staff.main_department is None:
        return []
    department = Department.objects.filter(corp_id=staff.corp_id, wecom_id=staff.main_department)
    department = department.first()
    if department is None:
        return []
    chain = [int(p) for p in department.path.strip("/").split("/") if p][::-1]  # nearest first
    leaders = (
        StaffDepartment.objects.filter(
            corp_id=staff.corp_id,
            department__wecom_id__in=chain,
            is_leader=True,
            staff__status=StaffStatus.ACTIVE,
        )
        .exclude(staff_id=staff.pk)
        .select_related("staff", "department")
    )
    by_department: dict[int, list[Staff]] = {}
    for row in leaders:
        by_department.setdefault(row.department.wecom_id, []).append(row.staff)
    for wecom_id in chain:
        if by_department.get(wecom_id):
            return sorted(by_department[wecom_id], key=lambda s: s.userid)
    return []


def _label(staff: Staff) -> str:
    return staff.name or staff.userid


def _console_url(name: str) -> str:
    return django_settings.QIKE_PUBLIC_URL + reverse(f"console:{name}")


def _claim_alert(model, pk: int) -> bool:
    """This worker's right to send one row's alert, once."""
    return bool(model.objects.filter(pk=pk, alert=AlertState.PENDING).update(alert=AlertState.SENT))


def _keep_outcome(model, pk: int, userids: list[str], text: str, corp: Corp) -> None:
    if not userids:
        model.objects.filter(pk=pk).update(
            alert=AlertState.NONE, alert_error=_("No manager to tell.")
        )
        return
    outcome = send_text(corp=corp, userids=userids, text=text)
    state = AlertState.SENT if outcome.reached else AlertState.FAILED
    if outcome.error:
        log.warning("retention.alert_failed corp=%s %s", corp.corpid, outcome.error)
    model.objects.filter(pk=pk).update(
        alert=state, alerted=outcome.reached, alert_error=outcome.error[:255]
    )


# --- churn -----------------------------------------------------------------------------------


def _stage_name(relation: FollowRelation) -> str:
    """The relation's stage when the lifecycle app tracks one ("" otherwise)."""
    try:
        from qike.lifecycle.models import RelationStage
    except ImportError:  # pragma: no cover - the lifecycle app is optional
        return ""
    found = RelationStage.objects.filter(relation=relation).select_related("stage").first()
    return found.stage.name if found else ""


@dataclass
class Lost:
    lost: LostCustomer | None
    created: bool = False


@transaction.atomic
def record_lost(
    *, corp: Corp, external_userid: str, userid: str, kind: str, at: dt.datetime | None
) -> Lost:
    """Open a lost-customer record for the relation the customers app just marked deleted.

    Does nothing when the event did not decide the relation's status (a stale or replayed event
    after a re-add); a repeated delivery finds the record it opened."""
    relation = (
        FollowRelation.objects.select_for_update()
        .filter(corp=corp, customer__external_userid=external_userid, staff__userid=userid)
        .first()
    )
    if relation is None or relation.status != kind:
        return Lost(None)
    at = relation.last_event_at if at is None else at
    if at is None or relation.last_event_at != at:
        return Lost(None)
    found = LostCustomer.objects.filter(relation=relation, lost_at=at).first()
    if found is not None:
        return Lost(found)
    conf = settings_for(corp)
    wants_alert = kind == LostKind.DELETED_BY_CUSTOMER and (conf.alert_staff or conf.alert_manager)
    lost = LostCustomer.objects.create(
        corp=corp,
        relation=relation,
        customer_id=relation.customer_id,
        staff_id=relation.staff_id,
        kind=kind,
        lost_at=at,
        state=relation.state,
        add_way=relation.add_way,
        stage=_stage_name(relation)[:32],
        alert=AlertState.PENDING if wants_alert else AlertState.NONE,
    )
    return Lost(lost, created=True)


def alert_lost(*, corp: Corp, lost_id: int) -> bool:
    """Tell the member (and, by setting, their manager) a customer deleted them; once."""
    if not _claim_alert(LostCustomer, lost_id):
        return False
    lost = LostCustomer.objects.select_related("customer", "staff").get(pk=lost_id)
    conf = settings_for(corp)
    customer = lost.customer.name or lost.customer.external_userid
    url = _console_url("lost_customers")
    userids = [lost.staff.userid] if conf.alert_staff else []
    if userids:
        text = _(
            "Customer %(customer)s deleted you on WeCom. Record why in Qike, or try to win them "
            "back: %(url)s"
        ) % {"customer": customer, "url": url}
        outcome = send_text(corp=corp, userids=userids, text=text)
        if not outcome.reached:
            log.warning("retention.alert_failed corp=%s %s", corp.corpid, outcome.error)
            LostCustomer.objects.filter(pk=lost_id).update(
                alert=AlertState.FAILED, alert_error=outcome.error[:255]
            )
            return False
    reached = list(userids)
    errors = []
    if conf.alert_manager:
        managers = [m.userid for m in managers_of(lost.staff)]
        if managers:
            text = _(
                "Customer %(customer)s deleted your team member %(staff)s on WeCom. "
                "Lost customers: %(url)s"
            ) % {"customer": customer, "staff": _label(lost.staff), "url": url}
            outcome = send_text(corp=corp, userids=managers, text=text)
            reached += outcome.reached
            errors.append(outcome.error)
    LostCustomer.objects.filter(pk=lost_id).update(
        alert=AlertState.SENT if reached else AlertState.NONE,
        alerted=reached,
        alert_error=" ".join(e for e in errors if e)[:255],
    )
    return bool(reached)


def deletions_on(*, corp: Corp, staff_id: int, day: dt.date) -> int:
    start, end = _day_bounds(day)
    return LostCustomer.objects.filter(
        corp=corp,
        staff_id=staff_id,
        kind=LostKind.DELETED_BY_STAFF,
        lost_at__gte=start,
        lost_at__lt=end,
    ).count()


def check_deletions(*, corp: Corp, lost: LostCustomer) -> DeletionAlert | None:
    """After a member deleted a customer: past the corp's daily limit, open (once a day) the alert
    to their manager. Returns the alert when this call opened it."""
    day = local_day(lost.lost_at)
    count = deletions_on(corp=corp, staff_id=lost.staff_id, day=day)
    if count <= settings_for(corp).delete_limit:
        return None
    alert, created = DeletionAlert.objects.get_or_create(
        corp=corp,
        staff_id=lost.staff_id,
        day=day,
        defaults={"count": count, "created_at": clock.now()},
    )
    if not created:
        DeletionAlert.objects.filter(pk=alert.pk, count__lt=count).update(count=count)
        return None
    return alert


def alert_deletions(*, corp: Corp, alert_id: int) -> bool:
    if not _claim_alert(DeletionAlert, alert_id):
        return False
    alert = DeletionAlert.objects.select_related("staff").get(pk=alert_id)
    limit = settings_for(corp).delete_limit
    text = _(
        "%(staff)s deleted %(count)d customers on %(day)s, more than the %(limit)d a day your "
        "corp allows. Lost customers: %(url)s"
    ) % {
        "staff": _label(alert.staff),
        "count": deletions_on(corp=corp, staff_id=alert.staff_id, day=alert.day),
        "day": alert.day.isoformat(),
        "limit": limit,
        "url": _console_url("lost_customers"),
    }
    _keep_outcome(DeletionAlert, alert_id, [m.userid for m in managers_of(alert.staff)], text, corp)
    return True


@transaction.atomic
def mark_won_back(*, corp: Corp, external_userid: str, userid: str, at: dt.datetime | None) -> int:
    """The member and the customer are friends again: their open records are won back."""
    relation = FollowRelation.objects.filter(
        corp=corp, customer__external_userid=external_userid, staff__userid=userid
    ).first()
    if relation is None or relation.status != RelationStatus.ACTIVE or relation.is_half:
        return 0
    at = at or clock.now()
    return LostCustomer.objects.filter(
        relation=relation, won_back_at__isnull=True, lost_at__lte=at
    ).update(won_back_at=at)


def lost_in_scope(access: Access) -> QuerySet[LostCustomer]:
    access.require(Action.VIEW_CUSTOMERS)
    return LostCustomer.objects.filter(access.staff_filter("staff__"), corp=access.corp)


def get_lost(access: Access, pk: int) -> LostCustomer:
    lost = LostCustomer.objects.filter(corp=access.corp, pk=pk).select_related("staff").first()
    if lost is None:
        raise Http404
    if not lost_in_scope(access).filter(pk=pk).exists():
        raise PermissionDenied(_("This customer was lost by a staff member outside your scope."))
    return lost


@transaction.atomic
def set_reason(*, access: Access, lost: LostCustomer, reason: str, note: str = "") -> LostCustomer:
    """Record why a customer was lost: one of the corp's reasons (or none) and a free note."""
    lost = get_lost(access, lost.pk)
    reason = (reason or "").strip()
    note = (note or "").strip()
    if reason and reason not in settings_for(access.corp).reasons:
        raise ValidationError({"reason": _("Choose one of the corp's reasons.")})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("A note is at most %(n)d characters.") % {"n": NOTE_MAX}})
    before = {"reason": lost.reason, "note": lost.reason_note}
    lost.reason, lost.reason_note = reason, note
    lost.reason_at = clock.now()
    actor = current_actor()
    lost.reason_by = (actor.name if actor else "")[:150]
    lost.save(update_fields=["reason", "reason_note", "reason_at", "reason_by"])
    record(
        corp=access.corp,
        action="retention.reason",
        target=lost,
        target_label=str(lost.customer),
        before=before,
        after={"reason": reason, "note": note},
    )
    return lost


@dataclass
class StatRow:
    key: str
    label: str
    lost: int = 0
    won_back: int = 0
    by_staff: int = 0  # deletions by the member among `lost`


def _bucket(rows: dict[str, StatRow], key: str, label: str, item: dict) -> None:
    row = rows.setdefault(key, StatRow(key, label))
    row.lost += 1
    row.won_back += item["won_back_at"] is not None
    row.by_staff += item["kind"] == LostKind.DELETED_BY_STAFF


def churn_stats(*, access: Access, start: dt.date, end: dt.date) -> dict[str, list[StatRow]]:
    """Lost customers between two local days (both included), by staff, channel and stage."""
    if end < start:
        raise ValidationError(_("The end date is before the start date."))
    if (end - start).days > 366:
        raise ValidationError(_("Choose at most a year."))
    lo, _unused = _day_bounds(start)
    _unused, hi = _day_bounds(end)
    rows = lost_in_scope(access).filter(lost_at__gte=lo, lost_at__lt=hi)
    items = rows.values(
        "kind", "won_back_at", "state", "add_way", "stage", "staff__userid", "staff__name"
    )
    staff: dict[str, StatRow] = {}
    channel: dict[str, StatRow] = {}
    stage: dict[str, StatRow] = {}
    total: dict[str, StatRow] = {}
    for item in items.iterator():
        _bucket(total, "", _("All"), item)
        userid = item["staff__userid"]
        _bucket(staff, userid, item["staff__name"] or userid, item)
        if item["state"]:
            key, label = f"state:{item['state']}", item["state"]
        else:
            key, label = f"add_way:{item['add_way']}", _("add way %(n)d") % {"n": item["add_way"]}
        _bucket(channel, key, label, item)
        _bucket(stage, item["stage"], item["stage"] or _("No stage"), item)

    def ordered(rows: dict[str, StatRow]) -> list[StatRow]:
        return sorted(rows.values(), key=lambda r: (-r.lost, r.label))

    return {
        "total": ordered(total),
        "staff": ordered(staff),
        "channel": ordered(channel),
        "stage": ordered(stage),
    }


# --- the shared pool -------------------------------------------------------------------------


def _pool_timeline(
    corp: Corp, customer_id: int, event: str, label: str, staff_id: int | None = None
) -> TimelineEntry:
    return add_timeline(
        corp=corp,
        customer_id=customer_id,
        staff_id=staff_id,
        kind=TimelineKind.POOL,
        data={"event": event, "label": label},
    )


def _active_follow(customer_ref) -> Exists:
    return Exists(
        FollowRelation.objects.filter(
            customer_id=customer_ref,
            status=RelationStatus.ACTIVE,
            staff__status=StaffStatus.ACTIVE,
        )
    )


def _kept_by_owner(customer_ref) -> Exists:
    return Exists(
        PoolEntry.objects.filter(
            customer_id=customer_ref, status=PoolStatus.CLAIMED, owner__status=StaffStatus.ACTIVE
        )
    )


def _in_pool(customer_ref) -> Exists:
    return Exists(PoolEntry.objects.filter(customer_id=customer_ref, status=PoolStatus.IN_POOL))


def _worked_since(customer_ref, since: dt.datetime) -> Q:
    return Exists(
        TimelineEntry.objects.filter(
            customer_id=customer_ref, staff__isnull=False, occurred_at__gte=since
        )
    ) | Exists(FollowRelation.objects.filter(customer_id=customer_ref, last_event_at__gte=since))


def _last_follower(customer_id: int) -> int | None:
    return (
        FollowRelation.objects.filter(customer_id=customer_id)
        .order_by("-status_changed_at", "-added_at", "-pk")
        .values_list("staff_id", flat=True)
        .first()
    )


def _owner_or_follower(customer_id: int) -> int | None:
    owner = (
        PoolEntry.objects.filter(customer_id=customer_id, status=PoolStatus.CLAIMED)
        .values_list("owner_id", flat=True)
        .first()
    )
    return owner or _last_follower(customer_id)


def _put_in_pool(
    corp: Corp, customer_id: int, reason: str, from_staff_id: int | None, now: dt.datetime
) -> PoolEntry:
    entry, _created = PoolEntry.objects.update_or_create(
        customer_id=customer_id,
        defaults={
            "corp": corp,
            "status": PoolStatus.IN_POOL,
            "reason": reason,
            "from_staff_id": from_staff_id,
            "pooled_at": now,
            "owner": None,
            "claimed_at": None,
        },
    )
    return entry


def _return_label(reason: str, days: int = 0) -> str:
    if reason == PoolReason.IDLE:
        return _("Returned to the shared pool: not worked for %(days)d days") % {"days": days}
    if reason == PoolReason.NO_FOLLOWER:
        return _("Returned to the shared pool: no active follower")
    return _("Given back to the shared pool")


def _return_batch(corp: Corp, ids: list[int], reason: str, days: int) -> int:
    now = clock.now()
    label = _return_label(reason, days)
    done = 0
    for customer_id in ids:
        with transaction.atomic():
            # Checked again under the lock: a claim may have raced the job.
            entry = PoolEntry.objects.select_for_update().filter(customer_id=customer_id).first()
            if entry is not None and entry.status == PoolStatus.IN_POOL:
                continue
            _put_in_pool(corp, customer_id, reason, _owner_or_follower(customer_id), now)
            _pool_timeline(corp, customer_id, "returned", label)
            done += 1
    return done


def due_for_pool(corp: Corp, now: dt.datetime | None = None) -> dict[str, QuerySet]:
    """Customers the pool should take now, by reason (querysets of customer ids)."""
    now = now or clock.now()
    conf = settings_for(corp)
    ref = OuterRef("pk")
    base = Customer.objects.filter(corp=corp).exclude(_in_pool(ref))
    unfollowed = base.exclude(_active_follow(ref)).exclude(_kept_by_owner(ref))
    due = {PoolReason.NO_FOLLOWER: unfollowed.values_list("pk", flat=True)}
    if conf.pool_idle_days:
        since = now - dt.timedelta(days=conf.pool_idle_days)
        if since >= conf.pool_since:
            idle = base.filter(_active_follow(ref) | _kept_by_owner(ref)).exclude(
                _worked_since(ref, since)
            )
            due[PoolReason.IDLE] = idle.values_list("pk", flat=True)
    return due


def return_to_pool(*, corp: Corp) -> int:
    """The periodic job's work for one corp: customers without an active follower, or not worked
    for the corp's days, go to the pool, each with a timeline entry. Idempotent."""
    days = settings_for(corp).pool_idle_days
    done = 0
    for reason, ids in due_for_pool(corp).items():
        found = list(ids.order_by("pk"))
        for start in range(0, len(found), CHUNK):
            done += _return_batch(corp, found[start : start + CHUNK], reason, days)
    if done:
        record(
            corp=corp,
            action="retention.pool_return",
            target_type="retention.poolentry",
            target_label=_("%(n)d customers returned to the shared pool") % {"n": done},
            after={"count": done},
        )
    return done


def customer_id_of(access: Access, external_userid: str) -> int:
    pk = (
        Customer.objects.filter(corp=access.corp, external_userid=external_userid)
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        raise Http404
    return pk


def pool_in_corp(access: Access) -> QuerySet[PoolEntry]:
    """What is in the pool. Everyone who may see customers may see and claim from it."""
    access.require(Action.VIEW_CUSTOMERS)
    return PoolEntry.objects.filter(corp=access.corp, status=PoolStatus.IN_POOL)


def claims_today(*, corp: Corp, staff_id: int) -> int:
    return Claim.objects.filter(corp=corp, staff_id=staff_id, day=local_day(clock.now())).count()


def claims_left(access: Access) -> int | None:
    """Claims the user's member has left today (None: the user is no member)."""
    if not access.staff_id:
        return None
    limit = settings_for(access.corp).claim_limit
    return max(0, limit - claims_today(corp=access.corp, staff_id=access.staff_id))


def _claimer(access: Access, userid: str) -> Staff:
    access.require(Action.VIEW_CUSTOMERS)
    if userid:
        if not (access.corp_wide or access.role == Role.MANAGER):
            raise PermissionDenied(_("Staff claim customers for themselves only."))
        staff = Staff.objects.filter(access.staff_filter(), corp=access.corp, userid=userid)
        staff = staff.first()
        if staff is None:
            raise ValidationError(
                {"staff": _("No staff member %(u)s in your scope.") % {"u": userid}}
            )
    else:
        if not access.staff_id:
            raise ValidationError(
                {"staff": _("Your account is not linked to a WeCom member: choose a member.")}
            )
        staff = Staff.objects.get(pk=access.staff_id)
    if staff.status != StaffStatus.ACTIVE:
        raise ValidationError({"staff": _("%(u)s is not an active member.") % {"u": staff.userid}})
    return staff


def _pool_entry(access: Access, customer_id: int) -> PoolEntry | None:
    entry = (
        PoolEntry.objects.select_for_update()
        .filter(corp=access.corp, customer_id=customer_id)
        .first()
    )
    if entry is None and not Customer.objects.filter(corp=access.corp, pk=customer_id).exists():
        raise Http404
    return entry


@dataclass
class Claimed:
    claim: Claim
    entry: PoolEntry


@transaction.atomic
def _take(access: Access, customer_id: int, userid: str) -> Claimed:
    staff = _claimer(access, userid)
    entry = _pool_entry(access, customer_id)
    if entry is None or entry.status != PoolStatus.IN_POOL:
        raise ValidationError(_("This customer is no longer in the shared pool."))
    Staff.objects.select_for_update().filter(pk=staff.pk).first()  # one claim at a time per member
    limit = settings_for(access.corp).claim_limit
    if claims_today(corp=access.corp, staff_id=staff.pk) >= limit:
        raise ValidationError(
            _(
                "%(staff)s has claimed %(limit)d customers today, the daily limit. "
                "Claim more tomorrow."
            )
            % {"staff": _label(staff), "limit": limit}
        )
    now = clock.now()
    claim = Claim.objects.create(
        corp=access.corp, customer_id=customer_id, staff=staff, at=now, day=local_day(now)
    )
    entry.status, entry.owner, entry.claimed_at = PoolStatus.CLAIMED, staff, now
    entry.save(update_fields=["status", "owner", "claimed_at"])
    _pool_timeline(
        access.corp,
        customer_id,
        "claimed",
        _("Claimed from the shared pool by %(staff)s") % {"staff": _label(staff)},
        staff_id=staff.pk,
    )
    record(
        corp=access.corp,
        action="retention.claim",
        target=entry.customer,
        before={"status": PoolStatus.IN_POOL, "reason": entry.reason},
        after={"status": PoolStatus.CLAIMED, "owner": staff.userid},
    )
    return Claimed(claim, entry)


def claim(*, access: Access, customer_id: int, userid: str = "") -> Claim:
    """Take a customer from the pool for the user's member (or, for managers and corp-wide roles,
    for `userid`), within the corp's daily limit. The member becomes the customer's owner in Qike;
    a customer still followed by another member is handed over to them (on-job transfer)."""
    taken = _take(access, customer_id, userid)
    _hand_over(access.corp, taken.claim)
    return taken.claim


def _hand_over(corp: Corp, claim: Claim) -> None:
    """Start an on-job transfer from the customer's current follower to the claimer, when the
    transfers app offers it. The claim stands whatever WeCom answers; the outcome is kept."""
    relations = FollowRelation.objects.filter(
        corp=corp, customer_id=claim.customer_id, status=RelationStatus.ACTIVE
    )
    if relations.filter(staff_id=claim.staff_id).exists():
        return  # already their customer in WeCom
    handover = (
        relations.filter(staff__status=StaffStatus.ACTIVE)
        .select_related("staff", "customer")
        .order_by("-added_at")
        .first()
    )
    if handover is None:
        return  # nobody to hand over from: the member contacts the customer themselves
    note = ""
    try:
        from qike.transfers.services import start_onjob
    except ImportError:  # pragma: no cover - hook for corps without the transfers app
        start_onjob = None
    if start_onjob is None:
        note = _("No transfer started: transfers are not available.")
    else:
        from qike.wecom.errors import WeComError

        # The pool's rule authorises the hand-over, not the claimer's role.
        system = Access(corp=corp, role=Role.OPERATIONS)
        try:
            started = start_onjob(
                access=system,
                handover_userid=handover.staff.userid,
                takeover_userid=claim.staff.userid,
                external_userids=[handover.customer.external_userid],
            )
            claim.transfer_id = started.transfer.pk
        except (ValidationError, PermissionDenied, WeComError) as exc:
            note = " ".join(getattr(exc, "messages", None) or [str(exc)])
        except Exception:  # the claim is made: keep it, and say the hand-over did not start
            log.exception("retention.transfer_failed corp=%s claim=%s", corp.corpid, claim.pk)
            note = _("The transfer could not be started; start it from the transfers page.")
    claim.transfer_note = note[:255]
    claim.save(update_fields=["transfer_id", "transfer_note"])


@transaction.atomic
def give_back(*, access: Access, customer_id: int) -> PoolEntry:
    """Put a customer back in the pool: their owner or a member following them, or a manager /
    corp-wide role for a customer in their scope."""
    access.require(Action.VIEW_CUSTOMERS)
    entry = _pool_entry(access, customer_id)
    if entry is not None and entry.status == PoolStatus.IN_POOL:
        raise ValidationError(_("This customer is already in the shared pool."))
    followers = FollowRelation.objects.filter(
        corp=access.corp, customer_id=customer_id, status=RelationStatus.ACTIVE
    )
    owns = entry is not None and entry.owner_id is not None
    mine = access.staff_id and (
        (owns and entry.owner_id == access.staff_id)
        or followers.filter(staff_id=access.staff_id).exists()
    )
    in_scope = access.role != Role.STAFF and (
        access.corp_wide
        or followers.filter(access.staff_filter("staff__")).exists()
        or (owns and Staff.objects.filter(access.staff_filter(), pk=entry.owner_id).exists())
    )
    if not (mine or in_scope):
        raise PermissionDenied(_("Only the customer's owner or a follower may give them back."))
    before = {"status": entry.status if entry else "", "owner": entry.owner_id if entry else None}
    from_staff = access.staff_id if mine else _owner_or_follower(customer_id)
    entry = _put_in_pool(access.corp, customer_id, PoolReason.GIVEN_BACK, from_staff, clock.now())
    _pool_timeline(
        access.corp,
        customer_id,
        "given_back",
        _return_label(PoolReason.GIVEN_BACK),
        staff_id=from_staff,
    )
    record(
        corp=access.corp,
        action="retention.give_back",
        target=entry.customer,
        before=before,
        after={"status": PoolStatus.IN_POOL, "reason": PoolReason.GIVEN_BACK},
    )
    return entry


def owned_by(access: Access) -> QuerySet[PoolEntry]:
    """Customers the user's member claimed and still owns."""
    if not access.staff_id:
        return PoolEntry.objects.none()
    return PoolEntry.objects.filter(
        corp=access.corp, status=PoolStatus.CLAIMED, owner_id=access.staff_id
    )


def filter_lost(
    rows: QuerySet[LostCustomer],
    *,
    staff: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
    reason: str = "",
    won_back: bool | None = None,
    kind: str = "",
) -> QuerySet[LostCustomer]:
    """The lost-customer list's filters (console and API alike). `reason` "-": none recorded."""
    if staff:
        rows = rows.filter(staff__userid=staff)
    if start:
        rows = rows.filter(lost_at__gte=_day_bounds(start)[0])
    if end:
        rows = rows.filter(lost_at__lt=_day_bounds(end)[1])
    if reason == "-":
        rows = rows.filter(reason="")
    elif reason:
        rows = rows.filter(reason=reason)
    if won_back is not None:
        rows = rows.filter(won_back_at__isnull=not won_back)
    if kind:
        rows = rows.filter(kind=kind)
    return rows


def default_range() -> tuple[dt.date, dt.date]:
    """The last 30 local days, today included."""
    today = local_day(clock.now())
    return today - dt.timedelta(days=29), today
