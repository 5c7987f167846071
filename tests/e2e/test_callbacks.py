"""Customers added, edited and deleted in wecomsim arrive in Qike through real encrypted callbacks."""

from __future__ import annotations

import time

import pytest

from qike.core.services import client_for
from qike.customers.models import Customer, FollowRelation, RelationStatus, TimelineKind
from qike.intake.models import CallbackEvent, EventStatus
from qike.org.models import Staff, StaffStatus
from qike.sync.full import full_sync
from qike.tags.models import Tag
from tests.e2e.helpers import assert_same_state, contact_event, deliver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _relation(corp, external_userid: str, userid: str) -> FollowRelation:
    return FollowRelation.objects.get(
        corp=corp, customer__external_userid=external_userid, staff__userid=userid
    )


def _a_member(sim_corp) -> str:
    return sim_corp.snapshot()["users"][0]["userid"]


def test_a_customer_added_in_wecom_arrives_with_remark_and_state(sim_corp, qike_corp):
    userid = _a_member(sim_corp)
    added = sim_corp.post(
        "/customers/add",
        userid=userid,
        customer={"name": "李雷", "unionid": "ou-lilei"},
        add_way=2,
        state="phone-task-7",
        remark="李雷 上海",
    )
    sim_corp.wait_for_callbacks()

    relation = _relation(qike_corp, added["external_userid"], userid)
    assert relation.status == RelationStatus.ACTIVE
    assert relation.customer.name == "李雷"
    assert relation.customer.unionid == "ou-lilei"
    assert relation.state == "phone-task-7"
    assert relation.add_way == 2
    event = CallbackEvent.objects.get(
        corp=qike_corp, kind="change_external_contact/add_external_contact"
    )
    assert event.status == EventStatus.DONE
    assert event.attempts == 1


def test_half_add_by_contact_way_then_confirmation(sim_corp, qike_corp):
    userid = _a_member(sim_corp)
    way = client_for(qike_corp).add_contact_way(
        type=1, scene=2, user=[userid], skip_verify=True, state="poster-01"
    )
    scanned = sim_corp.post(
        "/customers/scan", config_id=way["config_id"], customer={"name": "韩梅梅"}
    )
    assert scanned["status"] == "half"
    sim_corp.wait_for_callbacks()

    relation = _relation(qike_corp, scanned["external_userid"], userid)
    assert relation.is_half is True
    assert relation.state == "poster-01"  # from the event: WeCom answers 84061 until confirmed

    sim_corp.post(f"/members/{userid}/accept", external_userid=scanned["external_userid"])
    sim_corp.wait_for_callbacks()
    relation.refresh_from_db()
    assert relation.is_half is False
    assert relation.status == RelationStatus.ACTIVE
    assert relation.add_way == 1
    assert relation.customer.name == "韩梅梅"


def test_staff_edits_remark_and_tags_in_the_client(sim_corp, qike_corp):
    full_sync(qike_corp)
    customer = sim_corp.snapshot()["customers"][0]
    ext, userid = customer["external_userid"], customer["follow_users"][0]["userid"]
    tag_id = sim_corp.snapshot()["tag_groups"][0]["tags"][0]["id"]
    sim_corp.post(
        f"/members/{userid}/edit_customer",
        external_userid=ext,
        remark="老客户",
        description="喜欢周末来店",
        add_tag=[tag_id],
    )
    sim_corp.wait_for_callbacks()

    relation = _relation(qike_corp, ext, userid)
    assert relation.remark == "老客户"
    assert relation.description == "喜欢周末来店"
    assert tag_id in set(relation.tag_assignments.values_list("tag__wecom_id", flat=True))


def test_customer_deletes_staff_and_staff_deletes_customer(sim_corp, qike_corp):
    full_sync(qike_corp)
    customers = sim_corp.snapshot()["customers"]
    first, second = customers[0], customers[1]
    first_member = first["follow_users"][0]["userid"]
    second_member = second["follow_users"][0]["userid"]

    sim_corp.post(f"/customers/{first['external_userid']}/delete_member", userid=first_member)
    sim_corp.post(
        f"/members/{second_member}/delete_customer", external_userid=second["external_userid"]
    )
    sim_corp.wait_for_callbacks()

    assert _relation(qike_corp, first["external_userid"], first_member).status == (
        RelationStatus.DELETED_BY_CUSTOMER
    )
    assert _relation(qike_corp, second["external_userid"], second_member).status == (
        RelationStatus.DELETED_BY_STAFF
    )


def test_tag_library_changes_in_the_admin_console_arrive(sim_corp, qike_corp):
    full_sync(qike_corp)
    created = sim_corp.post("/admin/tags", group_name="会员等级", tags=["金卡", "银卡"])
    sim_corp.wait_for_callbacks()
    names = set(
        Tag.objects.filter(corp=qike_corp, group__name="会员等级").values_list("name", flat=True)
    )
    assert names == {"金卡", "银卡"}

    gold = Tag.objects.get(corp=qike_corp, name="金卡")
    sim_corp.post(f"/admin/tags/{gold.wecom_id}/rename", name="黑金卡")
    sim_corp.wait_for_callbacks()
    gold.refresh_from_db()
    assert gold.name == "黑金卡"

    sim_corp.post(f"/admin/tags/{gold.wecom_id}/delete")
    sim_corp.wait_for_callbacks()
    assert not Tag.objects.filter(pk=gold.pk).exists()
    assert created  # the control API answered with the group it made


