"""Following moments: WeCom reports nothing by callback, so jobs poll. A new task is checked as
soon as it is recorded; every open moment (job running, or created within FOLLOW_FOR) is checked
when due — every five minutes in its first hour, then less often as it ages (CHECK_EVERY) —: the
job's result, publish statuses, reach, comments and likes."""

from __future__ import annotations

import logging

from huey import crontab

from qike.audit.services import Actor, acting
from qike.core import clock
from qike.jobs import periodic, task
from qike.moments import services
from qike.moments.models import Moment

log = logging.getLogger("qike.moments")


@task()
def refresh_moment_job(moment_id: int) -> bool:
    """Idempotent: polling twice records each comment and like once."""
    moment = Moment.objects.select_related("corp").filter(pk=moment_id).first()
    if moment is None:
        return False
    with acting(Actor(via="job", name="moments")):
        return bool(services.refresh(corp=moment.corp, moment=moment))


@periodic(crontab(minute="*/5"))
def refresh_moments_job() -> int:
    """One moment's (or corp's) WeCom trouble does not stop the others; it is logged and the next
    run tries again."""
    changed = 0
    now = clock.now()
    with acting(Actor(via="job", name="moments")):
        for moment in services.open_moments():
            if not services.due_for_check(moment, now):
                continue
            try:
                changed += bool(services.refresh(corp=moment.corp, moment=moment))
            except Exception:
                log.exception("moments.refresh_failed moment=%s", moment.pk)
    return changed
