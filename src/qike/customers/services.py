"""External contacts and follow relations, kept equal to WeCom.

Two kinds of writes:
- *data* from WeCom's API (`get`, `batch/get_by_user`): profile, remark, tags — the current truth,
  applied in bulk, page by page;
- *status* from events (add, delete by staff, delete by customer), applied only when the event is
  newer than the last one applied, so duplicated, replayed or out-of-order events can't undo a
  later change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from qike.core import clock
from qike.core.models import Corp
from qike.customers.mobiles import index_relations
from qike.customers.models import (
    Customer,
    FollowRelation,
    RelationStatus,
    TimelineEntry,
    TimelineKind,
)
from qike.org.models import Staff
from qike.org.services import ensure_staff
from qike.tags.services import resolve_tags, set_relation_tags

CUSTOMER_FIELDS = (
    "name",
    "avatar",
    "type",
    "gender",
    "unionid",
    "position",
    "corp_name",
    "corp_full_name",
)
RELATION_FIELDS = (
    "remark",
    "description",
    "remark_corp_name",
    "remark_mobiles",
    "oper_userid",
    "add_way",
    "state",
    "added_at",
)


@dataclass
class Follow:
    """One follow relation as WeCom describes it, from either `get` or `batch/get_by_user`."""

    userid: str
    values: dict
    tag_ids: list[str]
    tag_details: dict[str, dict] = field(default_factory=dict)


@dataclass
class Contact:
    external_userid: str
    values: dict
    follows: list[Follow]


def _customer_values(data: dict) -> dict:
    return {
        "name": data.get("name", "") or "",
        "avatar": data.get("avatar", "") or "",
        "type": int(data.get("type") or 1),
        "gender": int(data.get("gender") or 0),
        "unionid": data.get("unionid", "") or "",
        "position": data.get("position", "") or "",
        "corp_name": data.get("corp_name", "") or "",
        "corp_full_name": data.get("corp_full_name", "") or "",
    }


def _follow(data: dict) -> Follow:
    details = {t["tag_id"]: t for t in data.get("tags") or [] if t.get("tag_id")}
    tag_ids = list(data.get("tag_id") or details.keys())
    mobiles = [m for m in data.get("remark_mobiles") or [] if m]
    return Follow(
        userid=data["userid"],
        values={
            "remark": data.get("remark", "") or "",
            "description": data.get("description", "") or "",
            "remark_corp_name": data.get("remark_corp_name", "") or "",
            "remark_mobiles": mobiles,
            "oper_userid": data.get("oper_userid", "") or "",
            "add_way": int(data.get("add_way") or 0),
            "state": data.get("state", "") or "",
            # Never empty: lists page by it. WeCom always sends createtime; the fallback is for
            # relations Qike learns of from an event before it can read them.
            "added_at": clock.from_timestamp(data.get("createtime")) or clock.now(),
        },
        tag_ids=tag_ids,
        tag_details=details,
    )


def contact_from_get(answer: dict) -> Contact:
    """From `externalcontact/get`: one customer with all of its followers."""
    data = answer["external_contact"]
    return Contact(
        external_userid=data["external_userid"],
        values=_customer_values(data),
        follows=[_follow(f) for f in answer.get("follow_user") or []],
    )


def contacts_from_batch(items: Iterable[dict]) -> list[Contact]:
    """From `batch/get_by_user`: one entry per (customer, follower); merged per customer."""
    merged: dict[str, Contact] = {}
    for item in items:
        data = item["external_contact"]
        contact = merged.setdefault(
            data["external_userid"],
            Contact(data["external_userid"], _customer_values(data), []),
        )
        contact.follows.append(_follow(item["follow_info"]))
    return list(merged.values())


@dataclass
class ApplyResult:
    customers_created: int = 0
    relations_created: int = 0
    relations: list[int] = field(default_factory=list)


@transaction.atomic
def apply_contacts(
    *, corp: Corp, contacts: list[Contact], revive_staff_deleted: bool = False
) -> ApplyResult:
    """Write WeCom's current data for these customers and relations, in bulk.

    New relations start active. Existing relations keep their status, except that a full sync may
    `revive_staff_deleted`: WeCom listing a relation the member had deleted means it was re-added
    and Qike missed the event."""
    result = ApplyResult()
    if not contacts:
        return result
    customers = _upsert_customers(corp, contacts, result)
    staff = _staff_by_userid(corp, {f.userid for c in contacts for f in c.follows})
    relations = _upsert_relations(corp, contacts, customers, staff, revive_staff_deleted, result)
    index_relations(relations.values())  # bulk writes skip FollowRelation.save
    _apply_tags(corp, contacts, customers, staff, relations)
    result.relations = [r.pk for r in relations.values()]
    return result


def _upsert_customers(
    corp: Corp, contacts: list[Contact], result: ApplyResult
) -> dict[str, Customer]:
    ids = [c.external_userid for c in contacts]
    existing = {
        c.external_userid: c for c in Customer.objects.filter(corp=corp, external_userid__in=ids)
    }
    changed: list[Customer] = []
    fresh: list[Customer] = []
    for contact in contacts:
        customer = existing.get(contact.external_userid)
        if customer is None:
            fresh.append(
                Customer(corp=corp, external_userid=contact.external_userid, **contact.values)
            )
            continue
        if any(getattr(customer, k) != v for k, v in contact.values.items()):
            for key, value in contact.values.items():
                setattr(customer, key, value)
            changed.append(customer)
    if fresh:
        Customer.objects.bulk_create(fresh, ignore_conflicts=True)
        result.customers_created += len(fresh)
    if changed:
        now = clock.now()
        for customer in changed:
            customer.updated_at = now
        Customer.objects.bulk_update(changed, [*CUSTOMER_FIELDS, "updated_at"])
    if fresh:  # ignore_conflicts leaves pks unset: read them back
        existing = {
            c.external_userid: c
            for c in Customer.objects.filter(corp=corp, external_userid__in=ids)
        }
    else:
        existing.update({c.external_userid: c for c in changed})
    return existing


def _staff_by_userid(corp: Corp, userids: set[str]) -> dict[str, Staff]:
    staff = {s.userid: s for s in Staff.objects.filter(corp=corp, userid__in=userids)}
    for userid in userids - staff.keys():
        staff[userid] = ensure_staff(corp=corp, userid=userid)
    return staff


def _upsert_relations(
    corp: Corp,
    contacts: list[Contact],
    customers: dict[str, Customer],
    staff: dict[str, Staff],
    revive_staff_deleted: bool,
    result: ApplyResult,
) -> dict[tuple[int, int], FollowRelation]:
    customer_ids = [customers[c.external_userid].pk for c in contacts]
    existing = {
        (r.customer_id, r.staff_id): r
        for r in FollowRelation.objects.filter(corp=corp, customer_id__in=customer_ids)
    }
    now = clock.now()
    fresh: list[FollowRelation] = []
    changed: dict[int, FollowRelation] = {}
    for contact in contacts:
        customer = customers[contact.external_userid]
        for follow in contact.follows:
            member = staff[follow.userid]
            relation = existing.get((customer.pk, member.pk))
            if relation is None:
                relation = FollowRelation(
                    corp=corp,
                    customer=customer,
                    staff=member,
                    status=RelationStatus.ACTIVE,
                    status_changed_at=now,
                    # The add is known from WeCom's createtime: a later add event for the same
                    # moment changes nothing and adds no second timeline entry.
                    last_event_at=follow.values["added_at"],
                    **follow.values,
                )
                existing[(customer.pk, member.pk)] = relation
                fresh.append(relation)
                continue
            dirty = any(getattr(relation, k) != v for k, v in follow.values.items())
            for key, value in follow.values.items():
                setattr(relation, key, value)
            if revive_staff_deleted and relation.status == RelationStatus.DELETED_BY_STAFF:
                relation.status = RelationStatus.ACTIVE
                relation.status_changed_at = now
                dirty = True
            if dirty and relation.pk:
                relation.updated_at = now
                changed[relation.pk] = relation
    if fresh:
        FollowRelation.objects.bulk_create(fresh, ignore_conflicts=True)
        result.relations_created += len(fresh)
        reread = FollowRelation.objects.filter(corp=corp, customer_id__in=customer_ids)
        existing = {(r.customer_id, r.staff_id): r for r in reread}
        _record_found(corp, [existing[(r.customer_id, r.staff_id)] for r in fresh])
    if changed:
        FollowRelation.objects.bulk_update(
            list(changed.values()),
            [*RELATION_FIELDS, "status", "status_changed_at", "updated_at"],
        )
    return existing


def _apply_tags(
    corp: Corp,
    contacts: list[Contact],
    customers: dict[str, Customer],
    staff: dict[str, Staff],
    relations: dict[tuple[int, int], FollowRelation],
) -> None:
    all_ids = {t for c in contacts for f in c.follows for t in f.tag_ids}
    details = {k: v for c in contacts for f in c.follows for k, v in f.tag_details.items()}
    tags = resolve_tags(corp=corp, wecom_ids=all_ids, details=details)
    wanted: dict[int, set[int]] = {}
    for contact in contacts:
        customer = customers[contact.external_userid]
        for follow in contact.follows:
            relation = relations[(customer.pk, staff[follow.userid].pk)]
            wanted[relation.pk] = {tags[t].pk for t in follow.tag_ids}
    set_relation_tags(corp=corp, wanted=wanted)


def _relation_for_event(*, corp: Corp, external_userid: str, userid: str) -> FollowRelation:
    customer, _ = Customer.objects.get_or_create(corp=corp, external_userid=external_userid)
    member = ensure_staff(corp=corp, userid=userid)
    relation, _ = FollowRelation.objects.get_or_create(
        corp=corp,
        customer=customer,
        staff=member,
        defaults={"status": RelationStatus.ACTIVE, "added_at": clock.now()},
    )
    return relation


# A delete and an add in the same second: the delete wins, because WeCom's one-second CreateTime
# cannot order them and a wrongly active customer is worse than a wrongly lost one (reconcile fixes
# either).
_STATUS_RANK = {
    RelationStatus.ACTIVE: 0,
    RelationStatus.DELETED_BY_CUSTOMER: 1,
    RelationStatus.DELETED_BY_STAFF: 1,
}


@transaction.atomic
def record_relation_status(
    *,
    corp: Corp,
    external_userid: str,
    userid: str,
    status: str,
    at: dt.datetime | None,
    is_half: bool | None = None,
    state: str = "",
) -> FollowRelation:
    """Apply a status event (add / half-add / delete by customer / delete by staff) unless a newer
    event already decided this relation's status."""
    relation = _relation_for_event(corp=corp, external_userid=external_userid, userid=userid)
    relation = FollowRelation.objects.select_for_update().get(pk=relation.pk)
    if state and not relation.state:
        # A half-added customer is not readable through the API yet (84061), so the event's State
        # is the only attribution Qike gets until the member confirms.
        relation.state = state
        relation.save(update_fields=["state", "updated_at"])
    at = at or clock.now()
    last = relation.last_event_at
    newer = last is None or at > last
    tie_wins = (
        last is not None and at == last and _STATUS_RANK[status] >= _STATUS_RANK[relation.status]
    )
    if not (newer or tie_wins):
        return relation
    kind = _timeline_kind(relation, status, is_half)
    if relation.status != status:
        relation.status = status
        relation.status_changed_at = clock.now()
    if is_half is not None:
        relation.is_half = is_half
    if kind:
        add_timeline(
            corp=corp,
            customer_id=relation.customer_id,
            staff_id=relation.staff_id,
            kind=kind,
            occurred_at=at,
            data={"state": relation.state} if relation.state else {},
        )
    relation.last_event_at = at
    relation.save(
        update_fields=["status", "status_changed_at", "is_half", "last_event_at", "updated_at"]
    )
    return relation


