"""Periodic jobs of the engagement app."""

from __future__ import annotations

from huey import crontab

from qike.jobs import periodic


@periodic(crontab(minute="*"))
def expire_stale_welcomes_job() -> None:
    """Welcomes still pending after WeCom's 20 seconds (a backlog under a burst, a worker that
    died) are recorded as expired, so the sends list and timelines say what happened."""
    from qike.engagement.services import expire_stale_welcomes

    expire_stale_welcomes()
