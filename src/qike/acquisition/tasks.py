"""Jobs that keep live codes' WeCom member lists right as adds arrive and time passes."""

from __future__ import annotations

from huey import crontab

from qike.acquisition import services
from qike.jobs import periodic, task


@task()
def refresh_pool_job(code_id: int) -> bool:
    return services.refresh_pool(code_id=code_id)


# Shifts start and end on the minute, and caps reset at midnight: look every minute. WeCom is
# called only for codes whose list actually changes.
@periodic(crontab(minute="*"))
def refresh_all_pools_job() -> int:
    return services.refresh_all_pools()