@transaction.atomic
def mark_missing_relations(*, corp: Corp, seen: set[int]) -> list[int]:
    """After a full read of WeCom: active relations WeCom no longer lists were deleted by the member
    (a deletion by the customer leaves a one-way relation that WeCom still lists)."""
    active = FollowRelation.objects.filter(corp=corp, status=RelationStatus.ACTIVE)
    missing = [pk for pk in active.values_list("pk", flat=True).iterator() if pk not in seen]
    now = clock.now()
    for start in range(0, len(missing), 500):
        chunk = FollowRelation.objects.filter(pk__in=missing[start : start + 500])
        TimelineEntry.objects.bulk_create(
            TimelineEntry(
                corp=corp,
                customer_id=customer_id,
                staff_id=staff_id,
                kind=TimelineKind.DELETED_BY_STAFF,
                occurred_at=now,
                data={"source": "sync"},
            )
            for customer_id, staff_id in chunk.values_list("customer_id", "staff_id")
        )
        chunk.update(status=RelationStatus.DELETED_BY_STAFF, status_changed_at=now)
    return missing


def _record_found(corp: Corp, relations: list[FollowRelation]) -> None:
    """Relations first seen by a sync: their add goes on the timeline at WeCom's createtime."""
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            corp=corp,
            customer_id=r.customer_id,
            staff_id=r.staff_id,
            kind=TimelineKind.ADDED,
            occurred_at=r.added_at,
            data={"add_way": r.add_way, "state": r.state, "source": "sync"},
        )
        for r in relations
    )


