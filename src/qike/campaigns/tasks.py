"""Jobs of mass messages: dispatch (now, or when a scheduled campaign is due, on Qike's clock),
follow the staff confirmations and customer results while campaigns wait for staff, and remind
staff who have not sent when a campaign's automatic reminder is due."""

from __future__ import annotations

import logging

from huey import crontab

from qike.audit.services import Actor, acting
from qike.campaigns import services
from qike.jobs import periodic, task

log = logging.getLogger("qike.campaigns")


@task()
def dispatch_campaign_job(campaign_id: int) -> str:
    with acting(Actor(via="job", name="campaigns")):
        campaign = services.dispatch(campaign_id=campaign_id)
    return campaign.status if campaign else "skipped"


def dispatch_due() -> int:
    """Dispatch every campaign whose time has come; one failing does not stop the others."""
    done = 0
    with acting(Actor(via="job", name="campaigns")):
        for campaign_id in list(services.due_campaigns().values_list("pk", flat=True)):
            try:
                if services.dispatch(campaign_id=campaign_id) is not None:
                    done += 1
            except Exception:
                log.exception("campaigns.dispatch_failed campaign=%s", campaign_id)
    return done


def poll_open() -> int:
    changed = 0
    with acting(Actor(via="job", name="campaigns")):
        for campaign in services.open_campaigns():
            try:
                changed += sum(services.poll(corp=campaign.corp, campaign=campaign).values())
            except Exception:
                log.exception("campaigns.poll_failed campaign=%s", campaign.pk)
    return changed


def remind_due() -> int:
    """Take every due automatic reminder step; returns the staff members reminded. One campaign
    failing does not stop the others."""
    reminded = 0
    with acting(Actor(via="job", name="campaigns")):
        for campaign_id in list(services.auto_remind_candidates().values_list("pk", flat=True)):
            try:
                done = services.auto_remind(campaign_id=campaign_id)
            except Exception:
                log.exception("campaigns.auto_remind_failed campaign=%s", campaign_id)
                continue
            reminded += len(done.reminded) if done else 0
    return reminded


@periodic(crontab(minute="*"))
def dispatch_due_job() -> int:
    return dispatch_due()


@periodic(crontab(minute="*/10"))
def poll_campaigns_job() -> int:
    return poll_open()


@periodic(crontab(minute="*/5"))
def remind_due_job() -> int:
    return remind_due()
