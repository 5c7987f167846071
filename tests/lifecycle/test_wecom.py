"""The lifecycle against wecomsim over HTTP: a customer a member adds lands in 新客户; a move
records history, timeline and audit; a customer left 7 days in 新客户 reminds the member by app
message on day 8, once (not on day 9, not when the job runs twice), and again after a new stay;
a follow-up's next date reminds the member on that day; a hand-over moves stage and follow-ups."""

from __future__ import annotations

import datetime as dt

import pytest

from qike.audit.models import AuditEntry
from qike.customers.handover import move_with_customer
from qike.customers.models import FollowRelation, RelationStatus, TimelineEntry, TimelineKind
from qike.lifecycle import services
from qike.lifecycle.models import FollowUp, RelationStage, Stage, StageChange
from qike.lifecycle.tasks import send_reminders_job
from qike.org.models import Staff
from tests.acquisition.conftest import advance
from tests.lifecycle.conftest import add_customer, advance_to, texts

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DAY = 86400


def _relation(external_userid: str, userid: str) -> FollowRelation:
    return FollowRelation.objects.select_related("customer", "staff", "corp").get(
        customer__external_userid=external_userid, staff__userid=userid
    )


def _stage(corp, name: str) -> Stage:
    return Stage.objects.get(corp=corp, name=name, retired_at__isnull=True)


def test_new_customer_lands_in_the_first_stage_and_moves_are_recorded(
    corp, admin, userids, sim_corp
):
    me = userids[0]
    external = add_customer(sim_corp, me, "周新")
    relation = _relation(external, me)
    row = RelationStage.objects.get(relation=relation)
    assert row.stage.name == "新客户" and row.entered_at == relation.added_at
    assert [s.name for s in services.stages(corp)] == [
        "新客户",
        "初步沟通",
        "意向客户",
        "付款客户",
        "续费客户",
        "无意向客户",
    ]

    change = services.move(access=admin, relation=relation, stage=_stage(corp, "意向客户"))
    assert (change.from_stage.name, change.to_stage.name) == ("新客户", "意向客户")
    assert change.actor == "lc-corp_admin" and change.stay_seconds is not None
    assert services.move(access=admin, relation=relation, stage=_stage(corp, "意向客户")) is None
    assert StageChange.objects.count() == 1
    entry = TimelineEntry.objects.get(customer=relation.customer, kind=TimelineKind.STAGE_CHANGED)
    assert (
        entry.data == {"from": "新客户", "to": "意向客户"} and entry.staff_id == relation.staff_id
    )
    audit = AuditEntry.objects.get(action="lifecycle.stage_move")
    assert audit.before["stage"] == "新客户" and audit.after["stage"] == "意向客户"

    # The same add delivered again (a replay) keeps the customer where they are.
    services.start(corp=corp, relation=relation)
    assert RelationStage.objects.get(relation=relation).stage.name == "意向客户"


def test_stale_customer_is_reminded_once_on_day_8(corp, admin, userids, sim, sim_corp):
    advance_to(sim, 10)  # day 1, 10:00
    me = userids[0]
    external = add_customer(sim_corp, me, "陈久")
    relation = _relation(external, me)
    assert texts(sim_corp, me) == []

    advance(sim, 6 * DAY)  # day 7, 10:00: 6 days in 新客户
    assert send_reminders_job.call_local() == 0
    advance_to(sim, 8)  # day 8, 08:00: before the hour reminders go out
    assert send_reminders_job.call_local() == 0
    assert texts(sim_corp, me) == []

    advance_to(sim, 9, 5)  # day 8, 09:05
    assert send_reminders_job.call_local() == 1
    assert send_reminders_job.call_local() == 0  # the job again: nothing twice
    [text] = texts(sim_corp, me)
    assert "陈久" in text and "新客户" in text and "/lifecycle/board/" in text

    advance(sim, DAY)  # day 9
    assert send_reminders_job.call_local() == 0
    assert len(texts(sim_corp, me)) == 1

    # A new stay in 新客户 (moved out and back) is reminded about again, on its own day 8.
    services.move(access=admin, relation=relation, stage=_stage(corp, "初步沟通"))
    services.move(access=admin, relation=relation, stage=_stage(corp, "新客户"))
    advance(sim, 6 * DAY)
    assert send_reminders_job.call_local() == 0
    advance(sim, DAY)
    assert send_reminders_job.call_local() == 1
    assert len(texts(sim_corp, me)) == 2

    # Stages without a rule never remind; nor does a customer who deleted the member.
    other = add_customer(sim_corp, me, "无规则")
    services.move(access=admin, relation=_relation(other, me), stage=_stage(corp, "初步沟通"))
    gone = add_customer(sim_corp, me, "已删除")
    sim_corp.post(f"/customers/{gone}/delete_member", userid=me)
    sim_corp.wait_for_callbacks()
    assert _relation(gone, me).status == RelationStatus.DELETED_BY_CUSTOMER
    advance(sim, 30 * DAY)
    assert send_reminders_job.call_local() == 0


def test_follow_up_reminds_on_its_day(corp, seller, userids, sim, sim_corp):
    advance_to(sim, 15)
    me = userids[0]
    relation = _relation(add_customer(sim_corp, me, "林跟进"), me)
    day = services.local_today() + dt.timedelta(days=2)
    follow_up = services.add_follow_up(
        access=seller, relation=relation, kind="call", content="电话沟通报价", next_on=day
    )
    entry = TimelineEntry.objects.get(customer=relation.customer, kind=TimelineKind.FOLLOW_UP)
    assert entry.data["text"] == "电话沟通报价" and entry.data["next_on"] == day.isoformat()

    advance_to(sim, 9, 30)  # the next day
    send_reminders_job.call_local()
    assert not [t for t in texts(sim_corp, me) if "电话沟通报价" in t]
    advance(sim, DAY)  # the day
    send_reminders_job.call_local()
    send_reminders_job.call_local()
    sent = [t for t in texts(sim_corp, me) if "电话沟通报价" in t]
    assert len(sent) == 1 and "林跟进" in sent[0] and "follow up" in sent[0]
    assert FollowUp.objects.get(pk=follow_up.pk).reminded_at is not None
    advance(sim, DAY)
    send_reminders_job.call_local()
    assert len([t for t in texts(sim_corp, me) if "电话沟通报价" in t]) == 1


def test_hand_over_moves_stage_history_and_follow_ups(corp, admin, userids, sim_corp):
    first, second = userids[0], userids[1]
    external = add_customer(sim_corp, first, "交接客户")
    handover = _relation(external, first)
    services.move(access=admin, relation=handover, stage=_stage(corp, "付款客户"))
    services.add_follow_up(access=admin, relation=handover, kind="visit", content="上门拜访")
    # The same customer added by a second member stands in for the takeover.
    sim_corp.post("/customers/add", userid=second, external_userid=external)
    sim_corp.wait_for_callbacks()
    takeover = FollowRelation.objects.get(
        customer__external_userid=external, staff=Staff.objects.get(corp=corp, userid=second)
    )
    assert services.stage_of(takeover)[0].name == "新客户"

    move_with_customer(corp=corp, handover=handover, takeover=takeover)
    move_with_customer(corp=corp, handover=handover, takeover=takeover)  # idempotent
    stage, _since = services.stage_of(takeover)
    assert stage.name == "付款客户"
    assert StageChange.objects.get().relation_id == takeover.pk
    assert FollowUp.objects.get().relation_id == takeover.pk
    assert not RelationStage.objects.filter(relation=handover).exists()
