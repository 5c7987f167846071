"""Each morning every member with phone tasks gets the day's list as a WeCom app message.

The job runs every five minutes and decides by Qike's clock (so tests and the demo can move
time): from 09:00 Asia/Shanghai a member who has not had today's list gets it, once."""

from __future__ import annotations

from huey import crontab

from qike.jobs import periodic
from qike.phonetasks import services


@periodic(crontab(minute="*/5"))
def send_daily_lists_job() -> int:
    return services.send_due_lists()