def _timeline_kind(relation: FollowRelation, status: str, is_half: bool | None) -> str:
    """What a status event means for the timeline; "" when it changes nothing (a replay)."""
    first_event = relation.last_event_at is None
    if status == RelationStatus.ACTIVE:
        if is_half:
            return TimelineKind.HALF_ADDED if first_event or not relation.is_half else ""
        if first_event or relation.status != status or relation.is_half:
            return TimelineKind.ADDED
        return ""
    if relation.status == status and not first_event:
        return ""
    return {
        RelationStatus.DELETED_BY_CUSTOMER: TimelineKind.DELETED_BY_CUSTOMER,
        RelationStatus.DELETED_BY_STAFF: TimelineKind.DELETED_BY_STAFF,
    }[status]


def add_timeline(
    *,
    corp: Corp,
    customer_id: int,
    kind: str,
    occurred_at: dt.datetime | None = None,
    staff_id: int | None = None,
    actor: str = "",
    data: dict | None = None,
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        corp=corp,
        customer_id=customer_id,
        staff_id=staff_id,
        kind=kind,
        occurred_at=occurred_at or clock.now(),
        actor=actor,
        data=data or {},
    )


TimelineRow = tuple[int, int | None, dt.datetime, dict]  # customer_id, staff_id, occurred_at, data