def test_staff_join_move_and_leave(sim_corp, qike_corp):
    full_sync(qike_corp)
    departments = [d["id"] for d in sim_corp.snapshot()["departments"]]
    sim_corp.post(
        "/members",
        userid="newbie",
        name="新同事",
        department=[departments[0]],
        mobile="13900000001",
    )
    sim_corp.wait_for_callbacks()
    staff = Staff.objects.get(corp=qike_corp, userid="newbie")
    assert staff.name == "新同事"
    assert list(staff.departments.values_list("wecom_id", flat=True)) == [departments[0]]

    sim_corp.post("/members/newbie/move", department=[departments[-1]])
    sim_corp.wait_for_callbacks()
    assert list(staff.departments.values_list("wecom_id", flat=True)) == [departments[-1]]

    sim_corp.post("/members/newbie/leave")
    sim_corp.wait_for_callbacks()
    staff.refresh_from_db()
    assert staff.status == StaffStatus.LEFT


def test_the_same_callback_delivered_three_times_has_one_effect(sim_corp, qike_corp, live_server):
    full_sync(qike_corp)
    customer = sim_corp.snapshot()["customers"][0]
    ext, userid = customer["external_userid"], customer["follow_users"][0]["userid"]
    url = f"{live_server.url}/wecom/callback/{qike_corp.corpid}/"
    xml = contact_event(qike_corp, "del_follow_user", userid, ext, at=int(time.time()))

    answers = [deliver(url, qike_corp, xml, nonce=str(n)) for n in range(3)]

    assert [a.text for a in answers] == ["success"] * 3
    event = CallbackEvent.objects.get(
        corp=qike_corp, kind="change_external_contact/del_follow_user"
    )
    assert event.deliveries == 3
    assert event.attempts == 1  # handled once
    assert _relation(qike_corp, ext, userid).status == RelationStatus.DELETED_BY_CUSTOMER


def test_a_delete_arriving_before_its_add_wins(sim_corp, qike_corp, live_server):
    userid = _a_member(sim_corp)
    added = sim_corp.post("/customers/add", userid=userid, customer={"name": "迟到的添加"})
    sim_corp.post(f"/customers/{added['external_userid']}/delete_member", userid=userid)
    sim_corp.wait_for_callbacks()
    # Replay both in the wrong order, as a slow network might deliver them (fresh CreateTimes so the
    # dedupe store sees new events).
    url = f"{live_server.url}/wecom/callback/{qike_corp.corpid}/"
    now = int(time.time()) + 100
    ext = added["external_userid"]
    deliver(url, qike_corp, contact_event(qike_corp, "del_follow_user", userid, ext, at=now + 1))
    deliver(url, qike_corp, contact_event(qike_corp, "add_external_contact", userid, ext, at=now))

    assert _relation(qike_corp, ext, userid).status == RelationStatus.DELETED_BY_CUSTOMER


def test_a_delete_for_an_unknown_customer_arrives_first(sim_corp, qike_corp, live_server):
    customer = sim_corp.snapshot()["customers"][0]
    ext, userid = customer["external_userid"], customer["follow_users"][0]["userid"]
    url = f"{live_server.url}/wecom/callback/{qike_corp.corpid}/"
    now = int(time.time())
    deliver(
        url, qike_corp, contact_event(qike_corp, "del_external_contact", userid, ext, at=now + 5)
    )
    deliver(url, qike_corp, contact_event(qike_corp, "add_external_contact", userid, ext, at=now))

    relation = _relation(qike_corp, ext, userid)
    assert relation.status == RelationStatus.DELETED_BY_STAFF
    assert relation.customer.name == customer["name"]  # the add still brought the data


def test_full_sync_equals_the_simulator(sim_corp, qike_corp):
    report = full_sync(qike_corp)
    snapshot = sim_corp.snapshot()
    assert report.customers == len(snapshot["customers"])
    assert_same_state(qike_corp, snapshot)


def test_events_keep_qike_equal_to_the_simulator(sim_corp, qike_corp):
    full_sync(qike_corp)
    snapshot = sim_corp.snapshot()
    users = [u["userid"] for u in snapshot["users"]]
    for n in range(5):
        sim_corp.post("/customers/add", userid=users[n % len(users)], customer={"name": f"客户{n}"})
    victim = snapshot["customers"][3]
    sim_corp.post(
        f"/members/{victim['follow_users'][0]['userid']}/delete_customer",
        external_userid=victim["external_userid"],
    )
    sim_corp.wait_for_callbacks()
    assert_same_state(qike_corp, sim_corp.snapshot())
    assert Customer.objects.filter(corp=qike_corp, name__startswith="客户").count() == 5


def test_sync_puts_each_add_on_the_timeline_once(sim_corp, qike_corp, live_server):
    full_sync(qike_corp)
    customer = sim_corp.snapshot()["customers"][0]
    ext, userid = customer["external_userid"], customer["follow_users"][0]["userid"]
    relation = _relation(qike_corp, ext, userid)
    added = relation.customer.timeline.filter(kind=TimelineKind.ADDED, staff=relation.staff)
    assert added.count() == 1
    assert added.get().occurred_at == relation.added_at

    # WeCom's add event for the same moment arrives late: nothing new on the timeline.
    url = f"{live_server.url}/wecom/callback/{qike_corp.corpid}/"
    at = int(relation.added_at.timestamp())
    deliver(url, qike_corp, contact_event(qike_corp, "add_external_contact", userid, ext, at=at))
    assert added.count() == 1
