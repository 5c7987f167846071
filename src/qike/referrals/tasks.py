"""Reward messages to staff, and the clean-up of finished campaigns' contact ways."""

from __future__ import annotations

from huey import crontab

from qike.jobs import periodic, task
from qike.referrals import services


@task()
def notify_reward_job(task_id: int) -> None:
    services.notify_reward(task_id=task_id)


# Hourly is plenty: a finished campaign's codes are kept a week anyway (services.WAY_GRACE_DAYS).
@periodic(crontab(minute="23"))
def expire_referral_ways_job() -> int:
    return services.expire_ways()
