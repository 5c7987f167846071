"""Alerts for lost customers, and the hourly return of customers to the shared pool."""

from __future__ import annotations

from huey import crontab

from qike.audit.services import Actor, acting
from qike.core.models import Corp
from qike.jobs import periodic, task
from qike.retention import services


@task()
def alert_lost_job(corp_id: int, lost_id: int) -> bool:
    return services.alert_lost(corp=Corp.objects.get(pk=corp_id), lost_id=lost_id)


@task()
def alert_deletions_job(corp_id: int, alert_id: int) -> bool:
    return services.alert_deletions(corp=Corp.objects.get(pk=corp_id), alert_id=alert_id)


# Hourly: a customer returns within the hour they become due, and each run only reads indexes.
@periodic(crontab(minute="23"))
def return_to_pool_job() -> int:
    done = 0
    with acting(Actor(via="job")):
        for corp in Corp.objects.filter(is_active=True):
            done += services.return_to_pool(corp=corp)
    return done
