"""Mass messages end to end through wecomsim: the per-customer limit and the pre-flight, staff who
never confirm (reminders), cancel, duplicates across staff, scheduled sends, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from qike.audit.models import AuditEntry
from qike.campaigns import services
from qike.campaigns import tasks as jobs
from qike.campaigns.models import (
    Campaign,
    CampaignStatus,
    Delivery,
    FollowerRule,
    MessageStatus,
)
from qike.core import clock
from qike.customers.models import TimelineEntry, TimelineKind
from qike.org.access import access_for
from qike.org.models import Role
from qike.segments.models import Segment
from tests.campaigns.conftest import (
    DAY,
    DISPATCHED,
    add_customer,
    advance,
    confirm,
    recipients,
    send,
    tasks,
)

HOUR = dt.timedelta(hours=1)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def statuses(campaign: Campaign) -> dict[str, str]:
    return dict(Delivery.objects.filter(campaign=campaign).values_list("external_userid", "status"))


def test_customers_who_already_received_one_today_are_skipped(corp, sim_corp, ops, userids):
    a = userids[1]
    x, y, z = (add_customer(sim_corp, a, n) for n in ("甲", "乙", "丙"))
    # y got a's own mass message today, outside Qike: WeCom would refuse a second one (status 3).
    sim_corp.post("/groupmsg/personal", userid=a, external_userids=[y], text="早安")

    draft = services.Draft(text="周末特惠", external_userids=[x, y, z])
    check = services.preflight(access=ops, draft=draft)
    assert check.summary()["to_send"] == 2
    assert check.summary()["skipped"] == {services.REACHED_TODAY: 1}
    assert check.samples()[services.REACHED_TODAY] == [y]
    assert Campaign.objects.count() == 0  # the pre-flight saves nothing

    campaign = send(ops, text="周末特惠", external_userids=[x, y, z])
    assert campaign.status == CampaignStatus.DISPATCHED
    assert recipients(sim_corp, campaign) == {a: {x, z}}  # y was never sent to WeCom
    assert statuses(campaign) == {x: "pending", y: "skipped", z: "pending"}
    assert Delivery.objects.get(campaign=campaign, external_userid=y).reason == "reached_today"

    advance(sim_corp, DISPATCHED)
    confirm(sim_corp, campaign, a)
    services.poll(corp=corp, campaign=campaign)
    campaign.refresh_from_db()
    assert statuses(campaign) == {x: "sent", y: "skipped", z: "sent"}
    assert campaign.status == CampaignStatus.FINISHED
    assert services.groups(services.counts(campaign)) == {
        "sent": 2,
        "pending": 0,
        "skipped": 1,
        "failed": 0,
        "cancelled": 0,
    }
    entry = TimelineEntry.objects.get(customer__external_userid=x, kind=TimelineKind.MASS_MESSAGE)
    assert entry.data == {"campaign_id": campaign.pk, "title": "周末特惠", "status": "sent"}
    history = list(campaign.snapshots.values_list("pending", "sent"))
    assert history[0] == (2, 0) and history[-1] == (0, 2)

    # The same day, x has had today's one: a second campaign skips x (Qike's own receipt).
    again = services.preflight(access=ops, draft=services.Draft(text="再来", external_userids=[x]))
    assert again.summary()["to_send"] == 0
    with pytest.raises(ValidationError, match="Nobody"):
        send(ops, text="再来", external_userids=[x])
    # The next day x may receive one again.
    clock.advance(DAY)
    assert (
        services.preflight(
            access=ops, draft=services.Draft(text="再来", external_userids=[x])
        ).summary()["to_send"]
        == 1
    )
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"campaigns.create", "campaigns.send", "campaigns.results"} <= actions


def test_status_3_when_wecom_counts_what_qike_could_not_see(corp, sim_corp, ops, userids):
    """A member's own mass message sent after the plan: WeCom refuses (3), shown as failed."""
    a = userids[1]
    x = add_customer(sim_corp, a, "甲")
    campaign = send(ops, text="通知", external_userids=[x])
    sim_corp.post("/groupmsg/personal", userid=a, external_userids=[x], text="抢先")
    advance(sim_corp, DISPATCHED)
    confirm(sim_corp, campaign, a)
    services.poll(corp=corp, campaign=campaign)
    assert statuses(campaign) == {x: "at_limit"}
    assert services.groups(services.counts(campaign))["failed"] == 1


