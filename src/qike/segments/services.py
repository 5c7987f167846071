"""Segments: who matches a set of rules (audience, count, preview) and the saved segments
themselves (create, update, delete; audited).

`audience` is the one definition of a segment's members; mass messages iterate it, the console and
the API count and preview it. It starts from the customer list's query
(`qike.customers.queries.filter_relations`: the corp, the user's data scope, the added-date range),
then adds the rules the list does not have. Tags are tested with EXISTS / NOT EXISTS on the
(relation, tag) index so PostgreSQL plans semi- and anti-joins (the list's NOT IN cannot become an
anti-join); see bench/segment_count.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from qike.audit.services import record
from qike.core import clock
from qike.core.models import Corp
from qike.customers.models import FollowRelation, TimelineEntry
from qike.customers.queries import CustomerFilter, _staff_in_subtree, filter_relations
from qike.org.access import SUPER_ADMIN, Access, Action
from qike.org.models import Department, Staff, StaffStatus
from qike.segments.models import DESCRIPTION_MAX, NAME_MAX, Segment
from qike.segments.rules import (
    INTERACTION_KINDS,
    SegmentRules,
    rules_from_dict,
)
from qike.tags.models import Tag, TagAssignment

__all__ = [
    "Member",
    "SegmentRules",
    "audience",
    "check_rules",
    "count",
    "create_segment",
    "delete_segment",
    "get_segment",
    "may_manage",
    "preview",
    "rules_from_dict",
    "segments",
    "update_segment",
]

PREVIEW_MAX = 100


# --- who may -----------------------------------------------------------------------------------


def may_manage(access: Access) -> bool:
    """Creating, editing and deleting segments: whoever runs campaigns (corp admins, operations)."""
    return access.can(Action.RUN_CAMPAIGNS)


def _require_manage(access: Access) -> None:
    if not may_manage(access):
        raise PermissionDenied(_("Only corp admins and operations may edit segments."))


# --- the audience ------------------------------------------------------------------------------


def _scope(corp: Corp, access: Access | None) -> Access:
    """The access the audience is read with: the caller's, or the whole corp for system callers
    (jobs sending a campaign)."""
    if access is None:
        return Access(corp=corp, role=SUPER_ADMIN)
    if access.corp.pk != corp.pk:
        raise Http404
    return access


def audience(*, corp: Corp, rules: SegmentRules, access: Access | None = None) -> QuerySet:
    """The follow relations matching `rules` in `corp` (within `access`'s scope when given):
    active and fully added unless the rules say otherwise. Unordered, without joins beyond what the
    rules need, so `.values_list(...).iterator(chunk_size=...)` streams it."""
    scope = _scope(corp, access)
    relations = filter_relations(
        scope, CustomerFilter(added_from=rules.added_from, added_to=rules.added_to)
    ).order_by()
    if len(rules.statuses) == 1:
        relations = relations.filter(status=rules.statuses[0])
    else:
        relations = relations.filter(status__in=rules.statuses)
    if not rules.include_half:
        relations = relations.filter(is_half=False)
    if rules.added_within_days:
        since = clock.now() - dt.timedelta(days=rules.added_within_days)
        relations = relations.filter(added_at__gte=since)
    if rules.states:
        relations = relations.filter(state__in=rules.states)
    relations = _filter_followers(scope, relations, rules)
    relations = _filter_tags(corp, relations, rules)
    relations = _filter_interaction(relations, rules)
    return _filter_stages(corp, relations, rules)


def _filter_followers(
    scope: Access, relations: QuerySet[FollowRelation], rules: SegmentRules
) -> QuerySet[FollowRelation]:
    """The chosen members and everyone in the chosen department subtrees (one set of followers)."""
    if not rules.staff and not rules.departments:
        return relations
    followers = Q()
    if rules.staff:
        chosen = Staff.objects.filter(corp=scope.corp, userid__in=rules.staff).values("pk")
        followers |= Q(staff_id__in=chosen)
    for department in rules.departments:
        followers |= Q(staff_id__in=_staff_in_subtree(scope, department))
    return relations.filter(followers)


def _tag_pks(corp: Corp, wecom_ids: tuple[str, ...]) -> dict[str, int]:
    return dict(Tag.objects.filter(corp=corp, wecom_id__in=wecom_ids).values_list("wecom_id", "pk"))


def _tagged(tag_pks: list[int]) -> Exists:
    on_relation = TagAssignment.objects.filter(relation_id=OuterRef("pk"))
    if len(tag_pks) == 1:
        return Exists(on_relation.filter(tag_id=tag_pks[0]))
    return Exists(on_relation.filter(tag_id__in=tag_pks))


def _filter_tags(
    corp: Corp, relations: QuerySet[FollowRelation], rules: SegmentRules
) -> QuerySet[FollowRelation]:
    """Tags by their WeCom ids. A tag deleted since the segment was saved matches nobody: it no
    longer counts towards `any`, makes `all` impossible, and excludes no one from `none`."""
    wanted = rules.tags_any + rules.tags_all + rules.tags_none
    if not wanted:
        return relations
    pks = _tag_pks(corp, wanted)
    if rules.tags_any:
        any_pks = [pks[t] for t in rules.tags_any if t in pks]
        if not any_pks:
            return relations.none()
        relations = relations.filter(_tagged(any_pks))
    for tag in rules.tags_all:
        if tag not in pks:
            return relations.none()
        relations = relations.filter(_tagged([pks[tag]]))
    none_pks = [pks[t] for t in rules.tags_none if t in pks]
    if none_pks:
        relations = relations.filter(~_tagged(none_pks))
    return relations


def _filter_interaction(
    relations: QuerySet[FollowRelation], rules: SegmentRules
) -> QuerySet[FollowRelation]:
    """Last interaction: the newer of the add and the customer's newest interaction entry."""
    now = clock.now()

    def interacted_since(since: dt.datetime) -> Q:
        entries = TimelineEntry.objects.filter(
            customer_id=OuterRef("customer_id"), kind__in=INTERACTION_KINDS, occurred_at__gte=since
        )
        return Q(added_at__gte=since) | Q(Exists(entries))

    if rules.interacted_within_days:
        relations = relations.filter(
            interacted_since(now - dt.timedelta(days=rules.interacted_within_days))
        )
    if rules.inactive_for_days:
        relations = relations.exclude(
            interacted_since(now - dt.timedelta(days=rules.inactive_for_days))
        )
    return relations


def _filter_stages(
    corp: Corp, relations: QuerySet[FollowRelation], rules: SegmentRules
) -> QuerySet[FollowRelation]:
    if not rules.stages:
        return relations
    from qike.lifecycle import services as lifecycle
    from qike.lifecycle.models import Stage

    chosen = list(Stage.objects.filter(corp=corp, pk__in=rules.stages))
    if not chosen:
        return relations.none()
    first = lifecycle.first_stage(corp)
    in_any = Q()
    for stage in chosen:
        in_any |= lifecycle.in_stage(stage, first)
    return relations.filter(in_any)


def count(*, corp: Corp, rules: SegmentRules, access: Access | None = None) -> int:
    """How many distinct customers match (a customer followed by two members counts once)."""
    return audience(corp=corp, rules=rules, access=access).values("customer_id").distinct().count()


@dataclass(frozen=True)
class Member:
    """One customer of a preview, as the newest matching relation shows them."""

    relation_id: int
    customer_id: int
    external_userid: str
    name: str  # the member's remark, else the customer's WeChat name
    avatar: str
    staff_userid: str
    staff_name: str
    added_at: dt.datetime


def preview(
    *, corp: Corp, rules: SegmentRules, access: Access | None = None, limit: int = 20
) -> list[Member]:
    """Up to `limit` matching customers, most recently added first, each once."""
    limit = max(1, min(limit, PREVIEW_MAX))
    rows = (
        audience(corp=corp, rules=rules, access=access)
        .select_related("customer", "staff")
        .order_by("-added_at", "-pk")
    )
    members: dict[int, Member] = {}
    # A customer followed by several members shows once: stream rows until `limit` customers.
    for relation in rows.iterator(chunk_size=limit * 4):
        if relation.customer_id in members:
            continue
        members[relation.customer_id] = Member(
            relation_id=relation.pk,
            customer_id=relation.customer_id,
            external_userid=relation.customer.external_userid,
            name=relation.remark or relation.customer.name or relation.customer.external_userid,
            avatar=relation.customer.avatar,
            staff_userid=relation.staff.userid,
            staff_name=relation.staff.name or relation.staff.userid,
            added_at=relation.added_at,
        )
        if len(members) >= limit:
            break
    return list(members.values())


# --- rules against the corp's data ---------------------------------------------------------------


def check_rules(*, corp: Corp, rules: SegmentRules) -> SegmentRules:
    """Rules may only name the corp's own tags, members, departments and active stages."""
    errors: dict[str, list[str]] = {}

    def missing(name: str, asked: tuple, found: set) -> None:
        unknown = [str(v) for v in asked if v not in found]
        if unknown:
            errors[name] = [_("Unknown: %(values)s.") % {"values": ", ".join(unknown)}]

    tags = set(_tag_pks(corp, rules.tags_any + rules.tags_all + rules.tags_none))
    for name in ("tags_any", "tags_all", "tags_none"):
        missing(name, getattr(rules, name), tags)
    if rules.staff:
        found = Staff.objects.filter(corp=corp, userid__in=rules.staff)
        missing("staff", rules.staff, set(found.values_list("userid", flat=True)))
    if rules.departments:
        found = Department.objects.filter(corp=corp, wecom_id__in=rules.departments)
        missing("departments", rules.departments, set(found.values_list("wecom_id", flat=True)))
    if rules.stages:
        from qike.lifecycle.models import Stage

        found = Stage.objects.filter(corp=corp, pk__in=rules.stages, retired_at__isnull=True)
        missing("stages", rules.stages, set(found.values_list("pk", flat=True)))
    if errors:
        raise ValidationError(errors)
    return rules


def parse_rules(*, corp: Corp, data: dict | None) -> SegmentRules:
    """rules_from_dict, then check_rules: what the console and the API accept."""
    return check_rules(corp=corp, rules=rules_from_dict(data))


# --- saved segments ----------------------------------------------------------------------------


def segments(*, access: Access) -> QuerySet[Segment]:
    access.require(Action.VIEW_CUSTOMERS)
    return Segment.objects.filter(corp=access.corp).select_related("owner")


def get_segment(*, access: Access, pk: int) -> Segment:
    """404 for another corp's segment (or none), 403 for a role that may not see customers."""
    segment = Segment.objects.filter(corp=access.corp, pk=pk).select_related("owner").first()
    if segment is None:
        raise Http404
    access.require(Action.VIEW_CUSTOMERS)
    return segment


def _clean_name(corp: Corp, name: str, segment: Segment | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the segment a name.")]})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": [_("At most %(n)d characters.") % {"n": NAME_MAX}]})
    taken = Segment.objects.filter(corp=corp, name=name)
    if segment is not None:
        taken = taken.exclude(pk=segment.pk)
    if taken.exists():
        raise ValidationError({"name": [_("Another segment already has this name.")]})
    return name


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError(
            {"description": [_("At most %(n)d characters.") % {"n": DESCRIPTION_MAX}]}
        )
    return description


