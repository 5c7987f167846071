"""Churn through wecomsim: a customer deleting a member opens one lost-customer record (however
often the event arrives) and alerts the member and, by setting, their manager; a re-add wins the
customer back; a member deleting more customers in a day than the corp allows alerts the manager
once that day."""

from __future__ import annotations

import datetime as dt

import pytest

from qike.audit.models import AuditEntry
from qike.core import clock
from qike.core.services import client_for
from qike.customers.models import FollowRelation
from qike.intake.models import CallbackEvent
from qike.intake.services import replay
from qike.retention import services
from qike.retention.models import AlertState, DeletionAlert, LostCustomer, LostKind
from tests.acquisition.conftest import advance
from tests.retention.conftest import add_customer, customer_deletes, staff_deletes, texts

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_customer_deleting_a_member_alerts_member_and_manager_once(corp, team, sim_corp):
    ext = team.customer.external_userid
    customer_deletes(sim_corp, ext, team.member.userid)

    lost = LostCustomer.objects.get(customer=team.customer)
    assert lost.kind == LostKind.DELETED_BY_CUSTOMER and lost.staff == team.member
    assert lost.won_back_at is None and lost.alert == AlertState.SENT
    assert sorted(lost.alerted) == sorted([team.member.userid, team.manager.userid])
    [to_member] = texts(sim_corp, team.member.userid)
    # Staff read WeCom in the corp's language (zh-Hans by default; callbacks have no request).
    assert "在企业微信中删除了你" in to_member and "/lost-customers/" in to_member
    [to_manager] = texts(sim_corp, team.manager.userid)
    assert "删除了你的团队成员" in to_manager
    assert (team.member.name or team.member.userid) in to_manager

    # The same event again (a repeated delivery, a replay): still one record, no second alert.
    replay(CallbackEvent.objects.filter(corp=corp, kind__endswith="del_follow_user"))
    assert LostCustomer.objects.filter(customer=team.customer).count() == 1
    assert len(texts(sim_corp, team.member.userid)) == 1
    assert len(texts(sim_corp, team.manager.userid)) == 1


def test_manager_alert_follows_the_setting_and_a_readd_wins_back(corp, admin, team, sim, sim_corp):
    conf = services.settings_for(corp)
    services.update_settings(
        access=admin,
        alert_staff=True,
        alert_manager=False,
        delete_limit=conf.delete_limit,
        reasons=conf.reasons,
        pool_idle_days=conf.pool_idle_days,
        claim_limit=conf.claim_limit,
    )
    row = AuditEntry.objects.get(corp=corp, action="retention.settings")
    assert row.before == {"alert_manager": True} and row.after == {"alert_manager": False}

    ext = team.customer.external_userid
    customer_deletes(sim_corp, ext, team.member.userid)
    assert len(texts(sim_corp, team.member.userid)) == 1
    assert texts(sim_corp, team.manager.userid) == []
    lost = LostCustomer.objects.get(customer=team.customer)
    assert lost.alerted == [team.member.userid]

    # A minute later the customer scans the member's code again: the record is won back.
    advance(sim, 60)
    with client_for(corp) as client:
        way = client.add_contact_way(type=1, scene=2, user=[team.member.userid], skip_verify=True)
    sim_corp.post("/customers/scan", config_id=way["config_id"], external_userid=ext)
    sim_corp.wait_for_callbacks()
    lost.refresh_from_db()
    assert lost.won_back_at is not None
    assert services.filter_lost(LostCustomer.objects.all(), won_back=True).count() == 1


def test_staff_deleting_more_than_the_limit_alerts_the_manager_once(corp, team, sim_corp):
    member = team.member.userid
    added = [add_customer(sim_corp, member, f"客户{i}") for i in range(12)]
    sim_corp.wait_for_callbacks()
    for ext in added[:10]:
        staff_deletes(sim_corp, member, ext)
    assert texts(sim_corp, team.manager.userid) == []  # ten is the limit, not past it
    assert DeletionAlert.objects.count() == 0

    staff_deletes(sim_corp, member, added[10])  # the 11th
    [text] = texts(sim_corp, team.manager.userid)
    assert "删除了 11 位客户，超过企业规定的每天 10 位" in text
    staff_deletes(sim_corp, member, added[11])  # the 12th: no second alert that day
    assert len(texts(sim_corp, team.manager.userid)) == 1
    alert = DeletionAlert.objects.get()
    assert alert.count == 12 and alert.alert == AlertState.SENT

    rows = LostCustomer.objects.filter(staff=team.member, kind=LostKind.DELETED_BY_STAFF)
    assert rows.count() == 12 and set(rows.values_list("alert", flat=True)) == {AlertState.NONE}
    assert texts(sim_corp, member) == []  # the member is not told about their own deletions


def test_churn_stats_by_staff_channel_and_stage(corp, admin, team, sim_corp):
    lifecycle = pytest.importorskip("qike.lifecycle.models")
    relation = FollowRelation.objects.get(customer=team.customer, staff=team.member)
    now = clock.now()
    stage = lifecycle.Stage.objects.create(corp=corp, name="意向客户", order=3, created_at=now)
    lifecycle.RelationStage.objects.update_or_create(
        relation=relation, defaults={"corp": corp, "stage": stage, "entered_at": now}
    )
    customer_deletes(sim_corp, team.customer.external_userid, team.member.userid)
    other = add_customer(sim_corp, team.member.userid, "路人")
    sim_corp.wait_for_callbacks()
    staff_deletes(sim_corp, team.member.userid, other)

    today = services.local_day(clock.now())
    tables = services.churn_stats(access=admin, start=today, end=today)
    [total] = tables["total"]
    assert (total.lost, total.by_staff, total.won_back) == (2, 1, 0)
    [by_staff] = tables["staff"]
    assert by_staff.key == team.member.userid and by_staff.lost == 2
    assert {r.key: r.lost for r in tables["stage"]}.get("意向客户") == 1
    assert sum(r.lost for r in tables["channel"]) == 2
    assert "add_way:2" in {r.key for r in tables["channel"]}  # the phone-search add
    yesterday = today - dt.timedelta(days=1)
    assert services.churn_stats(access=admin, start=yesterday, end=yesterday)["total"] == []
