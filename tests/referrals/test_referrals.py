"""Referrals end to end through wecomsim: a code (contact way) per existing customer, friends who
scan it attributed to the referrer with the campaign's welcome and tags, one referral however often
WeCom calls, existing customers recorded but not counted, a reward task and an app message at every
N new customers, the leaderboard, and the public share page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from qike.core import clock
from qike.core.services import client_for
from qike.customers.models import TimelineEntry, TimelineKind
from qike.engagement.sources import source_for_state
from qike.intake.models import CallbackEvent
from qike.intake.services import replay
from qike.org.models import Role
from qike.referrals import services
from qike.referrals.models import Campaign, Referral, ReferralCode, RewardStatus, RewardTask
from qike.referrals.services import CampaignSpec
from qike.tags.models import TagAssignment
from qike.wecom.errors import WeComError
from tests.e2e.helpers import deliver
from tests.referrals.conftest import referrer, scan, today

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _way(corp, code) -> dict:
    with client_for(corp) as client:
        return client.get_contact_way(code.config_id)


def _follow(sim_corp, external_userid: str, userid: str) -> dict:
    customer = next(
        c for c in sim_corp.snapshot()["customers"] if c["external_userid"] == external_userid
    )
    return next(f for f in customer["follow_users"] if f["userid"] == userid)


def _member_with_customers(corp, userids, least: int = 2) -> str:
    """A member with at least `least` confirmed customers (the seed spreads 20 over 5)."""
    from qike.customers.models import FollowRelation, RelationStatus

    for userid in userids:
        mine = FollowRelation.objects.filter(
            corp=corp, staff__userid=userid, status=RelationStatus.ACTIVE, is_half=False
        )
        if mine.count() >= least:
            return userid
    raise AssertionError("the seed gave nobody enough customers")


def test_a_code_is_one_contact_way_per_referrer_made_on_demand(corp, admin, campaign, userids):
    userid = _member_with_customers(corp, userids)
    relation = referrer(corp, userid)
    code, created = services.ensure_code(access=admin, campaign=campaign, relation=relation)
    assert created and code.state == f"rf-{code.pk}" and len(code.state) <= 30
    way = _way(corp, code)
    assert (way["type"], way["user"], way["state"]) == (1, [userid], code.state)
    assert way["skip_verify"] is True
    assert len(code.token) >= 20  # unguessable share address

    again, created = services.ensure_code(access=admin, campaign=campaign, relation=relation)
    assert (again.pk, again.config_id, created) == (code.pk, code.config_id, False)
    assert ReferralCode.objects.count() == 1

    # Another campaign gets its own code; "add with verification" is passed to WeCom.
    strict = services.save_campaign(
        access=admin,
        spec=CampaignSpec(name="需验证", starts_on=today(), skip_verify=False, reward_every=0),
    )
    other, created = services.ensure_code(access=admin, campaign=strict, relation=relation)
    assert created and other.state != code.state and _way(corp, other)["skip_verify"] is False


def test_a_new_friend_is_attributed_welcomed_tagged_and_on_both_timelines(
    corp, admin, campaign, userids, sim_corp, tag, client, users
):
    userid = _member_with_customers(corp, userids)
    relation = referrer(corp, userid)
    code, _ = services.ensure_code(access=admin, campaign=campaign, relation=relation)
    source = source_for_state(corp, code.state)
    assert (source.kind, source.object_id, source.tag_ids) == ("referral", code.pk, (tag.pk,))
    assert source.label == f"referred by {relation.customer.name}"
    assert source.welcome_message_id == campaign.welcome_message_id

    scanned = scan(sim_corp, code, "小红")
    assert scanned["userid"] == userid

    referral = Referral.objects.get()
    assert referral.referrer == relation.customer and referral.code == code
    assert referral.referred.external_userid == scanned["external_userid"]
    assert referral.staff.userid == userid and referral.is_new and referral.counted
    # The campaign's welcome message went out with the add's welcome code.
    sent = [
        w for w in sim_corp.get("/welcome_messages") if w["welcome_code"] == scanned["welcome_code"]
    ]
    assert [w["text"] for w in sent] == ["您好 新朋友，欢迎！"]
    # Its tag, in WeCom and in Qike.
    assert tag.wecom_id in _follow(sim_corp, scanned["external_userid"], userid)["tag_ids"]
    assert TagAssignment.objects.filter(relation=referral.relation, tag=tag).exists()
    # Both timelines.
    (by,) = TimelineEntry.objects.filter(customer=referral.referred, data__kind="referral")
    assert by.kind == TimelineKind.CHANNEL
    assert relation.customer.name in by.data["label"]  # "referred by …", in the corp's language
    assert by.data["referrer"] == relation.customer.external_userid
    (did,) = TimelineEntry.objects.filter(customer=relation.customer, data__kind="referral")
    assert did.kind == services.REFERRER_TIMELINE_KIND
    # Named once the member confirmed (a half-added friend's name cannot be read yet).
    assert did.data["referred_name"] == "小红" and "小红" in did.data["label"]
    assert did.data["referred"] == scanned["external_userid"]
    assert did.staff.userid == userid
    # And both customer pages say so.
    client.force_login(users[Role.CORP_ADMIN])
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    friend = client.get(f"/customers/{scanned['external_userid']}/timeline/", **zh)
    assert by.data["label"] in friend.content.decode()
    theirs = client.get(f"/customers/{relation.customer.external_userid}/timeline/", **zh)
    assert "推荐了好友" in theirs.content.decode() and did.data["label"] in theirs.content.decode()


def test_the_same_add_delivered_three_times_and_replayed_is_one_referral(
    corp, admin, campaign, userids, sim_corp, live_server
):
    relation = referrer(corp, _member_with_customers(corp, userids))
    code, _ = services.ensure_code(access=admin, campaign=campaign, relation=relation)
    scanned = scan(sim_corp, code, "重复的朋友")
    deliveries = sim_corp.control.get(
        f"/sim/corps/{sim_corp.corpid}/deliveries", params={"xml": 1}
    ).json()
    adds = [d for d in deliveries if scanned["external_userid"] in (d.get("xml") or "")]
    assert adds
    url = f"{live_server.url}/wecom/callback/{corp.corpid}/"
    for delivery in adds:
        for _ in range(2):  # WeCom retries: each add arrives three times in all
            assert deliver(url, corp, delivery["xml"]).status_code == 200
    replay(CallbackEvent.objects.filter(corp=corp))  # and every handler runs again

    referral = Referral.objects.get()
    assert (
        TimelineEntry.objects.filter(customer=referral.referred, data__kind="referral").count() == 1
    )
    assert (
        TimelineEntry.objects.filter(customer=relation.customer, data__kind="referral").count() == 1
    )
    assert (
        TimelineEntry.objects.filter(
            customer=referral.referred, kind=TimelineKind.TAGS_CHANGED
        ).count()
        == 1
    )
    welcomes = [
        (w["welcome_code"], w["errcode"])
        for w in sim_corp.get("/welcome_messages")
        if w["external_userid"] == scanned["external_userid"]
    ]
    assert [errcode for _code, errcode in welcomes] == [0], welcomes


def test_an_existing_customer_adding_through_a_code_is_recorded_but_not_counted(
    corp, admin, campaign, userids, sim_corp
):
    from qike.customers.models import FollowRelation, RelationStatus

    userid = _member_with_customers(corp, userids)
    relation = referrer(corp, userid)
    code, _ = services.ensure_code(access=admin, campaign=campaign, relation=relation)
    # A customer of another member, who does not follow the referrer's member yet.
    theirs = (
        FollowRelation.objects.filter(corp=corp, status=RelationStatus.ACTIVE, is_half=False)
        .exclude(staff__userid=userid)
        .exclude(customer__relations__staff__userid=userid)
        .select_related("customer")
        .first()
    )
    scan(sim_corp, code, external_userid=theirs.customer.external_userid)

    referral = Referral.objects.get()
    assert referral.referred == theirs.customer
    assert (referral.is_new, referral.counted) == (False, False)
    entry = TimelineEntry.objects.get(customer=relation.customer, data__kind="referral")
    assert entry.data["counted"] is False
    board = services.leaderboard(access=admin, campaign=campaign)
    assert board == []


def _app_messages(sim_corp, userid: str) -> list[str]:
    return [m["text"]["content"] for m in sim_corp.get("/app_messages", userid=userid)]


def test_every_third_new_customer_earns_one_reward_task_and_one_message(
    corp, admin, campaign, userids, sim_corp, users, client
):
    userid = _member_with_customers(corp, userids)
    relation = referrer(corp, userid)
    code, _ = services.ensure_code(access=admin, campaign=campaign, relation=relation)
    for number in range(2):
        scan(sim_corp, code, f"朋友{number}")
    assert RewardTask.objects.count() == 0 and _app_messages(sim_corp, userid) == []

    scan(sim_corp, code, "朋友2")
    task = RewardTask.objects.get()
    assert (task.milestone, task.status, task.staff.userid) == (3, RewardStatus.OPEN, userid)
    assert task.referrer == relation.customer and task.reward_text == "送一张 50 元优惠券"
    assert task.notified_at is not None and task.notify_error == ""
    (text,) = _app_messages(sim_corp, userid)
    assert relation.customer.name in text and "送一张 50 元优惠券" in text and "3" in text

    replay(CallbackEvent.objects.filter(corp=corp))  # nothing twice
    assert RewardTask.objects.count() == 1 and len(_app_messages(sim_corp, userid)) == 1

    for number in range(3, 6):
        scan(sim_corp, code, f"朋友{number}")
    assert sorted(RewardTask.objects.values_list("milestone", flat=True)) == [3, 6]
    assert len(_app_messages(sim_corp, userid)) == 2

    # The staff member marks the first one done in the console.
    from qike.org.models import Membership

    Membership.objects.filter(user=users[Role.STAFF]).update(staff=code.staff)
    client.force_login(users[Role.STAFF])
    page = client.get("/referrals/rewards/").content.decode()
    assert f'id="reward-{task.pk}"' in page
    response = client.post(f"/referrals/rewards/{task.pk}/done/")
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == RewardStatus.DONE and task.done_by == "u-staff"
    assert task.done_at is not None
    assert f'id="reward-{task.pk}"' not in client.get("/referrals/rewards/").content.decode()


def test_a_reward_message_that_fails_is_kept_and_can_be_sent_again(
    corp, admin, campaign, userids, sim_corp, client, users
):
    Campaign.objects.filter(pk=campaign.pk).update(reward_every=1)
    corp.agent_id, agent_id = None, corp.agent_id
    corp.save()
    relation = referrer(corp, _member_with_customers(corp, userids))
    code, _ = services.ensure_code(access=admin, campaign=campaign, relation=relation)
    scan(sim_corp, code, "没收到消息")
    task = RewardTask.objects.get()
    assert task.notified_at is None and task.notify_error

    corp.agent_id = agent_id
    corp.save()
    client.force_login(users[Role.OPERATIONS])
    assert client.post(f"/referrals/rewards/{task.pk}/notify/").status_code == 302
    task.refresh_from_db()
    assert task.notified_at is not None and task.notify_error == ""
    assert len(_app_messages(sim_corp, code.staff.userid)) == 1


def test_leaderboard_orders_referrers_by_new_customers_and_period(
    corp, admin, campaign, userids, sim_corp, client, users
):
    userid = _member_with_customers(corp, userids)
    first = referrer(corp, userid, 0)
    second = referrer(corp, userid, 1)
    code_a, _ = services.ensure_code(access=admin, campaign=campaign, relation=first)
    code_b, _ = services.ensure_code(access=admin, campaign=campaign, relation=second)
    scan(sim_corp, code_b, "乙的朋友")
    scan(sim_corp, code_a, "甲的朋友1")
    scan(sim_corp, code_a, "甲的朋友2")

    board = services.leaderboard(access=admin, campaign=campaign, period="week")
    assert [(r.rank, r.referrer, r.referrals) for r in board] == [
        (1, first.customer, 2),
        (2, second.customer, 1),
    ]
    assert board[0].staff_userid == userid
    (total,) = services.staff_totals(access=admin, campaign=campaign)
    assert (total["staff__userid"], total["referrals"], total["referrers"]) == (userid, 3, 2)
    client.force_login(users[Role.OPERATIONS])
    page = client.get(f"/referrals/{campaign.pk}/?period=week", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert page.status_code == 200 and "排行榜" in html
    rank_one = html.split('id="rank-1"')[1].split("</tr>")[0]
    assert first.customer.name in rank_one and "<td>2</td>" in rank_one
    # Both customers' pages show the referral on their timelines.
    for customer in (first.customer, Referral.objects.first().referred):
        assert client.get(f"/customers/{customer.external_userid}/").status_code == 200

    clock.advance(40 * 86400)  # a later month: this week and month are empty, all time is not
    assert services.leaderboard(access=admin, campaign=campaign, period="week") == []
    assert services.leaderboard(access=admin, campaign=campaign, period="month") == []
    assert len(services.leaderboard(access=admin, campaign=campaign, period="all")) == 2
    with pytest.raises(ValidationError):
        services.leaderboard(access=admin, campaign=campaign, period="year")


def test_share_page_valid_unknown_other_corp_and_ended(
    corp, admin, campaign, userids, client, sim_corp
):
    from qike.core.models import Corp

    relation = referrer(corp, _member_with_customers(corp, userids))
    code, _ = services.ensure_code(access=admin, campaign=campaign, relation=relation)
    url = f"/r/{corp.corpid}/{code.token}/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert page.status_code == 200
    assert f"{relation.customer.name} 邀请你" in html and 'src="data:image/svg+xml' in html
    assert "扫码添加顾问，领取新人礼包" in html
    assert relation.customer.external_userid not in html  # no ids on a page anyone may see

    unknown = client.get(f"/r/{corp.corpid}/{'x' * 22}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert unknown.status_code == 404 and "链接无效" in unknown.content.decode()
    Corp.objects.create(
        corpid="wwOTHER", name="别家", secret="s", api_base_url="http://127.0.0.1:9"
    )
    assert client.get(f"/r/wwOTHER/{code.token}/").status_code == 404

    Campaign.objects.filter(pk=campaign.pk).update(ends_on=today() - dt.timedelta(days=1))
    ended = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert ended.status_code == 410 and "已结束" in ended.content.decode()
    assert "data:image/svg+xml" not in ended.content.decode()
    Campaign.objects.filter(pk=campaign.pk).update(
        starts_on=today() + dt.timedelta(days=3), ends_on=None
    )
    upcoming = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "opens on" in upcoming and "data:image/svg+xml" not in upcoming


def test_a_finished_campaigns_ways_are_deleted_and_come_back_if_extended(
    corp, admin, campaign, userids, sim_corp
):
    relation = referrer(corp, _member_with_customers(corp, userids))
    code, _ = services.ensure_code(access=admin, campaign=campaign, relation=relation)
    Campaign.objects.filter(pk=campaign.pk).update(ends_on=today())
    assert services.expire_ways() == 0
    clock.advance((services.WAY_GRACE_DAYS + 1) * 86400)
    assert services.expire_ways() == 1
    code.refresh_from_db()
    assert code.way_deleted_at is not None
    with pytest.raises(WeComError) as gone:
        _way(corp, code)
    assert gone.value.errcode == 41044
    campaign.refresh_from_db()
    with pytest.raises(ValidationError):  # an ended campaign makes no codes
        services.ensure_code(access=admin, campaign=campaign, relation=relation)

    Campaign.objects.filter(pk=campaign.pk).update(ends_on=None)
    campaign.refresh_from_db()
    again, created = services.ensure_code(access=admin, campaign=campaign, relation=relation)
    assert not created and again.token == code.token and again.way_deleted_at is None
    assert _way(corp, again)["state"] == code.state


def test_bulk_codes_for_a_staff_members_customers(corp, admin, campaign, userids):
    from qike.customers.models import FollowRelation, RelationStatus
    from qike.customers.queries import CustomerFilter

    userid = _member_with_customers(corp, userids)
    expected = FollowRelation.objects.filter(
        corp=corp, staff__userid=userid, status=RelationStatus.ACTIVE, is_half=False
    ).count()
    services.ensure_code(access=admin, campaign=campaign, relation=referrer(corp, userid))
    result = services.bulk_codes(
        access=admin, campaign=campaign, filters=CustomerFilter(staff=[userid])
    )
    assert (result.created, result.existing, result.failed) == (expected - 1, 1, [])
    assert ReferralCode.objects.filter(campaign=campaign).count() == expected
    again = services.bulk_codes(
        access=admin, campaign=campaign, filters=CustomerFilter(staff=[userid])
    )
    assert (again.created, again.existing) == (0, expected)


def test_bad_campaigns_are_refused_and_write_nothing(corp, admin, tag):
    good = {"name": "好活动", "starts_on": today(), "reward_every": 3, "reward_text": "礼品"}
    for bad, words in [
        ({"name": " "}, "name"),
        ({"ends_on": today() - dt.timedelta(days=1)}, "last day"),
        ({"reward_text": ""}, "reward is"),
        ({"reward_every": 5000}, "1 to 1000"),
        ({"tag_ids": ("etNOPE",)}, "corp tags"),
        ({"welcome_message_id": 10**9}, "welcome message"),
    ]:
        with pytest.raises(ValidationError) as caught:
            services.save_campaign(access=admin, spec=CampaignSpec(**{**good, **bad}))
        assert words in " ".join(caught.value.messages), bad
    assert Campaign.objects.count() == 0
    no_reward = services.save_campaign(
        access=admin, spec=CampaignSpec(**{**good, "reward_every": 0, "reward_text": ""})
    )
    assert no_reward.reward_every == 0