def add_timeline_many(
    *, corp: Corp, kind: str, rows: Iterable[TimelineRow], once_per: str, chunk: int = 2000
) -> int:
    """Many timeline entries of one kind, written `chunk` at a time (a mass message reaches a
    million customers: one INSERT each would take hours). Idempotent: a customer who already has
    an entry of this kind with the same `data[once_per]` (e.g. the campaign id) is skipped, so a
    repeated write adds nothing. Returns the entries added."""
    added = 0
    batch: list[TimelineRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            added += _add_timeline_chunk(corp, kind, batch, once_per)
            batch = []
    if batch:
        added += _add_timeline_chunk(corp, kind, batch, once_per)
    return added


def _add_timeline_chunk(corp: Corp, kind: str, batch: list[TimelineRow], once_per: str) -> int:
    existing = set(
        TimelineEntry.objects.filter(
            corp=corp, kind=kind, customer_id__in={r[0] for r in batch}
        ).values_list("customer_id", f"data__{once_per}")
    )
    fresh: list[TimelineEntry] = []
    for customer_id, staff_id, occurred_at, data in batch:
        key = (customer_id, data.get(once_per))
        if key in existing:
            continue
        existing.add(key)  # the same customer twice in one call is written once
        fresh.append(
            TimelineEntry(
                corp=corp,
                customer_id=customer_id,
                staff_id=staff_id,
                kind=kind,
                occurred_at=occurred_at,
                data=data,
            )
        )
    TimelineEntry.objects.bulk_create(fresh)
    return len(fresh)


def record_edit(*, corp: Corp, external_userid: str, userid: str, at: dt.datetime | None) -> None:
    """A member edited the customer in WeCom (remark, description, tags): once per event time."""
    relation = (
        FollowRelation.objects.filter(
            corp=corp, customer__external_userid=external_userid, staff__userid=userid
        )
        .select_related("customer")
        .first()
    )
    if relation is None:
        return
    at = at or clock.now()
    already = TimelineEntry.objects.filter(
        customer_id=relation.customer_id,
        staff_id=relation.staff_id,
        kind=TimelineKind.EDITED,
        occurred_at=at,
    ).exists()
    if not already:
        add_timeline(
            corp=corp,
            customer_id=relation.customer_id,
            staff_id=relation.staff_id,
            kind=TimelineKind.EDITED,
            occurred_at=at,
            data={"remark": relation.remark, "description": relation.description},
        )
