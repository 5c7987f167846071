"""Reading the audit trail: admins of a corp see that corp's rows, filtered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from qike.audit.models import AuditEntry
from qike.org.access import Access, Action


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""  # an exact action, or an app prefix such as "tags."
    actor: str = ""  # part of the user name
    target: str = ""  # part of the object's label or its id
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def entries_for(access: Access) -> QuerySet[AuditEntry]:
    access.require(Action.VIEW_AUDIT)
    return AuditEntry.objects.filter(corp=access.corp)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def filter_entries(entries: QuerySet[AuditEntry], wanted: AuditFilter) -> QuerySet[AuditEntry]:
    if wanted.action:
        if wanted.action.endswith("."):
            entries = entries.filter(action__startswith=wanted.action)
        else:
            entries = entries.filter(action=wanted.action)
    if wanted.actor:
        entries = entries.filter(actor__icontains=wanted.actor)
    if wanted.target:
        entries = entries.filter(
            Q(target_label__icontains=wanted.target) | Q(target_id=wanted.target)
        )
    if wanted.date_from:
        entries = entries.filter(at__gte=_day_start(wanted.date_from))
    if wanted.date_to:
        entries = entries.filter(at__lt=_day_start(wanted.date_to + dt.timedelta(days=1)))
    return entries


def known_actions(entries: QuerySet[AuditEntry]) -> list[str]:
    return list(entries.order_by("action").values_list("action", flat=True).distinct())
