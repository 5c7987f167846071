"""A seeded wecomsim corp connected to Qike and synced, console users in every role (the leads
fixtures), and helpers that play the staff's side of a mass message in WeCom."""

from __future__ import annotations

import pytest

from qike.campaigns import services
from qike.campaigns.models import Campaign
from tests.leads.conftest import admin, corp, userids, users  # noqa: F401  (shared fixtures)
from tests.transfers.conftest import DAY, add_customer, advance  # noqa: F401

DISPATCHED = 2  # seconds: wecomsim dispatches a task for ~1 s before the member sees it


@pytest.fixture
def ops(corp, users):  # noqa: F811  (the shared fixtures)
    from qike.org.access import access_for
    from qike.org.models import Role

    return access_for(users[Role.OPERATIONS], corp)


def tasks(sim_corp, msgid: str | None = None) -> list[dict]:
    """What WeCom holds: every mass-message task of the corp (or one)."""
    return sim_corp.get("/groupmsg", **({"msgid": msgid} if msgid else {}))


def recipients(sim_corp, campaign: Campaign) -> dict[str, set[str]]:
    """{sender userid: customers} over the campaign's WeCom messages."""
    msgids = set(campaign.messages.values_list("msgid", flat=True))
    found: dict[str, set[str]] = {}
    for task in tasks(sim_corp):
        if task["msgid"] in msgids:
            found.setdefault(task["sender"], set()).update(
                r["external_userid"] for r in task["results"]
            )
    return found


def confirm(sim_corp, campaign: Campaign, userid: str) -> dict:
    """The staff member taps 发送 in the WeCom client (once the task has reached them)."""
    message = campaign.messages.get(userid=userid)
    return sim_corp.post(f"/groupmsg/{message.msgid}/confirm", userid=userid)


def send(access, **fields) -> Campaign:
    campaign = services.create(access=access, draft=services.Draft(**fields))
    campaign.refresh_from_db()
    return campaign