def _clean_owner(corp: Corp, userid: str | None) -> Staff | None:
    if not userid:
        return None
    owner = Staff.objects.filter(corp=corp, userid=userid).first()
    if owner is None:
        raise ValidationError({"owner": [_("Unknown member %(userid)s.") % {"userid": userid}]})
    if owner.status == StaffStatus.LEFT:
        raise ValidationError(
            {"owner": [_("%(name)s has left the corp and cannot own a segment.") % {"name": owner}]}
        )
    return owner


def _values(segment: Segment) -> dict:
    return {
        "name": segment.name,
        "description": segment.description,
        "owner": segment.owner.userid if segment.owner else "",
        "rules": segment.rules,
    }


def create_segment(
    *,
    access: Access,
    name: str,
    rules: dict | SegmentRules,
    description: str = "",
    owner_userid: str | None = None,
) -> Segment:
    _require_manage(access)
    corp = access.corp
    parsed = rules if isinstance(rules, SegmentRules) else rules_from_dict(rules)
    check_rules(corp=corp, rules=parsed)
    now = clock.now()
    with transaction.atomic():
        segment = Segment.objects.create(
            corp=corp,
            name=_clean_name(corp, name, None),
            description=_clean_description(description),
            owner=_clean_owner(corp, owner_userid),
            rules=parsed.to_dict(),
            created_by=access.user_id,
            created_at=now,
            updated_at=now,
        )
        record(corp=corp, action="segments.create", target=segment, after=_values(segment))
    return segment


