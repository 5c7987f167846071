"""Qike against an unreliable WeCom: expiring tokens, busy answers, rate limits, lost callbacks."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from qike.core.models import AccessToken
from qike.core.services import client_for
from qike.customers.models import FollowRelation
from qike.intake.models import CallbackEvent, EventStatus
from qike.sync.full import full_sync
from tests.e2e.helpers import assert_same_state

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_processes_share_one_access_token(sim_corp, qike_corp):
    first, second = client_for(qike_corp), client_for(qike_corp)
    assert first.get_token() == second.get_token()
    assert AccessToken.objects.count() == 1
    assert sim_corp.secret not in AccessToken.objects.values_list("key", flat=True)[0]


def test_an_expired_token_is_replaced_transparently(sim_corp, qike_corp):
    full_sync(qike_corp)
    old = client_for(qike_corp).get_token()
    sim_corp.post("/tokens/expire")
    full_sync(qike_corp)
    assert client_for(qike_corp).get_token() != old
    assert_same_state(qike_corp, sim_corp.snapshot())


def test_sync_rides_out_busy_answers_and_a_rate_limit(sim_corp, qike_corp):
    control = sim_corp.control
    control.post(
        "/sim/faults", json={"path": "externalcontact/batch/get_by_user", "errcode": -1, "times": 2}
    )
    control.post(
        "/sim/faults",
        json={"path": "externalcontact/get_follow_user_list", "errcode": 45009, "times": 1},
    )
    full_sync(qike_corp)
    assert_same_state(qike_corp, sim_corp.snapshot())
    assert control.get("/sim/faults").json()["faults"] == []  # every injected fault was met


def test_a_refusing_wecom_fails_the_sync_with_its_error(sim_corp, qike_corp):
    sim_corp.control.post(
        "/sim/faults", json={"path": "externalcontact/get_follow_user_list", "errcode": 48002}
    )
    with pytest.raises(CommandError, match="48002"):
        call_command("sync", qike_corp.corpid, "--quiet", stdout=StringIO())


def test_an_event_wecom_cannot_serve_now_fails_visibly_and_replays(sim_corp, qike_corp):
    userid = sim_corp.snapshot()["users"][0]["userid"]
    sim_corp.control.post("/sim/faults", json={"path": "externalcontact/get", "errcode": 48002})
    added = sim_corp.post("/customers/add", userid=userid, customer={"name": "稍后再来"})
    sim_corp.wait_for_callbacks()  # Qike still answered success: the event is stored
    event = CallbackEvent.objects.get(
        corp=qike_corp, kind="change_external_contact/add_external_contact"
    )
    assert event.status == EventStatus.FAILED
    assert "48002" in event.last_error

    sim_corp.control.delete("/sim/faults")
    call_command("replay", str(event.pk), stdout=StringIO(), stderr=StringIO())
    event.refresh_from_db()
    assert event.status == EventStatus.DONE
    relation = FollowRelation.objects.get(
        corp=qike_corp, customer__external_userid=added["external_userid"], staff__userid=userid
    )
    assert relation.customer.name == "稍后再来"
