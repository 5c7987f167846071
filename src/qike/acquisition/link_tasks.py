"""Jobs for acquisition links: poll each link's customers (adds whose events were missed) and
WeCom's daily figures. Imported by handlers.py so the periodic jobs are registered."""

from __future__ import annotations

from huey import crontab

from qike.acquisition import links
from qike.jobs import periodic, task


@task()
def poll_link_customers_job(link_pk: int) -> int:
    return links.poll_customers(link_pk=link_pk)


@task()
def sync_link_stats_job(link_pk: int, days: int = 7) -> int:
    return links.sync_stats(link_pk=link_pk, days=days)


# Events carry the adds within seconds; polling is the safety net for lost or unmatched ones.
@periodic(crontab(minute="*/10"))
def poll_all_links_job() -> int:
    return links.poll_all_links()


# WeCom's statistic is by whole day: today's and yesterday's figures settle over the day.
@periodic(crontab(minute="17"))
def sync_all_link_stats_job() -> int:
    return links.sync_all_stats()
