"""Handing customers over (在职继承 / 离职继承): pre-flight, start (WeCom first), follow the
results, and once a takeover is done let everything kept per relation move with the customer.

WeCom's rules (API-FACTS §3.5, §8): ≤ 100 customers per call; errcode 0 only *starts* the
hand-over, the takeover happens 24 hours later unless the customer refuses (status 3) or the
takeover member is at their customer limit (status 4); an on-job customer can be transferred at
most twice within 90 days (40128).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qike.audit.context import current_actor
from qike.audit.services import record
from qike.core import clock
from qike.core.aggregates import counts_per
from qike.core.models import Corp
from qike.core.services import client_for
from qike.customers.handover import move_with_customer
from qike.customers.models import Customer, FollowRelation, RelationStatus, TimelineKind
from qike.customers.services import add_timeline
from qike.org.access import Access, Action
from qike.org.models import Staff, StaffStatus
from qike.transfers.models import (
    MAX_MESSAGE,
    WECOM_STATUS,
    ItemStatus,
    Transfer,
    TransferItem,
    TransferKind,
)
from qike.wecom import errors
from qike.wecom.client import TRANSFER_BATCH
from qike.wecom.errors import WeComError, WeComTransportError

log = logging.getLogger("qike.transfers")

FREQUENCY_WINDOW = dt.timedelta(days=90)
FREQUENCY_MAX = 2  # on-job transfers of one customer within 90 days (WeCom answers 40128)
TOO_OFTEN = 40128
MAX_CUSTOMERS = 2000  # per start: 20 WeCom calls
MAX_TAKEOVERS = 50


# --- who may ---------------------------------------------------------------------------------


def may_transfer(access: Access) -> bool:
    """Corp admins, operations and managers (for the staff in their departments)."""
    return access.can(Action.TRANSFER_CUSTOMERS)


def require_transfer(access: Access) -> None:
    if not may_transfer(access):
        raise PermissionDenied(_("Your role may not transfer customers."))


def transfers_in_scope(access: Access) -> QuerySet[Transfer]:
    require_transfer(access)
    return Transfer.objects.filter(access.staff_filter("handover__"), corp=access.corp)


def get_transfer(access: Access, pk: int) -> Transfer:
    transfer = (
        Transfer.objects.filter(corp=access.corp, pk=pk)
        .select_related("handover", "takeover")
        .first()
    )
    if transfer is None:
        raise Http404
    if not transfers_in_scope(access).filter(pk=pk).exists():
        raise PermissionDenied(_("This transfer is outside your scope."))
    return transfer


def _staff(access: Access, userid: str, *, statuses: Iterable[int]) -> Staff:
    staff = Staff.objects.filter(corp=access.corp, userid=(userid or "").strip()).first()
    if staff is None:
        raise ValidationError(_("No staff member with UserID %(id)s.") % {"id": userid or "-"})
    if not Staff.objects.filter(access.staff_filter(), pk=staff.pk).exists():
        raise PermissionDenied(_("%(name)s is outside your scope.") % {"name": staff})
    if staff.status not in statuses:
        if staff.status == StaffStatus.LEFT:
            raise ValidationError(_("%(name)s has left the corp.") % {"name": staff})
        raise ValidationError(_("%(name)s is not an active staff member.") % {"name": staff})
    return staff


def _external_ids(values: Sequence[str]) -> list[str]:
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise ValidationError(_("Customers must be a list of external UserIDs."))
    ids = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    if not ids:
        raise ValidationError(_("Choose at least one customer."))
    if len(ids) > MAX_CUSTOMERS:
        raise ValidationError(_("At most %(n)d customers per transfer.") % {"n": MAX_CUSTOMERS})
    if any(len(v) > 64 for v in ids):
        raise ValidationError(_("An external UserID has at most 64 characters."))
    return ids


# --- pre-flight ------------------------------------------------------------------------------

NOT_FOLLOWER = "not_follower"
IN_TRANSFER = "in_transfer"
TOO_OFTEN_REASON = "twice_in_90_days"
TAKEOVER_FOLLOWS = "takeover_follows"

HOLD_REASONS = {
    NOT_FOLLOWER: gettext_lazy("the handover does not follow this customer (any more)"),
    IN_TRANSFER: gettext_lazy("already in a transfer waiting for takeover"),
    TOO_OFTEN_REASON: gettext_lazy("already transferred twice within 90 days"),
    TAKEOVER_FOLLOWS: gettext_lazy("the takeover already follows this customer"),
}


@dataclass
class Preflight:
    """Who would go and who WeCom would refuse (held back, with the reason)."""

    handover: Staff
    takeover: Staff
    ready: list[str] = field(default_factory=list)
    held: dict[str, str] = field(default_factory=dict)  # external_userid → reason
    names: dict[str, str] = field(default_factory=dict)  # external_userid → customer name


def _recent_onjob(corp: Corp, ids: list[str]) -> tuple[Counter, set[str]]:
    """Transfers WeCom started within 90 days per customer, and customers WeCom answered 40128
    for within 90 days (transfers made outside Qike count there too)."""
    since = clock.now() - FREQUENCY_WINDOW
    recent = TransferItem.objects.filter(
        corp=corp,
        transfer__kind=TransferKind.ONJOB,
        external_userid__in=ids,
        started_at__gt=since,
    )
    counts = Counter(
        dict(
            recent.filter(errcode=0)
            .values_list("external_userid")
            .annotate(n=Count("id"))
            .values_list("external_userid", "n")
        )
    )
    refused = set(recent.filter(errcode=TOO_OFTEN).values_list("external_userid", flat=True))
    return counts, refused


def _waiting(corp: Corp, ids: list[str]) -> set[str]:
    return set(
        TransferItem.objects.filter(
            corp=corp, external_userid__in=ids, status=ItemStatus.WAITING
        ).values_list("external_userid", flat=True)
    )


def preflight(
    *, access: Access, handover_userid: str, takeover_userid: str, external_userids: Sequence[str]
) -> Preflight:
    """Check an on-job transfer before anything is sent: customers WeCom would refuse are held."""
    require_transfer(access)
    ids = _external_ids(external_userids)
    handover = _staff(access, handover_userid, statuses=(StaffStatus.ACTIVE, StaffStatus.DISABLED))
    takeover = _staff(access, takeover_userid, statuses=(StaffStatus.ACTIVE,))
    if handover.pk == takeover.pk:
        raise ValidationError(_("The handover and the takeover must be different staff members."))
    corp = access.corp
    customers = {
        c.external_userid: c for c in Customer.objects.filter(corp=corp, external_userid__in=ids)
    }
    relations = {
        r.customer_id: r
        for r in FollowRelation.objects.filter(
            corp=corp, staff=handover, customer__in=customers.values()
        )
    }
    taken = set(
        FollowRelation.objects.filter(
            corp=corp,
            staff=takeover,
            customer__in=customers.values(),
            status=RelationStatus.ACTIVE,
        ).values_list("customer_id", flat=True)
    )
    waiting = _waiting(corp, ids)
    counts, refused = _recent_onjob(corp, ids)
    result = Preflight(handover=handover, takeover=takeover)
    for ext in ids:
        customer = customers.get(ext)
        relation = relations.get(customer.pk) if customer else None
        if customer is not None:
            result.names[ext] = customer.name or ext
        if relation is None or relation.status != RelationStatus.ACTIVE or relation.is_half:
            result.held[ext] = NOT_FOLLOWER
        elif ext in waiting:
            result.held[ext] = IN_TRANSFER
        elif counts[ext] >= FREQUENCY_MAX or ext in refused:
            result.held[ext] = TOO_OFTEN_REASON
        elif customer.pk in taken:
            result.held[ext] = TAKEOVER_FOLLOWS
        else:
            result.ready.append(ext)
    return result


# --- starting --------------------------------------------------------------------------------


@dataclass
class Started:
    transfer: Transfer
    held: dict[str, str]


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ask_wecom(
    corp: Corp, *, kind: str, handover: Staff, takeover: Staff, ids: list[str], message: str
) -> dict[str, int]:
    """transfer_customer in calls of ≤ 100: errcode per customer. WeCom refusing the very first
    call (a bad member, say) raises and nothing is recorded; a later call's refusal is recorded
    as that errcode for its customers. A network failure leaves WeCom's answer unknown: those
    customers are recorded as waiting with the transport errcode, and the next poll settles them."""
    answers: dict[str, int] = {}
    with client_for(corp) as client:
        for chunk in _chunks(ids, TRANSFER_BATCH):
            try:
                rows = client.transfer_customer(
                    handover_userid=handover.userid,
                    takeover_userid=takeover.userid,
                    external_userids=chunk,
                    transfer_success_msg=message,
                    resigned=kind == TransferKind.RESIGNED,
                )
            except WeComTransportError as exc:
                rows = [{"external_userid": e, "errcode": exc.errcode} for e in chunk]
            except WeComError as exc:
                if not answers:
                    raise
                rows = [{"external_userid": e, "errcode": exc.errcode} for e in chunk]
            for row in rows:
                answers[str(row.get("external_userid"))] = int(row.get("errcode") or 0)
            for ext in chunk:
                answers.setdefault(ext, errors.BAD_RESPONSE)  # WeCom said nothing about it
    return {ext: answers[ext] for ext in ids}


def _transfer_data(transfer: Transfer, event: str) -> dict:
    return {
        "transfer": {
            "event": event,
            "id": transfer.pk,
            "kind": transfer.kind,
            "from": transfer.handover.userid,
            "to": transfer.takeover.userid,
        }
    }


def _send(
    corp: Corp,
    *,
    kind: str,
    handover: Staff,
    takeover: Staff,
    ids: list[str],
    message: str = "",
    held: dict[str, str] | None = None,
) -> Transfer:
    answers = _ask_wecom(
        corp, kind=kind, handover=handover, takeover=takeover, ids=ids, message=message
    )
    now = clock.now()
    actor = current_actor()
    customers = {
        c.external_userid: c for c in Customer.objects.filter(corp=corp, external_userid__in=ids)
    }
    with transaction.atomic():
        transfer = Transfer.objects.create(
            corp=corp,
            kind=kind,
            handover=handover,
            takeover=takeover,
            message=message,
            created_by=(actor.name if actor else "")[:150],
            created_at=now,
        )
        items = []
        for ext, errcode in answers.items():
            started = errcode == 0 or errcode in (errors.TRANSPORT_ERROR, errors.BAD_RESPONSE)
            customer = customers.get(ext)
            items.append(
                TransferItem(
                    corp=corp,
                    transfer=transfer,
                    customer=customer,
                    external_userid=ext,
                    status=ItemStatus.WAITING if started else ItemStatus.FAILED,
                    errcode=errcode,
                    started_at=now,
                    finished_at=None if started else now,
                )
            )
            if customer is not None:
                add_timeline(
                    corp=corp,
                    customer_id=customer.pk,
                    staff_id=handover.pk,
                    kind=TimelineKind.TRANSFER,
                    occurred_at=now,
                    actor=transfer.created_by,
                    data=_transfer_data(transfer, "started" if started else "failed")
                    | ({} if started else {"errcode": errcode}),
                )
        TransferItem.objects.bulk_create(items)
        record(
            corp=corp,
            action="transfers.start",
            target=transfer,
            after={
                "kind": kind,
                "handover": handover.userid,
                "takeover": takeover.userid,
                "customers": [e for e, code in answers.items() if code == 0],
                "failed": {e: code for e, code in answers.items() if code != 0},
                "held": held or {},
            },
        )
    return transfer


def start_onjob(
    *,
    access: Access,
    handover_userid: str,
    takeover_userid: str,
    external_userids: Sequence[str],
    message: str = "",
) -> Started:
    """Pre-flight, then give the ready customers to the takeover (≤ 100 per WeCom call)."""
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise ValidationError(
            _("The transfer message is at most %(n)d characters.") % {"n": MAX_MESSAGE}
        )
    check = preflight(
        access=access,
        handover_userid=handover_userid,
        takeover_userid=takeover_userid,
        external_userids=external_userids,
    )
    if not check.ready:
        raise ValidationError(
            _("None of these customers can be transferred now; see the pre-flight.")
        )
    transfer = _send(
        access.corp,
        kind=TransferKind.ONJOB,
        handover=check.handover,
        takeover=check.takeover,
        ids=check.ready,
        message=message,
        held=check.held,
    )
    return Started(transfer=transfer, held=check.held)


# --- resigned staff --------------------------------------------------------------------------


@dataclass
class Unassigned:
    handover_userid: str
    external_userid: str
    left_at: dt.datetime | None
    handover: Staff | None = None
    customer: Customer | None = None


def unassigned(*, access: Access, handover_userid: str = "") -> list[Unassigned]:
    """Customers of departed staff not yet handed over (WeCom's get_unassigned_list, every page),
    for departed staff in the user's scope; customers in a waiting transfer are left out."""
    require_transfer(access)
    corp = access.corp
    with client_for(corp) as client:
        rows = [row for page in client.iter_unassigned_list() for row in page]
    if handover_userid:
        rows = [r for r in rows if r.get("handover_userid") == handover_userid]
    userids = {r.get("handover_userid", "") for r in rows}
    staff = {
        s.userid: s
        for s in Staff.objects.filter(access.staff_filter(), corp=corp, userid__in=userids)
    }
    ids = [r.get("external_userid", "") for r in rows]
    customers = {
        c.external_userid: c for c in Customer.objects.filter(corp=corp, external_userid__in=ids)
    }
    waiting = _waiting(corp, ids)
    return [
        Unassigned(
            handover_userid=r["handover_userid"],
            external_userid=r["external_userid"],
            left_at=clock.from_timestamp(r.get("dimission_time")),
            handover=staff[r["handover_userid"]],
            customer=customers.get(r["external_userid"]),
        )
        for r in rows
        if r.get("handover_userid") in staff and r.get("external_userid") not in waiting
    ]


def reassign_resigned(
    *,
    access: Access,
    handover_userid: str,
    takeover_userids: Sequence[str],
    external_userids: Sequence[str] | None = None,
) -> list[Transfer]:
    """Give a departed member's unassigned customers (all, or those chosen) to one or several
    takeovers, shared out evenly; one transfer per takeover."""
    require_transfer(access)
    handover = _staff(access, handover_userid, statuses=(StaffStatus.LEFT,))
    wanted = list(dict.fromkeys(u.strip() for u in takeover_userids if u and u.strip()))
    if not wanted:
        raise ValidationError(_("Choose at least one takeover."))
    if len(wanted) > MAX_TAKEOVERS:
        raise ValidationError(_("At most %(n)d takeovers at once.") % {"n": MAX_TAKEOVERS})
    takeovers = [_staff(access, u, statuses=(StaffStatus.ACTIVE,)) for u in wanted]
    pending = [
        u.external_userid for u in unassigned(access=access, handover_userid=handover.userid)
    ]
    if external_userids is not None:
        ids = _external_ids(external_userids)
        unknown = [e for e in ids if e not in set(pending)]
        if unknown:
            raise ValidationError(
                _("Not unassigned customers of %(name)s: %(ids)s")
                % {"name": handover, "ids": "、".join(unknown[:10])}
            )
    else:
        ids = pending
        if not ids:
            raise ValidationError(_("%(name)s has no unassigned customers.") % {"name": handover})
        if len(ids) > MAX_CUSTOMERS:
            ids = ids[:MAX_CUSTOMERS]  # the rest stay listed for the next round
    shares = [ids[n :: len(takeovers)] for n in range(len(takeovers))]
    return [
        _send(
            access.corp, kind=TransferKind.RESIGNED, handover=handover, takeover=takeover, ids=share
        )
        for takeover, share in zip(takeovers, shares, strict=True)
        if share
    ]


# --- following the results -------------------------------------------------------------------


def _settle(corp: Corp, item: TransferItem, status: str, takeover_at: dt.datetime | None) -> bool:
    """Move a waiting item to `status` (in the caller's transaction); False when nothing changed."""
    item = (
        TransferItem.objects.select_for_update()
        .select_related("transfer__handover", "transfer__takeover")
        .get(pk=item.pk)
    )
    if item.status != ItemStatus.WAITING:
        return False
    if status == ItemStatus.WAITING:
        if takeover_at and item.takeover_at != takeover_at:
            item.takeover_at = takeover_at
            item.save(update_fields=["takeover_at"])
        return False
    item.status = status
    item.finished_at = clock.now()
    if takeover_at:
        item.takeover_at = takeover_at
    item.save(update_fields=["status", "finished_at", "takeover_at"])
    if item.customer_id is not None:
        transfer = item.transfer
        add_timeline(
            corp=corp,
            customer_id=item.customer_id,
            staff_id=(transfer.takeover_id if status == ItemStatus.DONE else transfer.handover_id),
            kind=TimelineKind.TRANSFER,
            occurred_at=takeover_at or item.finished_at,
            data=_transfer_data(transfer, status),
        )
    return True


def refresh(*, corp: Corp, transfer: Transfer) -> dict[str, str]:
    """Ask WeCom (transfer_result, every page) how the waiting customers stand and record it;
    then let what is kept per relation follow the customers taken over. Returns the changes."""
    waiting = {
        i.external_userid: i
        for i in TransferItem.objects.filter(transfer=transfer, status=ItemStatus.WAITING)
    }
    changes: dict[str, str] = {}
    if waiting:
        with client_for(corp) as client:
            rows = [
                row
                for page in client.iter_transfer_result(
                    handover_userid=transfer.handover.userid,
                    takeover_userid=transfer.takeover.userid,
                    resigned=transfer.kind == TransferKind.RESIGNED,
                )
                for row in page
            ]
        answered = {str(r.get("external_userid")): r for r in rows}
        with transaction.atomic():
            for ext, item in waiting.items():
                row = answered.get(ext)
                if row is None:
                    if item.errcode != 0:  # a start WeCom never confirmed: it did not happen
                        status, at = ItemStatus.FAILED, None
                    else:
                        continue
                else:
                    status = WECOM_STATUS.get(int(row.get("status") or 0))
                    if status is None:
                        continue
                    at = clock.from_timestamp(row.get("takeover_time"))
                if item.errcode != 0 and row is not None:
                    item.errcode = 0
                    item.save(update_fields=["errcode"])
                if _settle(corp, item, status, at):
                    changes[ext] = status
            Transfer.objects.filter(pk=transfer.pk).update(checked_at=clock.now())
            if changes:
                record(
                    corp=corp,
                    action="transfers.result",
                    target=transfer,
                    after={"results": changes},
                )
    move_done(corp=corp, transfer=transfer)
    return changes


def record_failure(*, corp: Corp, takeover_userid: str, external_userid: str, reason: str) -> bool:
    """A transfer_fail event: the customer refused, or the takeover is at their limit."""
    status = ItemStatus.REFUSED if reason == "customer_refused" else ItemStatus.LIMIT
    item = (
        TransferItem.objects.filter(
            corp=corp,
            external_userid=external_userid,
            status=ItemStatus.WAITING,
            transfer__kind=TransferKind.ONJOB,
            transfer__takeover__userid=takeover_userid,
        )
        .order_by("-pk")
        .first()
    )
    if item is None:
        return False
    with transaction.atomic():
        changed = _settle(corp, item, status, None)
        if changed:
            record(
                corp=corp,
                action="transfers.result",
                target=item.transfer,
                after={"results": {external_userid: status}, "reason": reason},
            )
    return changed


def waiting_transfer_of(*, corp: Corp, takeover_userid: str, external_userid: str):
    """The transfer waiting to give this customer to this member, if any."""
    item = (
        TransferItem.objects.filter(
            corp=corp,
            external_userid=external_userid,
            status=ItemStatus.WAITING,
            transfer__takeover__userid=takeover_userid,
        )
        .select_related("transfer__handover", "transfer__takeover")
        .first()
    )
    return item.transfer if item else None


# --- after the takeover ----------------------------------------------------------------------


def _relations(
    corp: Corp, item: TransferItem
) -> tuple[FollowRelation | None, FollowRelation | None]:
    transfer = item.transfer
    found = {
        r.staff_id: r
        for r in FollowRelation.objects.filter(
            corp=corp,
            customer__external_userid=item.external_userid,
            staff_id__in=[transfer.handover_id, transfer.takeover_id],
        ).select_related("customer", "staff")
    }
    return found.get(transfer.handover_id), found.get(transfer.takeover_id)


def move_done(*, corp: Corp, transfer: Transfer) -> int:
    """For customers taken over whose movers have not run: make sure Qike has the takeover's
    relation (the add event may still be on its way), then run every registered mover."""
    from qike.customers.handlers import refresh_customer

    moved = 0
    items = TransferItem.objects.filter(
        transfer=transfer, status=ItemStatus.DONE, moved_at__isnull=True
    ).select_related("transfer__handover", "transfer__takeover")
    for item in items:
        handover, takeover = _relations(corp, item)
        if takeover is None or takeover.status != RelationStatus.ACTIVE:
            refresh_customer(corp=corp, external_userid=item.external_userid)
            handover, takeover = _relations(corp, item)
        if handover is None or takeover is None:
            log.warning("transfers.move_pending item=%s", item.pk)
            continue
        move_with_customer(corp=corp, handover=handover, takeover=takeover)
        TransferItem.objects.filter(pk=item.pk).update(
            moved_at=clock.now(), customer=takeover.customer
        )
        moved += 1
    return moved


def open_transfers() -> QuerySet[Transfer]:
    """Transfers with customers still waiting, or taken over but not yet moved."""
    busy = TransferItem.objects.filter(
        Q(status=ItemStatus.WAITING) | Q(status=ItemStatus.DONE, moved_at__isnull=True)
    ).values("transfer_id")
    return Transfer.objects.filter(pk__in=busy).select_related("corp", "handover", "takeover")


def status_counts(transfers: Iterable[Transfer]) -> dict[int, dict[str, int]]:
    """{transfer id: {status: count}} in one query."""
    return counts_per(
        TransferItem.objects.all(), owner="transfer_id", value="status", owners=transfers
    )


def refresh_now(*, access: Access, transfer: Transfer) -> dict[str, str]:
    """ "Refresh now" from the console or the API."""
    require_transfer(access)
    if transfer.corp_id != access.corp.pk:
        raise PermissionDenied
    return refresh(corp=access.corp, transfer=transfer)
