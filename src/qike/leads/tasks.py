"""Contact ways of leads are deleted once converted, or once their form's days are up."""

from __future__ import annotations

from huey import crontab

from qike.jobs import periodic
from qike.leads import services


# Hourly is plenty: WeCom's quota (500,000 ways) is far away, and a late delete harms nobody.
@periodic(crontab(minute="7"))
def expire_lead_ways_job() -> int:
    return services.expire_ways()
