"""Read-side figures for the dashboard, scoped to one user's Access and computed by the database
(aggregates, never a Python loop over customers), so they stay cheap at millions of rows.

Adds come from relations' `added_at` (WeCom's own createtime, so history from before Qike was
connected counts too); losses come from the customer timeline, where every deletion event is
recorded with its time and staff member.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from qike.core import clock
from qike.customers.models import RelationStatus, TimelineEntry, TimelineKind
from qike.customers.queries import relations_in_scope
from qike.org.access import Access

LOSS_KINDS = (TimelineKind.DELETED_BY_CUSTOMER, TimelineKind.DELETED_BY_STAFF)
TREND_DAYS = 30
TOP_STAFF = 10


@dataclass(frozen=True)
class DashboardNumbers:
    total: int  # distinct customers with at least one active relation
    new_today: int  # relations added today
    lost_by_customer: int
    lost_by_staff: int

    @property
    def lost_today(self) -> int:
        return self.lost_by_customer + self.lost_by_staff

    @property
    def net_growth(self) -> int:
        return self.new_today - self.lost_today


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    added: int
    lost: int


@dataclass(frozen=True)
class StaffCount:
    userid: str
    name: str
    added: int


def _local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or clock.now()).date()


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def losses_in_scope(access: Access) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(corp=access.corp, kind__in=LOSS_KINDS).filter(
        access.staff_filter("staff__")
    )


def dashboard_numbers(access: Access, *, now: dt.datetime | None = None) -> DashboardNumbers:
    """Two queries: one over relations, one over today's deletions."""
    start = _day_start(_local_today(now))
    relations = relations_in_scope(access).aggregate(
        total=Count("customer", distinct=True, filter=Q(status=RelationStatus.ACTIVE)),
        new_today=Count("pk", filter=Q(added_at__gte=start)),
    )
    losses = (
        losses_in_scope(access)
        .filter(occurred_at__gte=start)
        .aggregate(
            by_customer=Count("pk", filter=Q(kind=TimelineKind.DELETED_BY_CUSTOMER)),
            by_staff=Count("pk", filter=Q(kind=TimelineKind.DELETED_BY_STAFF)),
        )
    )
    return DashboardNumbers(
        total=relations["total"],
        new_today=relations["new_today"],
        lost_by_customer=losses["by_customer"],
        lost_by_staff=losses["by_staff"],
    )


def _per_day(queryset: QuerySet, field: str, since: dt.datetime) -> dict[dt.date, int]:
    rows = (
        queryset.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field, tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["n"] for row in rows}


def daily_trend(
    access: Access, *, days: int = TREND_DAYS, now: dt.datetime | None = None
) -> list[DayCount]:
    """Adds and losses per local day for the last `days` days, today included, oldest first;
    days without any are zero. Two grouped queries."""
    today = _local_today(now)
    first = today - dt.timedelta(days=days - 1)
    since = _day_start(first)
    added = _per_day(relations_in_scope(access), "added_at", since)
    lost = _per_day(losses_in_scope(access), "occurred_at", since)
    calendar = [first + dt.timedelta(days=n) for n in range(days)]
    return [DayCount(day, added.get(day, 0), lost.get(day, 0)) for day in calendar]


def top_staff(
    access: Access,
    *,
    days: int = TREND_DAYS,
    limit: int = TOP_STAFF,
    now: dt.datetime | None = None,
) -> list[StaffCount]:
    """The members who added the most customers in the last `days` days. One grouped query."""
    since = _day_start(_local_today(now) - dt.timedelta(days=days - 1))
    rows = (
        relations_in_scope(access)
        .filter(added_at__gte=since)
        .values("staff__userid", "staff__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "staff__userid")[:limit]
    )
    return [StaffCount(r["staff__userid"], r["staff__name"], r["n"]) for r in rows]