def test_monthly_policy_allows_four_a_month(corp, sim_corp, admin, ops, userids):
    a = userids[1]
    x = add_customer(sim_corp, a, "甲")
    services.set_policy(access=admin, limit_rule="monthly")
    sim_corp.post("/groupmsg/policy", rule="monthly")  # the corp's WeCom is on the older rule
    with pytest.raises(PermissionDenied):
        services.set_policy(access=ops, limit_rule="daily")  # corp admins only
    for n in range(4):
        campaign = send(ops, text=f"第{n}条", external_userids=[x])
        advance(sim_corp, DISPATCHED)
        confirm(sim_corp, campaign, a)
        services.poll(corp=corp, campaign=campaign)
        assert statuses(campaign) == {x: "sent"}
    check = services.preflight(access=ops, draft=services.Draft(text="第5条", external_userids=[x]))
    if (
        clock.now().astimezone(services.SHANGHAI).day
        == (clock.now() - dt.timedelta(seconds=30)).astimezone(services.SHANGHAI).day
    ):  # not across midnight of a month's end
        assert check.summary()["skipped"] == {services.REACHED_MONTH: 1}


def test_staff_who_never_confirms_is_reminded_at_most_three_times(
    corp, sim_corp, ops, userids, users
):
    a, b = userids[1], userids[2]
    x, y = add_customer(sim_corp, a, "甲"), add_customer(sim_corp, b, "乙")
    campaign = send(ops, text="提醒测试", external_userids=[x, y])
    advance(sim_corp, DISPATCHED)
    confirm(sim_corp, campaign, b)
    sim_corp.post(f"/groupmsg/{campaign.messages.get(userid=a).msgid}/ignore", userid=a)

    for _ in range(3):
        done = services.remind(access=ops, campaign=campaign)
        assert done.reminded == [a]  # b has sent: only a is reminded
    fourth = services.remind(access=ops, campaign=campaign)
    assert fourth.reminded == [] and a in fourth.held
    msgid = campaign.messages.get(userid=a).msgid
    assert len(tasks(sim_corp, msgid)[0]["reminders"]) == 3  # WeCom never saw a fourth

    services.poll(corp=corp, campaign=campaign)
    rows = {r["userid"]: r for r in services.staff_rows(campaign)}
    assert rows[a]["status"] == MessageStatus.WAITING and rows[a]["reminders"] == 3
    assert rows[b]["status"] == MessageStatus.SENT
    assert statuses(campaign) == {x: "pending", y: "sent"}

    page = _console(users[Role.OPERATIONS]).get(f"/campaigns/{campaign.pk}/").content.decode()
    staff_a = page.split(f'id="staff-{a}"')[1].split("</tr>")[0]
    with translation.override("zh-hans"):
        pending = translation.gettext("pending")
    assert pending != "pending" and pending in staff_a and "3/3" in staff_a

    advance(sim_corp, DAY + 60)
    assert services.remind(access=ops, campaign=campaign, userid=a).reminded == [a]
    assert AuditEntry.objects.filter(action="campaigns.remind").count() == 5


