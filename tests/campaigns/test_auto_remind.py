"""Automatic reminders end to end through wecomsim: the default schedule (2 h / 6 h / 20 h after
dispatch), never a fourth within 24 hours (manual clicks count), never to staff who sent, never
for a campaign that is off or cancelled; the results page, the API detail and the audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from qike.audit.models import AuditEntry
from qike.campaigns import services
from qike.campaigns import tasks as jobs
from qike.campaigns.models import Campaign, Reminder
from qike.core import clock
from qike.org.models import Role
from tests.api.conftest import Api, make_token
from tests.campaigns.conftest import DISPATCHED, add_customer, advance, confirm, send, tasks

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOUR = 3600


def advance_to(sim_corp, campaign: Campaign, hours: float) -> None:
    """Move both clocks to `hours` after the campaign was sent to WeCom."""
    target = campaign.dispatched_at + dt.timedelta(hours=hours)
    advance(sim_corp, (target - clock.now()).total_seconds())


def wecom_reminders(sim_corp, campaign: Campaign, userid: str) -> list[float]:
    """The reminders WeCom received for the staff member's message (simulator times)."""
    msgid = campaign.messages.get(userid=userid).msgid
    return tasks(sim_corp, msgid)[0]["reminders"]


def console(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_staff_who_never_sends_gets_three_automatic_reminders_and_no_fourth(
    corp, sim_corp, ops, userids, users
):
    a = userids[1]
    x = add_customer(sim_corp, a, "甲")
    campaign = send(ops, text="自动提醒", external_userids=[x])
    assert campaign.auto_remind and campaign.remind_after == [2, 6, 20]  # on by default
    assert services.next_auto_remind_at(campaign) == campaign.dispatched_at + dt.timedelta(hours=2)

    advance(sim_corp, DISPATCHED)
    advance_to(sim_corp, campaign, 2 - 1 / 60)
    assert jobs.remind_due() == 0  # a minute early: nothing
    for hours in (2, 6, 20):
        advance_to(sim_corp, campaign, hours)
        assert jobs.remind_due() == 1
        assert jobs.remind_due() == 0  # the job again: nothing twice
    sent = wecom_reminders(sim_corp, campaign, a)
    assert len(sent) == 3
    assert [round((t - sent[0]) / HOUR) for t in sent] == [0, 4, 18]  # 2 h, 6 h, 20 h
    offsets = [
        (r.at - campaign.dispatched_at) / dt.timedelta(hours=1)
        for r in Reminder.objects.filter(campaign=campaign)
    ]
    assert [round(h) for h in offsets] == [2, 6, 20]

    # 21 h: a person clicks remind; WeCom's 3 in 24 h are used, so Qike holds it until 26 h.
    advance_to(sim_corp, campaign, 21)
    clicked = services.remind(access=ops, campaign=campaign)
    first = Reminder.objects.filter(campaign=campaign).first().at
    assert clicked.reminded == [] and clicked.held[a] == first + dt.timedelta(hours=24)
    advance_to(sim_corp, campaign, 23)
    assert jobs.remind_due() == 0  # the schedule is done
    assert len(wecom_reminders(sim_corp, campaign, a)) == 3  # WeCom never saw a fourth
    campaign.refresh_from_db()
    assert services.next_auto_remind_at(campaign) is None

    autos = AuditEntry.objects.filter(action="campaigns.remind", after__auto=True)
    assert [e.after["step"] for e in autos.order_by("at")] == [1, 2, 3]
    assert {e.via for e in autos} == {"job"} and all(e.after["reminded"] == [a] for e in autos)
    manual = AuditEntry.objects.get(action="campaigns.remind", after__auto=False)
    assert manual.after["held"] == [a]

    api = Api(make_token(corp, users[Role.OPERATIONS])).get(f"/campaigns/{campaign.pk}").json()
    assert api["auto_remind"] is True and api["remind_after_hours"] == [2, 6, 20]
    assert api["next_auto_remind_at"] is None
    assert [(r["userid"], r["auto"], r["step"]) for r in api["reminders"]] == [
        (a, True, 1),
        (a, True, 2),
        (a, True, 3),
    ]
    page = console(users[Role.OPERATIONS]).get(f"/campaigns/{campaign.pk}/").content.decode()
    listed = page.split('id="reminders"')[1].split("</section>")[0]
    with translation.override("zh-hans"):
        auto = translation.gettext("automatic (step %(n)s)") % {"n": 3}
    assert auto != "automatic (step 3)" and auto in listed


def test_manual_reminders_count_against_the_automatic_ones(corp, sim_corp, ops, userids, users):
    a = userids[1]
    x = add_customer(sim_corp, a, "甲")
    campaign = send(ops, text="手动也算", external_userids=[x])
    advance(sim_corp, DISPATCHED)
    advance_to(sim_corp, campaign, 2)
    assert jobs.remind_due() == 1
    advance_to(sim_corp, campaign, 3)
    page = console(users[Role.OPERATIONS])
    assert page.post(f"/campaigns/{campaign.pk}/remind/").status_code == 302  # a person clicks
    advance_to(sim_corp, campaign, 6)
    assert jobs.remind_due() == 1  # the third in 24 hours
    advance_to(sim_corp, campaign, 20)
    assert jobs.remind_due() == 0  # would be the fourth in 24 hours: skipped
    assert len(wecom_reminders(sim_corp, campaign, a)) == 3
    last = AuditEntry.objects.filter(action="campaigns.remind").latest("at")
    assert last.after == {"reminded": [], "held": [a], "auto": True, "step": 3}

    rows = [(r["auto"], r["by"]) for r in services.reminder_rows(campaign)]
    assert rows[0] == (True, "") and rows[2] == (True, "")
    assert rows[1][0] is False and rows[1][1]  # the clicker's name is kept
    listed = page.get(f"/campaigns/{campaign.pk}/").content.decode()
    listed = listed.split('id="reminders"')[1].split("</section>")[0]
    assert rows[1][1] in listed


def test_staff_who_sends_after_the_first_reminder_gets_no_more(corp, sim_corp, ops, userids):
    a, b = userids[1], userids[2]
    x, y = add_customer(sim_corp, a, "甲"), add_customer(sim_corp, b, "乙")
    campaign = send(ops, text="发了就不提醒", external_userids=[x, y])
    advance(sim_corp, DISPATCHED)
    advance_to(sim_corp, campaign, 2)
    assert jobs.remind_due() == 2  # both waiting
    advance_to(sim_corp, campaign, 3)
    confirm(sim_corp, campaign, b)
    for hours in (6, 20):
        advance_to(sim_corp, campaign, hours)
        assert jobs.remind_due() == 1
    assert len(wecom_reminders(sim_corp, campaign, a)) == 3
    assert len(wecom_reminders(sim_corp, campaign, b)) == 1
    steps = AuditEntry.objects.filter(action="campaigns.remind").order_by("at")
    assert [e.after["reminded"] for e in steps] == [sorted([a, b]), [a], [a]]


def test_all_sent_finishes_the_campaign_and_the_reminders(corp, sim_corp, ops, userids):
    a = userids[1]
    x = add_customer(sim_corp, a, "甲")
    campaign = send(ops, text="都发了", external_userids=[x])
    advance(sim_corp, DISPATCHED)
    confirm(sim_corp, campaign, a)
    advance_to(sim_corp, campaign, 2)
    assert jobs.remind_due() == 0
    campaign.refresh_from_db()
    assert campaign.status == "finished" and services.next_auto_remind_at(campaign) is None
    assert wecom_reminders(sim_corp, campaign, a) == []


def test_option_off_sends_no_automatic_reminder(corp, sim_corp, ops, userids, users):
    a = userids[1]
    x = add_customer(sim_corp, a, "甲")
    page = console(users[Role.OPERATIONS])
    form = page.get("/campaigns/new/").content.decode()
    assert 'id="id_auto_remind" checked' in form and 'value="2, 6, 20"' in form  # on by default
    body = {"text": "不提醒", "customers": x, "follower_rule": "first", "remind_after": "2, 6, 20"}
    assert page.post("/campaigns/new/", {**body, "step": "confirm"}).status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.auto_remind is False  # the box was not ticked
    advance(sim_corp, DISPATCHED)
    for hours in (2, 6, 20, 30):
        advance_to(sim_corp, campaign, hours)
        assert jobs.remind_due() == 0
    assert wecom_reminders(sim_corp, campaign, a) == []
    detail = page.get(f"/campaigns/{campaign.pk}/").content.decode()
    with translation.override("zh-hans"):
        off = translation.gettext("off")
    assert off != "off" and off in detail.split('id="auto-remind"')[1].split("</dd>")[0]


def test_cancelled_campaign_gets_no_automatic_reminder(corp, sim_corp, ops, userids):
    a = userids[1]
    x = add_customer(sim_corp, a, "甲")
    campaign = send(ops, text="取消了", external_userids=[x])
    advance(sim_corp, DISPATCHED)
    services.cancel(access=ops, campaign=campaign)
    for hours in (2, 6, 20):
        advance_to(sim_corp, campaign, hours)
        assert jobs.remind_due() == 0
    assert wecom_reminders(sim_corp, campaign, a) == []
    campaign.refresh_from_db()
    assert services.next_auto_remind_at(campaign) is None


def test_missed_steps_collapse_into_one_reminder(corp, sim_corp, ops, userids):
    a = userids[1]
    x = add_customer(sim_corp, a, "甲")
    campaign = send(
        ops, text="自定义", external_userids=[x], auto_remind=True, remind_after=[1, "4"]
    )
    assert campaign.remind_after == [1, 4]
    advance(sim_corp, DISPATCHED)
    advance_to(sim_corp, campaign, 5)  # the job did not run at 1 h
    assert jobs.remind_due() == 1
    assert jobs.remind_due() == 0
    assert len(wecom_reminders(sim_corp, campaign, a)) == 1


def test_a_bad_schedule_is_refused_and_nothing_is_saved(corp, sim_corp, ops, userids, users):
    a = userids[1]
    x = add_customer(sim_corp, a, "甲")
    for bad in ([], [6, 2], [2, 2], [0], [1, 2, 3, 4], [200], ["2h"], [True]):
        with pytest.raises(ValidationError):
            send(ops, text="坏的", external_userids=[x], remind_after=bad)
    page = console(users[Role.OPERATIONS])
    body = {"text": "坏的", "customers": x, "auto_remind": "on", "remind_after": "6, 2"}
    answer = page.post("/campaigns/new/", {**body, "step": "confirm"})
    assert answer.status_code == 400 and 'id="problem"' in answer.content.decode()
    api = Api(make_token(corp, users[Role.OPERATIONS]))
    refused = api.post(
        "/campaigns", {"text": "坏的", "external_userids": [x], "remind_after_hours": [3, 1]}
    )
    assert refused.status_code == 400 and "rise" in str(refused.json())
    assert Campaign.objects.count() == 0
    made = api.post(
        "/campaigns", {"text": "好的", "external_userids": [x], "remind_after_hours": [1, 3]}
    )
    assert made.status_code == 201, made.content
    data = made.json()
    assert data["remind_after_hours"] == [1, 3] and data["next_auto_remind_at"]
