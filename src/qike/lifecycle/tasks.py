"""Stale-stage and next-follow-up reminders, as WeCom app messages.

The job runs every five minutes and decides by Qike's clock (so tests and the demo can move
time): from 09:00 Asia/Shanghai, each due stay or follow-up is reminded about once."""

from __future__ import annotations

from huey import crontab

from qike.audit.services import Actor, acting
from qike.jobs import periodic
from qike.lifecycle import services


@periodic(crontab(minute="*/5"))
def send_reminders_job() -> int:
    with acting(Actor(via="job")):
        return services.send_due_reminders()
