"""Importing a phone list: every bad row reported with its row number, malformed files refused,
nothing saved before the user confirms; assignment evenly or by column under a daily cap that
spills to the next days; phones that are already customers; tenancy and roles."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from qike.core import clock
from qike.customers.mobiles import mobile_hash
from qike.org.access import access_for
from qike.org.models import StaffStatus
from qike.phonetasks import imports, services
from qike.phonetasks.models import (
    Batch,
    DailyList,
    ImportPreview,
    ListStatus,
    Task,
    TaskStatus,
)
from tests.phonetasks.conftest import import_list, phones, xlsx

pytestmark = pytest.mark.django_db


def _upload(access, data: bytes, **options) -> ImportPreview:
    options.setdefault("name", "春季名单")
    return services.upload(
        access=access, options=services.ImportOptions(**options), filename="f.xlsx", data=data
    )


def test_bad_rows_are_reported_by_row_number_and_nothing_is_saved_before_confirm(world, ops):
    import_list(ops, xlsx([["老名单", "13700000000"]]), userids=("boss",))  # an open task
    data = xlsx(
        [
            ["张三", "13812345678", "华东", "VIP"],  # row 2: fine
            ["李四", "", "华南", ""],  # 3: no phone
            ["王五", "1381234567", "", ""],  # 4: ten digits
            ["赵六", "+86 138-1234-5678", "", ""],  # 5: the same number as row 2
            [None, None, None, None],  # 6: empty, skipped
            ["钱七", "12812345678", "", ""],  # 7: not a mobile prefix
            ["孙八", "13700000000", "", ""],  # 8: already an open task
            ["周九", 13912345678, "", ""],  # 9: a number cell, fine
            ["吴十", "0086 13612345678", "华北", ""],  # 10: fine after normalising
            ["长" * 65, "13512345678", "", ""],  # 11: name too long
        ],
        header=["姓名", "手机号（必填）", "地区", "备注"],
    )
    preview = _upload(ops, data, userids=("li.lei", "han.mei"))
    assert [(p["row"], p["reason"]) for p in preview.problems] == [
        (3, "No mobile number."),
        (4, "Not a mainland mobile number (11 digits starting with 1)."),
        (5, "The same number as row 2."),
        (7, "Not a mainland mobile number (11 digits starting with 1)."),
        (8, "Already an open task in the list “测试名单”."),
        (11, "The name is longer than 64 characters."),
    ]
    assert preview.valid_count == 3 and [r["row"] for r in preview.rows] == [2, 9, 10]
    assert preview.rows[2]["phone"] == "13612345678"
    assert preview.columns["phone"] == "手机号（必填）" and preview.columns["extra"] == [
        "地区",
        "备注",
    ]
    # Nothing imported yet.
    assert Batch.objects.filter(corp=world.corp).count() == 1
    assert Task.objects.filter(corp=world.corp).count() == 1

    done = services.confirm(access=ops, preview_id=preview.pk)
    assert (done.tasks, done.already, done.skipped) == (3, 0, 0)
    tasks = list(done.batch.tasks.order_by("row_number"))
    assert [t.row_number for t in tasks] == [2, 9, 10]
    assert tasks[0].extra == {"地区": "华东", "备注": "VIP"} and tasks[1].extra == {}
    assert tasks[0].phone_hash == mobile_hash("13812345678")
    assert not ImportPreview.objects.filter(pk=preview.pk).exists()
    with pytest.raises(ValidationError, match="gone"):
        services.confirm(access=ops, preview_id=preview.pk)  # a second click imports nothing
    assert Task.objects.filter(batch=done.batch).count() == 3

    # Encrypted at rest: the column holds no readable number.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM phonetasks_task WHERE id = %s", [tasks[0].pk])
        assert "13812345678" not in cursor.fetchone()[0]


def test_discard_and_expiry_keep_nothing(world, ops):
    preview = _upload(ops, xlsx(phones(3)), userids=("boss",))
    services.discard(access=ops, preview_id=preview.pk)
    assert not ImportPreview.objects.exists() and not Task.objects.exists()

    preview = _upload(ops, xlsx(phones(3)), userids=("boss",))
    clock.advance(25 * 3600)
    with pytest.raises(ValidationError, match="expired"):
        services.confirm(access=ops, preview_id=preview.pk)
    assert services.forget_expired_previews() == 1 and not Task.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"name,phone\nx,13812345678\n", "not an .xlsx file"),
        (b"", "empty"),
        (b"PK\x03\x04 not really a zip", "could not be read"),
        (xlsx([], header=[]), "empty"),
        (xlsx([], header=["姓名", "手机号"]), "no data rows"),
        (xlsx([["张三", "x"]], header=["姓名", "地址"]), "No phone column"),
    ],
)
def test_malformed_files_get_a_clear_error(world, ops, data, message):
    with pytest.raises(ValidationError, match=message):
        _upload(ops, data, userids=("boss",))
    assert not ImportPreview.objects.exists()


def test_too_many_rows(world, ops, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 5)
    with pytest.raises(ValidationError, match="more than 5 rows"):
        _upload(ops, xlsx(phones(6)), userids=("boss",))
    assert _upload(ops, xlsx(phones(5)), userids=("boss",)).valid_count == 5
    assert imports.MAX_ROWS == 5 and services.imports.MAX_ROWS == 5


def test_options_are_checked(world, ops):
    with pytest.raises(ValidationError, match="daily cap"):
        _upload(ops, xlsx(phones(1)), userids=("boss",), daily_cap=0)
    with pytest.raises(ValidationError, match="nobody"):
        _upload(ops, xlsx(phones(1)), userids=("nobody",))
    with pytest.raises(ValidationError, match="at least one"):
        _upload(ops, xlsx(phones(1)))
    with pytest.raises(ValidationError, match="corp tags"):
        _upload(ops, xlsx(phones(1)), userids=("boss",), tag_ids=("etNope",))
    with pytest.raises(ValidationError, match="No staff column"):
        _upload(ops, xlsx(phones(1)), assign_mode="by_column")
    assert not ImportPreview.objects.exists()


def test_even_assignment_with_the_cap_of_60_spills_to_the_next_day(world, ops):
    done = import_list(ops, xlsx(phones(130)), userids=("li.lei", "han.mei"))
    assert done.batch.daily_cap == 60 and done.tasks == 130
    today = services.local_today()
    tomorrow = today + dt.timedelta(days=1)
    per_day = {
        (row["staff__userid"], row["scheduled_on"]): row["n"] for row in _per_day(done.batch)
    }
    assert per_day == {
        ("han.mei", today): 60,
        ("han.mei", tomorrow): 5,
        ("li.lei", today): 60,
        ("li.lei", tomorrow): 5,
    }
    # Turns alternate in the file's order (UserID order: han.mei first).
    first = list(
        done.batch.tasks.order_by("row_number")[:4].values_list("staff__userid", flat=True)
    )
    assert first == ["han.mei", "li.lei", "han.mei", "li.lei"]

    # A second list shares the same cap: today is full, so it starts tomorrow after the 5.
    second = import_list(ops, xlsx(phones(60, start=500)), name="第二批", userids=("han.mei",))
    days = _per_day(second.batch)
    assert [(r["scheduled_on"], r["n"]) for r in days] == [
        (tomorrow, 55),
        (tomorrow + dt.timedelta(days=1), 5),
    ]


def _per_day(batch):
    from django.db.models import Count

    return list(
        batch.tasks.values("staff__userid", "scheduled_on")
        .annotate(n=Count("pk"))
        .order_by("staff__userid", "scheduled_on")
    )


def test_departments_expand_to_active_members_and_the_cap_is_per_batch(world, ops):
    world.staff["north"].status = StaffStatus.DISABLED
    world.staff["north"].save()
    # 销售部 (2) holds li.lei and, in its sub-department, han.mei, who is disabled.
    done = import_list(ops, xlsx(phones(7)), department_ids=(2,), daily_cap=3)
    rows = _per_day(done.batch)
    today = services.local_today()
    assert [(r["staff__userid"], (r["scheduled_on"] - today).days, r["n"]) for r in rows] == [
        ("li.lei", 0, 3),
        ("li.lei", 1, 3),
        ("li.lei", 2, 1),
    ]
    with pytest.raises(ValidationError, match="Unknown department"):
        _upload(ops, xlsx(phones(1)), department_ids=(99,))


def test_a_member_whose_list_went_out_today_starts_tomorrow(world, ops):
    today = services.local_today()
    DailyList.objects.create(
        corp=world.corp,
        staff=world.staff["boss"],
        day=today,
        status=ListStatus.SENT,
        created_at=clock.now(),
    )
    done = import_list(ops, xlsx(phones(2)), userids=("boss", "zhang.san"))
    scheduled = dict(done.batch.tasks.values_list("staff__userid", "scheduled_on"))
    assert scheduled == {"boss": today + dt.timedelta(days=1), "zhang.san": today}


def test_assignment_by_column(world, ops):
    data = xlsx(
        [
            ["甲", "13811110001", "boss"],  # by UserID
            ["乙", "13811110002", "BOSS"],  # UserIDs are case-insensitive, as in WeCom
            ["丙", "13811110003", "张三"],  # by name
            ["丁", "13811110004", "nobody"],  # row 5: unknown
            ["戊", "13811110005", ""],  # row 6: empty
            ["己", "13811110006", "鲍勃"],  # row 7: another corp's member
        ],
        header=["name", "Mobile", "员工"],
    )
    preview = _upload(ops, data, assign_mode="by_column", daily_cap=1)
    assert [(p["row"], p["reason"]) for p in preview.problems] == [
        (5, "Unknown staff member “nobody”."),
        (6, "No staff member in the staff column."),
        (7, "Unknown staff member “鲍勃”."),
    ]
    done = services.confirm(access=ops, preview_id=preview.pk)
    today = services.local_today()
    got = list(done.batch.tasks.order_by("row_number").values_list("staff__userid", "scheduled_on"))
    assert got == [
        ("boss", today),
        ("boss", today + dt.timedelta(days=1)),
        ("zhang.san", today),
    ]

    world.staff["service"].status = StaffStatus.LEFT
    world.staff["service"].save()
    preview = _upload(
        ops,
        xlsx([["庚", "13811110009", "zhang.san"]], header=["姓名", "手机", "负责人"]),
        assign_mode="by_column",
    )
    assert preview.problems == [{"row": 2, "reason": "“zhang.san” is not an active staff member."}]


def test_phones_that_are_already_customers(world, ops):
    # li.lei (sales) follows 周杰 with remark mobile 13800001111.
    data = xlsx([["周杰", "138 0000 1111"], ["新人", "13800002222"]])
    done = import_list(ops, data, userids=("boss", "li.lei"))
    assert (done.tasks, done.already) == (1, 1)
    known = done.batch.tasks.get(row_number=2)
    assert known.status == TaskStatus.ALREADY_CUSTOMER
    assert known.staff == world.staff["sales"]  # given to the member who has the customer
    assert known.relation == world.relations[("c1", "sales")] and known.scheduled_on is None
    fresh = done.batch.tasks.get(row_number=3)
    assert fresh.status == TaskStatus.PENDING and fresh.staff.userid == "boss"

    # By column, only the row's own member counts.
    other = import_list(
        ops,
        xlsx([["周杰", "13800001111", "boss"]], header=["姓名", "手机号", "员工"]),
        assign_mode="by_column",
    )
    assert other.batch.tasks.get().status == TaskStatus.PENDING


def test_cancel_leaves_done_tasks_alone(world, ops):
    done = import_list(ops, xlsx(phones(3)), userids=("boss",))
    first = done.batch.tasks.order_by("row_number").first()
    Task.objects.filter(pk=first.pk).update(status=TaskStatus.ADDED)
    assert services.cancel_batch(access=ops, batch=done.batch) == 2
    statuses = sorted(done.batch.tasks.values_list("status", flat=True))
    assert statuses == ["added", "cancelled", "cancelled"]
    # No phone is an open task any more: all may go into a new list.
    assert _upload(ops, xlsx(phones(3)), userids=("boss",)).valid_count == 3


def test_roles_and_tenancy(world, ops):
    data = xlsx(phones(2))
    for key in ("manager", "seller"):
        access = access_for(world.users[key], world.corp)
        with pytest.raises(PermissionDenied):
            _upload(access, data, userids=("boss",))
    admin = access_for(world.users["admin"], world.corp)
    preview = _upload(admin, data, userids=("boss",))
    outsider = access_for(world.users["outsider"], world.other)
    with pytest.raises(ValidationError, match="gone"):
        services.confirm(access=outsider, preview_id=preview.pk)
    services.discard(access=outsider, preview_id=preview.pk)  # not theirs: nothing happens
    assert ImportPreview.objects.filter(pk=preview.pk).exists()
    with pytest.raises(ValidationError, match="No active staff"):
        _upload(outsider, data, userids=("boss",))  # another corp's member
    done = services.confirm(access=admin, preview_id=preview.pk)
    with pytest.raises(PermissionDenied):
        services.cancel_batch(access=outsider, batch=done.batch)
    assert services.batches_in_scope(outsider).count() == 0

    # Managers see the batch through their members' tasks only; staff their own tasks.
    manager = access_for(world.users["manager"], world.corp)
    assert services.batches_in_scope(manager).count() == 0  # boss is not in 销售部
    seller = access_for(world.users["seller"], world.corp)
    assert services.tasks_in_scope(seller).count() == 0
    import_list(ops, xlsx(phones(4, start=50)), userids=("han.mei", "zhang.san"))
    [seen] = services.batches_in_scope(manager)
    assert (seen.total, seen.open) == (2, 2)  # han.mei's two, not zhang.san's
    assert set(services.tasks_in_scope(seller).values_list("staff__userid", flat=True)) == {
        "han.mei"
    }
