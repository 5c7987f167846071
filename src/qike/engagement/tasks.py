"""Jobs of the engagement app. The welcome send is its own high-priority job, apart from the slower
customer refresh, because WeCom's welcome code lives only 20 seconds."""

from __future__ import annotations

from qike import jobs

WELCOME_PRIORITY = 100  # huey runs higher priorities first (PriorityRedisHuey, SqliteHuey)


# retries=0: the send is claimed before WeCom is called, so a retry could never send anyway; a
# failure is recorded on the send instead.
@jobs.task(retries=0, priority=WELCOME_PRIORITY)
def send_welcome_job(send_id: int) -> None:
    from qike.engagement.services import send_welcome

    send_welcome(send_id=send_id)
