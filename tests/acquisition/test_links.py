"""Acquisition links end to end through wecomsim: created with a staff range, clicked with a
customer_channel, attributed once to link and sub-channel, auto-tagged, costed and alerted."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from qike.acquisition import links
from qike.acquisition.links import ChannelSpec, LinkSpec
from qike.acquisition.models import (
    AcquisitionLink,
    LinkAdd,
    LinkChannel,
    LinkDailyStat,
    LinkSettings,
    QuotaAlert,
)
from qike.core.services import client_for
from qike.customers.models import FollowRelation, TimelineEntry, TimelineKind
from qike.engagement.sources import source_for_state
from qike.org.models import Department, Membership, Role, Staff
from qike.tags.models import Tag

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def click(sim_corp, link, channel: str = "", name: str = "点链接的客户") -> dict:
    body = {"customer": {"name": name}, "auto_accept": True}
    if channel:
        body["customer_channel"] = channel
    answer = sim_corp.post(f"/acquisition/{link.link_id}/click", **body)
    sim_corp.wait_for_callbacks()
    return answer


def _link(admin, userids, **extra) -> AcquisitionLink:
    spec = {"name": "抖音投放", "userids": tuple(userids[:2]), **extra}
    return links.create_link(access=admin, spec=LinkSpec(**spec))


def test_link_is_created_with_its_range_and_a_click_is_attributed_tagged_and_on_the_timeline(
    corp, admin, userids, sim_corp
):
    tag = Tag.objects.filter(corp=corp, type=1).first()
    link = _link(
        admin, userids, tag_ids=(tag.wecom_id,), channels=(ChannelSpec("抖音直播间", "douyin"),)
    )
    with client_for(corp) as client:
        wecom = client.get_acquisition_link(link.link_id)
    assert wecom["range"]["user_list"] == userids[:2]
    assert wecom["link"]["link_name"] == "抖音投放"
    channel = link.channels.get()
    assert channel.state == f"ca-{link.pk}-douyin"
    assert channel.url == f"{link.url}?customer_channel={channel.state}"
    source = source_for_state(corp, channel.state)
    assert (source.kind, source.object_id, source.tag_ids) == (
        "acquisition_link",
        link.pk,
        (tag.pk,),
    )

    answer = click(sim_corp, link, channel.state, "李四")
    assert answer["status"] == "added", answer
    relation = FollowRelation.objects.get(
        corp=corp,
        customer__external_userid=answer["external_userid"],
        staff__userid=answer["userid"],
    )
    assert relation.add_way == 16
    add = LinkAdd.objects.get(link=link)
    assert (add.relation, add.channel, add.cost_fen) == (relation, channel, 0)
    entry = TimelineEntry.objects.get(customer=relation.customer, kind=TimelineKind.CHANNEL)
    assert entry.data["label"] == "抖音投放 · 抖音直播间"
    assert relation.tag_assignments.filter(tag=tag).exists()
    customer = next(
        c
        for c in sim_corp.snapshot()["customers"]
        if c["external_userid"] == answer["external_userid"]
    )
    follow = next(f for f in customer["follow_users"] if f["userid"] == answer["userid"])
    assert tag.wecom_id in follow["tag_ids"]

    # Polling WeCom's customer list and a repeated friend_request change nothing.
    assert links.poll_customers(link_pk=link.pk) == 0
    assert links.on_friend_request(corp=corp, link_id=link.link_id, state=channel.state) == 0
    assert LinkAdd.objects.count() == 1
    assert TimelineEntry.objects.filter(kind=TimelineKind.CHANNEL).count() == 1

    # WeCom's figures for today: one click, one new customer.
    links.sync_stats(link_pk=link.pk, days=1)
    stat = LinkDailyStat.objects.get(link=link)
    assert (stat.clicks, stat.new_customers) == (1, 1)


def test_a_missed_add_is_attributed_by_polling_and_a_hand_made_channel_by_friend_request(
    corp, admin, userids, sim_corp
):
    link = _link(admin, userids)
    answer = click(sim_corp, link, "wechat_article")  # a customer_channel Qike did not make
    channel = LinkChannel.objects.get(link=link, state="wechat_article")
    add = LinkAdd.objects.get(link=link)
    assert (
        add.channel == channel
        and add.relation.customer.external_userid == answer["external_userid"]
    )

    add.delete()  # as if the events had been lost: polling finds the customer
    assert links.poll_customers(link_pk=link.pk) == 1
    assert LinkAdd.objects.get(link=link).via == "poll"
    assert links.poll_customers(link_pk=link.pk) == 0


def test_adds_after_the_free_quota_cost_the_price_and_low_balance_alerts_admins_once(
    corp, admin, users, userids, sim_corp, sim
):
    staff = Staff.objects.get(corp=corp, userid=userids[0])
    Membership.objects.filter(user=users[Role.CORP_ADMIN]).update(staff=staff)
    LinkSettings.objects.update_or_create(corp=corp, defaults={"adds_counted": 49})
    sim_corp.post("/acquisition/quota", balance=21)
    link = _link(admin, userids, channels=(ChannelSpec("朋友圈", "moments"),))
    state = link.channels.get().state

    first = click(sim_corp, link, state, "第五十位")
    second = click(sim_corp, link, state, "第五十一位")
    third = click(sim_corp, link, state, "第五十二位")
    costs = [
        LinkAdd.objects.get(relation__customer__external_userid=a["external_userid"]).cost_fen
        for a in (first, second, third)
    ]
    assert costs == [0, 300, 300]
    assert links.costs(LinkAdd.objects.filter(link=link)) == links.Costs(3, 600)

    alert = QuotaAlert.objects.get(corp=corp)
    assert alert.kind == "balance_low" and alert.notified == [userids[0]]
    messages = sim_corp.get("/app_messages", userid=userids[0])
    assert (
        len(
            [
                m
                for m in messages
                if "获客助手余量不足" in m["text"]["content"]  # sent in the corp language
            ]
        )
        == 1
    )
    links.alert_admins(corp=corp, kind=alert.kind, event_at=alert.event_at)  # redelivered
    assert QuotaAlert.objects.count() == 1
    assert len(sim_corp.get("/app_messages", userid=userids[0])) == len(messages)
    assert links.refresh_balance(corp=corp).balance == 18


def test_bad_input_is_refused_and_nothing_is_written(corp, admin, userids, sim_corp, monkeypatch):
    with pytest.raises(ValidationError, match="name"):
        links.create_link(access=admin, spec=LinkSpec(name=" ", userids=tuple(userids[:1])))
    with pytest.raises(ValidationError, match="at most 100"):
        links.create_link(
            access=admin, spec=LinkSpec(name="太多", userids=tuple(f"u{i}" for i in range(101)))
        )
    with pytest.raises(ValidationError, match="nobody"):
        links.create_link(access=admin, spec=LinkSpec(name="空"))
    with pytest.raises(ValidationError, match="letters"):
        links.create_link(
            access=admin,
            spec=LinkSpec(
                name="渠道", userids=tuple(userids[:1]), channels=(ChannelSpec("抖音", "抖 音"),)
            ),
        )
    root = Department.objects.filter(corp=corp).order_by("depth").first()
    monkeypatch.setattr(links, "MAX_RANGE_DEPARTMENT_PEOPLE", 2)
    with pytest.raises(ValidationError, match="departments have"):
        links.create_link(access=admin, spec=LinkSpec(name="部门", department_ids=(root.wecom_id,)))
    assert not AcquisitionLink.objects.exists() and not LinkChannel.objects.exists()
    assert sim_corp.snapshot()["acquisition"]["links"] == []


def test_a_link_deleted_in_wecoms_admin_console_is_deleted_in_qike(corp, admin, userids, sim_corp):
    link = _link(admin, userids)
    sim_corp.post(f"/acquisition/{link.link_id}/delete")
    sim_corp.wait_for_callbacks()
    link.refresh_from_db()
    assert link.deleted_at is not None
