"""`qike sync` on a 5,000-customer corp, and `qike reconcile` after lost callbacks."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from qike.customers.models import Customer, FollowRelation, RelationStatus, TimelineKind
from tests.conftest import connect, seed_sim_corp
from tests.e2e.helpers import assert_same_state

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sync_of_5000_customers_equals_the_simulator(sim, live_server, settings):
    sim_corp = seed_sim_corp(sim, seed=11, departments=8, staff=60, customers=5000)
    corp = connect(sim, sim_corp, live_server, settings)
    out = StringIO()
    call_command("sync", corp.corpid, "--quiet", stdout=out)
    report = json.loads(out.getvalue())
    snapshot = sim_corp.snapshot()
    assert report["customers"] == len(snapshot["customers"]) == 5000
    assert_same_state(corp, snapshot)

    # A second sync changes nothing.
    before = FollowRelation.objects.filter(corp=corp).count()
    call_command("sync", corp.corpid, "--quiet", stdout=StringIO())
    assert FollowRelation.objects.filter(corp=corp).count() == before
    assert_same_state(corp, sim_corp.snapshot())


def test_reconcile_finds_and_repairs_what_dropped_callbacks_lost(sim, live_server, settings):
    sim_corp = seed_sim_corp(sim, seed=12, customers=40)
    corp = connect(sim, sim_corp, live_server, settings)
    call_command("sync", corp.corpid, "--quiet", stdout=StringIO())
    snapshot = sim_corp.snapshot()
    userid = snapshot["users"][0]["userid"]
    victim = snapshot["customers"][5]

    sim_corp.post("/callbacks/drop", count=2)
    added = sim_corp.post("/customers/add", userid=userid, customer={"name": "丢失的回调"})
    sim_corp.post(
        f"/members/{victim['follow_users'][0]['userid']}/delete_customer",
        external_userid=victim["external_userid"],
    )
    sim_corp.wait_for_callbacks()
    assert not Customer.objects.filter(corp=corp, external_userid=added["external_userid"]).exists()

    dry = StringIO()
    call_command("reconcile", corp.corpid, "--dry-run", "--quiet", stdout=dry)
    found = json.loads(dry.getvalue())
    assert found["by_kind"].get("missing_customer") == 1
    assert found["by_kind"].get("relation_gone_in_wecom") == 1
    assert not Customer.objects.filter(corp=corp, external_userid=added["external_userid"]).exists()

    out = StringIO()
    call_command("reconcile", corp.corpid, "--quiet", stdout=out)
    assert json.loads(out.getvalue())["differences"] == 2, out.getvalue()
    assert Customer.objects.filter(corp=corp, external_userid=added["external_userid"]).exists()
    gone = FollowRelation.objects.get(
        corp=corp,
        customer__external_userid=victim["external_userid"],
        staff__userid=victim["follow_users"][0]["userid"],
    )
    assert gone.status == RelationStatus.DELETED_BY_STAFF
    assert gone.customer.timeline.filter(kind=TimelineKind.DELETED_BY_STAFF).count() == 1
    assert_same_state(corp, sim_corp.snapshot())

    again = StringIO()
    call_command("reconcile", corp.corpid, "--quiet", stdout=again)
    assert json.loads(again.getvalue())["differences"] == 0
