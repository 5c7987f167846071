"""A seeded wecomsim corp connected to Qike and synced, users in every role (the leads fixtures),
and helpers that play WeCom's side of a moment: customers with a corp tag, staff publishing,
customers commenting and liking, the job's seconds passing."""

from __future__ import annotations

import pytest

from qike.core.services import client_for
from qike.tags.models import Tag, TagType
from tests.leads.conftest import _fresh_rate_limits, admin, corp, userids  # noqa: F401
from tests.leads.conftest import users as users
from tests.transfers.conftest import add_customer, advance  # noqa: F401

JOB_SECONDS = 6  # wecomsim finishes a moment job 5 seconds after add_moment_task


@pytest.fixture
def vip(users, qike_corp) -> Tag:
    """A corp tag Qike synced (users needs the synced corp)."""
    return Tag.objects.filter(corp=qike_corp, type=TagType.CORP).order_by("pk").first()


def tagged_customer(sim_corp, tenant, userid: str, name: str, tag: Tag) -> str:
    """A new customer of `userid` carrying `tag` in WeCom."""
    ext = add_customer(sim_corp, userid, name)
    with client_for(tenant) as client:
        client.mark_tag(userid=userid, external_userid=ext, add_tag=[tag.wecom_id])
    return ext


def publish(sim_corp, moment_id: str, userid: str) -> dict:
    return sim_corp.post(f"/moments/{moment_id}/publish", userid=userid)


def react(sim_corp, moment_id: str, kind: str, userid: str, ext: str, text: str = "") -> dict:
    return sim_corp.post(
        f"/moments/{moment_id}/{kind}", userid=userid, external_userid=ext, text=text
    )
