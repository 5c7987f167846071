"""Who should be in a live code's WeCom member list right now.

WeCom hands each scan to a random member of the list. Qike steers that pick by changing the list:
members over their daily cap leave it, shifts swap it, backups stand in when nobody else may take
adds, and with spreading only the least-loaded members stay, so WeCom's random pick cannot pile
adds on one member. Pure reading: no writes, no WeCom calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, Q
from django.utils import timezone

from qike.acquisition.models import LiveCode, LiveCodeAdd, PoolRole, Schedule
from qike.org.models import Staff, StaffStatus


def day_start(now: dt.datetime) -> dt.datetime:
    """Midnight of `now`'s day in the corp's time zone (Asia/Shanghai): caps reset there."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def main_pool(code: LiveCode) -> list[Staff]:
    """The code's own members plus every member of its departments and their sub-departments."""
    paths = list(code.departments.values_list("department__path", flat=True))
    in_departments = Q(pk__in=code.members.filter(role=PoolRole.MAIN).values("staff_id"))
    for path in paths:
        in_departments |= Q(staffdepartment__department__path__startswith=path)
    return list(Staff.objects.filter(in_departments, corp_id=code.corp_id).distinct())


def backup_pool(code: LiveCode) -> list[Staff]:
    return list(
        Staff.objects.filter(
            corp_id=code.corp_id,
            pk__in=code.members.filter(role=PoolRole.BACKUP).values("staff_id"),
        )
    )


def covers(schedule: Schedule, local: dt.datetime) -> bool:
    """Whether a shift is on at this local moment. A shift whose end is not after its start runs
    over midnight (equal start and end: all day); the weekday is the current day's."""
    if local.weekday() not in schedule.weekdays:
        return False
    moment = local.time()
    if schedule.start < schedule.end:
        return schedule.start <= moment < schedule.end
    return moment >= schedule.start or moment < schedule.end


def on_duty(code: LiveCode, now: dt.datetime) -> list[Staff]:
    """The members who may take adds now before caps: the shifts' members when the code has
    shifts (nobody outside every shift), else the main pool."""
    schedules = list(code.schedules.prefetch_related("staff"))
    if not schedules:
        return main_pool(code)
    local = timezone.localtime(now)
    members: dict[int, Staff] = {}
    for schedule in schedules:
        if covers(schedule, local):
            members.update({s.pk: s for s in schedule.staff.all()})
    return list(members.values())


def loads_today(code: LiveCode, now: dt.datetime) -> dict[int, int]:
    """Adds attributed to this code today, per staff member (one aggregate query)."""
    rows = (
        LiveCodeAdd.objects.filter(code=code, added_at__gte=day_start(now))
        .values("staff_id")
        .annotate(n=Count("id"))
    )
    return {row["staff_id"]: row["n"] for row in rows}


def _active(members: Iterable[Staff]) -> list[Staff]:
    return [s for s in members if s.status == StaffStatus.ACTIVE]


def _least_loaded(members: list[Staff], loads: dict[int, int]) -> list[Staff]:
    lowest = min(loads.get(s.pk, 0) for s in members)
    return [s for s in members if loads.get(s.pk, 0) == lowest]


def choose_userids(code: LiveCode, now: dt.datetime) -> list[str]:
    """The member list WeCom should have now (sorted userids; empty only if everyone left)."""
    loads = loads_today(code, now)
    duty = _active(on_duty(code, now))
    cap = code.daily_cap
    chosen = [s for s in duty if cap is None or loads.get(s.pk, 0) < cap]
    if not chosen:
        # Everyone capped or off duty: the backups take over. They have no cap, because a printed
        # code must always lead to somebody.
        chosen = _active(backup_pool(code))
    if not chosen:
        # No backups either: rather than a dead code, the members on duty (or the main pool when
        # nobody is) keep taking adds past their cap.
        chosen = duty or _active(main_pool(code))
    if chosen and code.spread_evenly:
        chosen = _least_loaded(chosen, loads)
    return sorted(s.userid for s in chosen)
