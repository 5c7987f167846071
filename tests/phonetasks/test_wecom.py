"""Phone tasks against wecomsim over HTTP: the morning list arrives as an app message once a day
(however often the job runs) and again the next day; a task completes when its member adds the
customer (a matching remark mobile, or a phone-search add with the task's name), also through a
later edit; the batch's tags go to WeCom; phones that are already customers are recognised."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from qike.core import clock
from qike.customers.models import TimelineEntry, TimelineKind
from qike.phonetasks import services
from qike.phonetasks.models import DailyList, ListStatus, MatchedBy, Task, TaskStatus
from qike.phonetasks.tasks import send_daily_lists_job
from qike.tags.models import Tag
from tests.acquisition.conftest import advance
from tests.phonetasks.conftest import import_list, xlsx

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _advance_to(sim, hour: int, minute: int = 0) -> None:
    """Both clocks forward to the next hour:minute, Asia/Shanghai."""
    local = timezone.localtime(clock.now())
    target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= local:
        target += dt.timedelta(days=1)
    advance(sim, (target - local).total_seconds())


def _texts(sim_corp, userid: str) -> list[str]:
    return [m["text"]["content"] for m in sim_corp.get("/app_messages", userid=userid)]


def test_daily_list_arrives_once_a_day_as_an_app_message(corp, admin, userids, sim, sim_corp):
    _advance_to(sim, 8)
    rows = [["张三", "13811110001"], ["李四", "13811110002"], ["王五", "13811110003"]]
    import_list(admin, xlsx(rows), userids=tuple(userids[:2]))
    first, second = userids[:2]

    assert send_daily_lists_job.call_local() == 0  # 08:00: too early
    assert _texts(sim_corp, first) == []

    advance(sim, 3600 + 300)  # 09:05
    assert send_daily_lists_job.call_local() == 2
    assert send_daily_lists_job.call_local() == 0  # the job again: nothing twice
    [text] = _texts(sim_corp, first)
    day = services.local_today().isoformat()
    assert f"Phone tasks for {day}: 2 to add." in text
    assert "1. 张三 13811110001" in text and "2. 王五 13811110003" in text
    assert "/phone-tasks/mine/" in text and "李四" not in text
    assert len(_texts(sim_corp, second)) == 1 and "李四 13811110002" in _texts(sim_corp, second)[0]
    assert set(Task.objects.values_list("status", flat=True)) == {TaskStatus.SENT}
    row = DailyList.objects.get(staff__userid=first, day=services.local_today())
    assert row.status == ListStatus.SENT and row.task_count == 2 and len(row.msgids) == 1

    # The console's "send now" does not send a second list the same day either.
    assert services.send_lists_now(access=admin) == 0

    # The next day the tasks still open come again, marked as from earlier days.
    advance(sim, 86400)
    assert send_daily_lists_job.call_local() == 2
    texts = _texts(sim_corp, first)
    assert len(texts) == 2 and "2 of them are from earlier days" in texts[1]
    assert send_daily_lists_job.call_local() == 0


def test_send_now_before_nine_and_long_lists_are_split(corp, admin, userids, sim, sim_corp):
    _advance_to(sim, 7)
    rows = [[f"客户{i:03d}", f"1381111{i:04d}"] for i in range(150)]
    import_list(admin, xlsx(rows), userids=(userids[0],), daily_cap=150)
    assert send_daily_lists_job.call_local() == 0
    assert services.send_lists_now(access=admin) == 1
    texts = _texts(sim_corp, userids[0])
    assert len(texts) > 1 and all(len(t.encode()) <= 2048 for t in texts)
    assert texts[0].startswith("Phone tasks for") and f"(2/{len(texts)})" in texts[1]
    joined = "\n".join(texts)
    assert all(f"客户{i:03d} 1381111{i:04d}" in joined for i in range(150))
    advance(sim, 2 * 3600 + 60)  # 09:01: already sent today
    assert send_daily_lists_job.call_local() == 0


def test_tasks_complete_when_the_member_adds_the_customer(corp, admin, userids, sim_corp):
    me, other = userids[0], userids[1]
    tag = Tag.objects.filter(corp=corp, type=1).order_by("pk").first()
    # A customer the member already has, with the phone as remark mobile.
    known = sim_corp.post(
        "/customers/add",
        userid=me,
        customer={"name": "老客户"},
        add_way=2,
        remark_mobiles=["13899990000"],
    )
    sim_corp.wait_for_callbacks()
    rows = [
        ["周一", "13811112222"],  # row 2: added with the phone kept as remark mobile
        ["李雷", "13811113333"],  # 3: added by phone search, matched by name
        ["韩梅", "13811114444"],  # 4 and 5: two tasks with one name: no guess
        ["韩梅", "13811115555"],
        ["吴六", "13811116666"],  # 6: added by QR code, the phone typed in later
        ["老客户", "13899990000"],  # 7: already a customer
    ]
    done = import_list(admin, xlsx(rows), userids=(me,), tag_ids=(tag.wecom_id,))
    assert (done.tasks, done.already) == (5, 1)
    tasks = {t.row_number: t for t in done.batch.tasks.all()}
    assert tasks[7].status == TaskStatus.ALREADY_CUSTOMER
    assert tasks[7].relation.customer.external_userid == known["external_userid"]

    def add(name: str, userid: str = me, **body) -> str:
        answer = sim_corp.post("/customers/add", userid=userid, customer={"name": name}, **body)
        sim_corp.wait_for_callbacks()
        return answer["external_userid"]

    # Another member adding the phone does not complete this member's task.
    add("周一", userid=other, add_way=2, remark_mobiles=["13811112222"])
    assert Task.objects.get(pk=tasks[2].pk).status == TaskStatus.PENDING

    first = add("微信名", add_way=2, remark_mobiles=["+86 138 1111 2222"])
    second = add("李雷", add_way=2)
    add("韩梅", add_way=2)
    qr = add("吴六", add_way=1)
    fresh = {t.row_number: t for t in Task.objects.filter(batch=done.batch)}
    assert fresh[2].status == TaskStatus.ADDED and fresh[2].matched_by == MatchedBy.REMARK_MOBILE
    assert fresh[2].relation.customer.external_userid == first
    assert fresh[3].status == TaskStatus.ADDED and fresh[3].matched_by == MatchedBy.NAME
    assert fresh[3].relation.customer.external_userid == second
    assert fresh[4].status == fresh[5].status == TaskStatus.PENDING
    assert fresh[6].status == TaskStatus.PENDING  # a QR add with only a name match: not ours

    # The member types the phone into the QR customer's remark later (an edit event).
    sim_corp.post(
        f"/members/{me}/edit_customer",
        external_userid=qr,
        remark="吴六",
        remark_mobiles=["13811116666"],
    )
    sim_corp.wait_for_callbacks()
    assert Task.objects.get(pk=tasks[6].pk).status == TaskStatus.ADDED

    # Timeline and tags, once; the same event again changes nothing.
    entries = TimelineEntry.objects.filter(
        customer__external_userid=first, kind=TimelineKind.CHANNEL
    )
    assert [(e.data["kind"], e.data["label"]) for e in entries] == [("phone_task", "测试名单")]
    snapshot = sim_corp.snapshot()
    follow = next(
        f
        for c in snapshot["customers"]
        if c["external_userid"] == first
        for f in c["follow_users"]
        if f["userid"] == me
    )
    assert tag.wecom_id in follow["tag_ids"]
    assert services.complete_for_relation(corp=corp, external_userid=first, userid=me) == []
    assert entries.count() == 1

    progress = services.totals(Task.objects.filter(batch=done.batch))
    assert (progress["total"], progress["added"], progress["already"], progress["open"]) == (
        6,
        3,
        1,
        2,
    )


def test_a_sync_finds_an_add_whose_event_was_lost(corp, admin, userids, sim, sim_corp):
    """WeCom sends no event when only remark mobiles change; the morning list first completes
    tasks whose phone a customer of the member already has."""
    me = userids[0]
    _advance_to(sim, 8)
    import_list(admin, xlsx([["郑七", "13822223333"], ["冯八", "13822224444"]]), userids=(me,))
    added = sim_corp.post("/customers/add", userid=me, customer={"name": "x"}, add_way=1)
    sim_corp.wait_for_callbacks()
    sim_corp.post(
        f"/members/{me}/edit_customer",
        external_userid=added["external_userid"],
        remark_mobiles=["13822223333"],
    )
    sim_corp.wait_for_callbacks()
    assert not Task.objects.filter(status=TaskStatus.ADDED).exists()  # no event came

    from qike.sync.full import full_sync

    full_sync(corp)
    advance(sim, 3600 + 60)
    assert send_daily_lists_job.call_local() == 1
    assert Task.objects.get(name="郑七").status == TaskStatus.ADDED
    [text] = _texts(sim_corp, me)
    assert "1 to add" in text and "冯八" in text and "郑七" not in text
