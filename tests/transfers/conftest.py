"""The leads tests' fixtures (a seeded wecomsim corp, connected and synced; users in every role), a
spy on the movers, and helpers that play WeCom's side of a transfer: customers, refusals, the
customer limit, the 24 hours."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qike.core import clock
from qike.core.services import client_for
from qike.customers import handover
from qike.customers.models import FollowRelation
from tests.leads.conftest import admin, corp, userids, users  # noqa: F401  (shared fixtures)

DAY = 86400


@pytest.fixture
def moved() -> Iterator[list[tuple[int, int]]]:
    """Every (handover relation, takeover relation) the registered movers were called with."""
    calls: list[tuple[int, int]] = []

    def spy(_corp, old: FollowRelation, new: FollowRelation) -> None:
        calls.append((old.pk, new.pk))

    handover.register_mover(spy)
    yield calls
    handover._movers.remove(spy)


def add_customer(sim_corp, userid: str, name: str = "") -> str:
    """A new customer of `userid` in WeCom; Qike learns of it through the add event."""
    answer = sim_corp.post("/customers/add", userid=userid, customer={"name": name} if name else {})
    sim_corp.wait_for_callbacks()
    return answer["external_userid"]


def advance(sim_corp, seconds: float) -> None:
    """Move both clocks; WeCom completes due takeovers and calls back."""
    clock.advance(seconds)
    answer = sim_corp.control.post("/sim/clock/advance", json={"seconds": seconds})
    assert answer.status_code == 200, answer.text
    sim_corp.wait_for_callbacks()


def wecom_follow(tenant, external_userid: str, userid: str) -> dict | None:
    with client_for(tenant) as client:
        answer = client.get_external_contact(external_userid)
    return next((f for f in answer["follow_user"] if f["userid"] == userid), None)


def customer_count(tenant, userid: str) -> int:
    with client_for(tenant) as client:
        return len(client.list_external_contacts(userid))
