"""Two corps in one Qike: nothing crosses over."""

from __future__ import annotations

import pytest

from qike.customers.models import Customer, FollowRelation
from qike.intake.models import CallbackEvent
from qike.org.models import Staff
from qike.sync.full import full_sync
from qike.tags.models import Tag
from tests.conftest import connect, seed_sim_corp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_two_corps_keep_their_own_events_customers_and_tags(sim, live_server, settings):
    first_sim = seed_sim_corp(sim, seed=1, customers=15)
    second_sim = seed_sim_corp(sim, seed=2, customers=10)
    first = connect(sim, first_sim, live_server, settings)
    second = connect(sim, second_sim, live_server, settings)
    full_sync(first)
    full_sync(second)

    userid = first_sim.snapshot()["users"][0]["userid"]
    added = first_sim.post("/customers/add", userid=userid, customer={"name": "只属于第一家"})
    first_sim.post("/admin/tags", group_name="第一家的标签", tags=["A"])
    first_sim.wait_for_callbacks()

    assert CallbackEvent.objects.filter(corp=first).exists()
    assert not CallbackEvent.objects.filter(corp=second).exists()
    assert Customer.objects.filter(corp=first, external_userid=added["external_userid"]).exists()
    assert not Customer.objects.filter(
        corp=second, external_userid=added["external_userid"]
    ).exists()
    assert Tag.objects.filter(corp=first, group__name="第一家的标签").exists()
    assert not Tag.objects.filter(corp=second, group__name="第一家的标签").exists()
    assert Customer.objects.filter(corp=second).count() == len(second_sim.snapshot()["customers"])
    for corp in (first, second):
        assert not FollowRelation.objects.filter(corp=corp).exclude(customer__corp=corp).exists()
        assert not FollowRelation.objects.filter(corp=corp).exclude(staff__corp=corp).exists()
        assert not Staff.objects.filter(corp=corp).exclude(corp=corp).exists()


def test_an_event_signed_for_one_corp_is_refused_on_the_others_url(sim, live_server, settings):
    import time

    from tests.e2e.helpers import contact_event, deliver

    first = connect(sim, seed_sim_corp(sim, seed=3), live_server, settings)
    second = connect(sim, seed_sim_corp(sim, seed=4), live_server, settings)
    xml = contact_event(first, "del_follow_user", "u", "wmX", at=int(time.time()))
    answer = deliver(f"{live_server.url}/wecom/callback/{second.corpid}/", first, xml)
    assert answer.status_code == 403
    assert not CallbackEvent.objects.exists()
