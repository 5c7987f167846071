"""A live code's figures: adds, losses and net, by day and by staff member (aggregate queries)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from qike.acquisition.models import LiveCode, LiveCodeAdd
from qike.core import clock
from qike.customers.models import RelationStatus
from qike.org.access import Access

LOST = [RelationStatus.DELETED_BY_CUSTOMER, RelationStatus.DELETED_BY_STAFF]
DEFAULT_DAYS = 30


@dataclass
class CodeStats:
    adds: int
    losses: int
    net: int
    days: list[str]
    adds_by_day: list[int]
    losses_by_day: list[int]
    by_staff: list[dict]


def _adds(access: Access, code: LiveCode):
    return LiveCodeAdd.objects.filter(corp=access.corp, code=code).filter(
        access.staff_filter("staff__")
    )


def code_stats(access: Access, code: LiveCode, days: int = DEFAULT_DAYS) -> CodeStats:
    """Figures for the members the user may see. A loss is an attributed customer whose relation
    was later deleted (by either side); it counts on the day it was deleted."""
    tz = ZoneInfo(settings.TIME_ZONE)
    adds = _adds(access, code)
    lost = adds.filter(relation__status__in=LOST)
    today = clock.now().astimezone(tz).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    added_per_day = dict(
        adds.filter(added_at__gte=since)
        .annotate(day=TruncDate("added_at", tzinfo=tz))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    lost_per_day = dict(
        lost.filter(relation__status_changed_at__gte=since)
        .annotate(day=TruncDate("relation__status_changed_at", tzinfo=tz))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    calendar = [first + dt.timedelta(days=n) for n in range(days)]
    by_staff = list(
        adds.values("staff__userid", "staff__name")
        .annotate(adds=Count("id"), losses=Count("id", filter=Q(relation__status__in=LOST)))
        .order_by("-adds", "staff__userid")
    )
    for row in by_staff:
        row["net"] = row["adds"] - row["losses"]
    total, losses = adds.count(), lost.count()
    return CodeStats(
        adds=total,
        losses=losses,
        net=total - losses,
        days=[d.isoformat() for d in calendar],
        adds_by_day=[added_per_day.get(d, 0) for d in calendar],
        losses_by_day=[lost_per_day.get(d, 0) for d in calendar],
        by_staff=by_staff,
    )