def update_segment(
    *,
    access: Access,
    segment: Segment,
    name: str,
    rules: dict | SegmentRules,
    description: str = "",
    owner_userid: str | None = None,
) -> Segment:
    _require_manage(access)
    corp = access.corp
    if segment.corp_id != corp.pk:
        raise Http404
    parsed = rules if isinstance(rules, SegmentRules) else rules_from_dict(rules)
    check_rules(corp=corp, rules=parsed)
    with transaction.atomic():
        segment = Segment.objects.select_for_update().get(pk=segment.pk)
        before = _values(segment)
        segment.name = _clean_name(corp, name, segment)
        segment.description = _clean_description(description)
        segment.owner = _clean_owner(corp, owner_userid)
        segment.rules = parsed.to_dict()
        after = _values(segment)
        if after == before:
            return segment
        segment.updated_at = clock.now()
        segment.save()
        changed = [key for key in after if after[key] != before[key]]
        record(
            corp=corp,
            action="segments.update",
            target=segment,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return segment


def delete_segment(*, access: Access, segment: Segment) -> None:
    _require_manage(access)
    if segment.corp_id != access.corp.pk:
        raise Http404
    with transaction.atomic():
        record(corp=access.corp, action="segments.delete", target=segment, before=_values(segment))
        segment.delete()
