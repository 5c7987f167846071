"""Reading customers within a user's scope, with the filters the console and the API share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from qike.customers.models import Customer, FollowRelation
from qike.org.access import Access, Action
from qike.org.models import Department
from qike.tags.models import TagAssignment

TAG_MODES = ("any", "all", "none")


@dataclass
class CustomerFilter:
    """Filters over follow relations (a customer as one staff member follows them)."""

    staff: list[str] = field(default_factory=list)  # userids
    department: int | None = None  # WeCom department id: its whole subtree
    tags: list[str] = field(default_factory=list)  # WeCom tag ids
    tag_mode: str = "any"
    added_from: dt.date | None = None
    added_to: dt.date | None = None
    add_way: int | None = None
    state: str = ""
    status: str = ""
    q: str = ""

    def __post_init__(self) -> None:
        if self.tag_mode not in TAG_MODES:
            raise ValueError(_("tag_mode must be one of any, all, none"))


def relations_in_scope(access: Access) -> QuerySet[FollowRelation]:
    access.require(Action.VIEW_CUSTOMERS)
    return FollowRelation.objects.filter(corp=access.corp).filter(access.staff_filter("staff__"))


def filter_relations(
    access: Access, filters: CustomerFilter, tz: dt.tzinfo | None = None
) -> QuerySet[FollowRelation]:
    relations = relations_in_scope(access)
    if filters.staff:
        relations = relations.filter(staff__userid__in=filters.staff)
    if filters.department is not None:
        relations = relations.filter(staff__in=_staff_in_subtree(access, filters.department))
    relations = _filter_tags(access, relations, filters)
    if filters.added_from:
        relations = relations.filter(added_at__gte=_day_start(filters.added_from, tz))
    if filters.added_to:
        relations = relations.filter(
            added_at__lt=_day_start(filters.added_to + dt.timedelta(days=1), tz)
        )
    if filters.add_way is not None:
        relations = relations.filter(add_way=filters.add_way)
    if filters.state:
        relations = relations.filter(state=filters.state)
    if filters.status:
        relations = relations.filter(status=filters.status)
    if filters.q:
        relations = relations.filter(
            Q(customer__name__icontains=filters.q) | Q(remark__icontains=filters.q)
        )
    return relations


def _day_start(day: dt.date, tz: dt.tzinfo | None) -> dt.datetime:
    from django.utils import timezone

    return dt.datetime.combine(day, dt.time.min, tzinfo=tz or timezone.get_current_timezone())


def _staff_in_subtree(access: Access, department_wecom_id: int):
    from qike.org.models import StaffDepartment

    department = Department.objects.filter(corp=access.corp, wecom_id=department_wecom_id).first()
    if department is None:
        return StaffDepartment.objects.none().values("staff_id")
    return StaffDepartment.objects.filter(
        corp=access.corp, department__path__startswith=department.path
    ).values("staff_id")


def _filter_tags(
    access: Access, relations: QuerySet[FollowRelation], filters: CustomerFilter
) -> QuerySet[FollowRelation]:
    if not filters.tags:
        return relations

    # EXISTS / NOT EXISTS rather than IN / NOT IN: PostgreSQL turns these into (anti-)joins,
    # while NOT IN (subquery) must scan every assignment of the tags on a big corp.
    def tagged(tag_ids: list[str]) -> Exists:
        return Exists(
            TagAssignment.objects.filter(
                corp=access.corp, relation_id=OuterRef("pk"), tag__wecom_id__in=tag_ids
            )
        )

    if filters.tag_mode == "any":
        return relations.filter(tagged(filters.tags))
    if filters.tag_mode == "none":
        return relations.filter(~tagged(filters.tags))
    for tag_id in filters.tags:
        relations = relations.filter(tagged([tag_id]))
    return relations


def get_relation(access: Access, pk: int) -> FollowRelation:
    """404 for another corp's relation (or none at all), 403 for one outside the user's scope."""
    relation = (
        FollowRelation.objects.filter(corp=access.corp, pk=pk)
        .select_related("customer", "staff")
        .first()
    )
    if relation is None:
        raise Http404
    if not relations_in_scope(access).filter(pk=pk).exists():
        raise PermissionDenied(_("This customer is outside your scope."))
    return relation


def get_customer(access: Access, external_userid: str) -> Customer:
    customer = Customer.objects.filter(corp=access.corp, external_userid=external_userid).first()
    if customer is None:
        raise Http404
    if not relations_in_scope(access).filter(customer=customer).exists():
        raise PermissionDenied(_("This customer is outside your scope."))
    return customer


def count_capped(queryset: QuerySet, cap: int = 10_000) -> tuple[int, bool]:
    """An exact count up to `cap`, and whether there are more: exact totals over millions of rows
    cost a full scan on PostgreSQL, and nobody pages that far."""
    found = queryset[: cap + 1].count()
    return min(found, cap), found > cap