def test_cancel_stops_unsent_deliveries_only(corp, sim_corp, ops, userids):
    a, b = userids[1], userids[2]
    x, y = add_customer(sim_corp, a, "甲"), add_customer(sim_corp, b, "乙")
    campaign = send(ops, text="取消测试", external_userids=[x, y])
    advance(sim_corp, DISPATCHED)
    confirm(sim_corp, campaign, b)  # b sent before the cancel

    services.cancel(access=ops, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert statuses(campaign) == {x: "cancelled", y: "sent"}
    msgid = campaign.messages.get(userid=a).msgid
    assert tasks(sim_corp, msgid)[0]["cancelled"]
    late = sim_corp.control.post(
        f"/sim/corps/{sim_corp.corpid}/groupmsg/{msgid}/confirm", json={"userid": a}
    )
    assert late.status_code == 409  # a can no longer send it
    assert AuditEntry.objects.filter(action="campaigns.cancel", target_id=str(campaign.pk)).exists()
    with pytest.raises(ValidationError):
        services.cancel(access=ops, campaign=campaign)


def test_customer_followed_by_several_staff_is_sent_once_by_the_rule(corp, sim_corp, ops, userids):
    a, b = userids[1], userids[2]
    shared = add_customer(sim_corp, a, "共享客户")
    sim_corp.post("/customers/add", userid=b, external_userid=shared)  # b follows later
    sim_corp.wait_for_callbacks()
    solo = add_customer(sim_corp, a, "独有客户")

    first = send(ops, text="先加", external_userids=[shared, solo])
    assert recipients(sim_corp, first) == {a: {shared, solo}}
    assert first.plan["duplicates"] == 1

    clock.advance(DAY)
    advance(sim_corp, DAY)
    latest = send(
        ops, text="后加", external_userids=[shared, solo], follower_rule=FollowerRule.LATEST
    )
    assert recipients(sim_corp, latest) == {a: {solo}, b: {shared}}

    clock.advance(DAY)
    advance(sim_corp, DAY)
    owned = Segment.objects.create(
        corp=corp,
        name="全部",
        owner=latest.messages.get(userid=b).staff,
        rules={"staff": [a, b]},
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    by_owner = send(ops, text="负责人", segment_id=owned.pk, follower_rule=FollowerRule.OWNER)
    sent_by = recipients(sim_corp, by_owner)
    assert shared in sent_by[b] and solo in sent_by[a]  # owner b does not follow solo: fallback
    everyone = [e for found in sent_by.values() for e in found]
    assert len(everyone) == len(set(everyone))  # nobody twice


def test_scheduled_campaign_is_sent_when_due(corp, sim_corp, ops, userids):
    a = userids[1]
    x = add_customer(sim_corp, a, "甲")
    at = clock.now() + dt.timedelta(hours=2)
    campaign = send(ops, text="两小时后", external_userids=[x], scheduled_at=at)
    assert campaign.status == CampaignStatus.SCHEDULED
    assert jobs.dispatch_due() == 0 and recipients(sim_corp, campaign) == {}

    clock.advance(2 * 3600 + 1)
    assert jobs.dispatch_due() == 1
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DISPATCHED
    assert recipients(sim_corp, campaign) == {a: {x}}
    assert jobs.dispatch_due() == 0  # never twice


def test_a_second_run_of_the_dispatch_job_plans_and_sends_nothing_again(
    corp, sim_corp, ops, userids
):
    """Two runs of the job at once: the one that planned second finds the plan under the lock,
    and messages another run already took are not created in WeCom again."""
    a = userids[1]
    x = add_customer(sim_corp, a, "甲")
    campaign = send(ops, text="周末", external_userids=[x], scheduled_at=clock.now() + HOUR)
    clock.advance(HOUR.total_seconds() + 1)
    claimed = services._claim(campaign.pk)
    services._write_plan(corp, claimed)
    services._write_plan(corp, claimed)  # the other run, finishing its plan later
    assert Delivery.objects.filter(campaign=campaign).count() == 1
    services._send_messages(corp, claimed)
    services._send_messages(corp, claimed)
    assert recipients(sim_corp, campaign) == {a: {x}} and len(tasks(sim_corp)) == 1


def test_bad_input_is_refused_and_nothing_is_saved(corp, sim_corp, ops, userids):
    x = add_customer(sim_corp, userids[1], "甲")
    cases = [
        (services.Draft(text="  ", external_userids=[x]), "text or choose"),
        (services.Draft(text="hi", item_ids=list(range(1, 11)), external_userids=[x]), "9"),
        (services.Draft(text="hi"), "segment or at least one customer"),
        (
            services.Draft(
                text="hi", external_userids=[x], scheduled_at=clock.now() - dt.timedelta(minutes=1)
            ),
            "past",
        ),
        (services.Draft(text="hi", external_userids=["wmnobody"]), "wmnobody"),
        (services.Draft(text="字" * 1400, external_userids=[x]), "4000"),
        (services.Draft(text="hi", external_userids=[x], follower_rule="owner"), "owner"),
    ]
    for draft, message in cases:
        with pytest.raises(ValidationError, match=message):
            services.create(access=ops, draft=draft)
    assert Campaign.objects.count() == 0 and Delivery.objects.count() == 0
    assert tasks(sim_corp) == []


def test_roles_and_tenancy(corp, sim_corp, users, userids):
    from qike.core.models import Corp

    x = add_customer(sim_corp, userids[1], "甲")
    for role in (Role.STAFF, Role.MANAGER):
        access = access_for(users[role], corp)
        with pytest.raises(PermissionDenied):
            services.preflight(access=access, draft=services.Draft(text="hi", external_userids=[x]))
        with pytest.raises(PermissionDenied):
            services.campaigns_in_scope(access)
    ops = access_for(users[Role.OPERATIONS], corp)
    campaign = send(ops, text="hi", external_userids=[x])
    other = Corp.objects.create(corpid="wwOtherCampaign", name="别家", secret="s")
    theirs = Campaign.objects.create(
        corp=other, title="别家的", status=CampaignStatus.SCHEDULED, created_at=clock.now()
    )
    with pytest.raises(Http404):
        services.get_campaign(ops, theirs.pk)
    assert list(services.campaigns_in_scope(ops)) == [campaign]


def _console(user):
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_a_staff_member_with_more_customers_than_one_call_takes_is_split(
    corp, sim_corp, ops, userids, monkeypatch
):
    """WeCom takes ≤ 10,000 external_userids per call; shown here with a limit of 2."""
    from qike.campaigns import services as campaign_services

    monkeypatch.setattr(campaign_services, "RECIPIENTS_PER_CALL", 2)
    a = userids[1]
    exts = [add_customer(sim_corp, a, f"客户{n}") for n in range(5)]
    campaign = send(ops, text="分批", external_userids=exts)
    parts = list(campaign.messages.order_by("part").values_list("part", "recipients"))
    assert parts == [(1, 2), (2, 2), (3, 1)]
    sizes = sorted(len(t["results"]) for t in tasks(sim_corp))
    assert sizes == [1, 2, 2]
    assert set().union(*recipients(sim_corp, campaign).values()) == set(exts)
