"""The customer list, detail page and export, per role, with filters, pagination and query guards."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from qike.core import clock
from qike.customers.models import Customer, TimelineEntry, TimelineKind
from qike.customers.views import PAGE_SIZE
from tests.console.world import follow

pytestmark = pytest.mark.django_db

LIST = "console:customers"


def rows(response) -> list[tuple[str, str]]:
    """(customer external_userid, staff userid) for each row of the list."""
    return sorted(
        (r.customer.external_userid, r.staff.userid) for r in response.context["page"].items
    )


def detail(client, external_userid: str):
    return client.get(reverse("console:customer_detail", args=[external_userid]))


# --- what each role sees --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "admin",
            [
                ("wmc1", "li.lei"),
                ("wmc2", "han.mei"),
                ("wmc3", "zhang.san"),
                ("wmc4", "li.lei"),
                ("wmc4", "zhang.san"),
            ],
        ),
        (
            "ops",
            [
                ("wmc1", "li.lei"),
                ("wmc2", "han.mei"),
                ("wmc3", "zhang.san"),
                ("wmc4", "li.lei"),
                ("wmc4", "zhang.san"),
            ],
        ),
        ("manager", [("wmc1", "li.lei"), ("wmc2", "han.mei"), ("wmc4", "li.lei")]),
        ("seller", [("wmc2", "han.mei")]),
    ],
)
def test_the_list_shows_only_the_roles_scope(as_user, role, expected):
    answer = as_user(role).get(reverse(LIST))
    assert answer.status_code == 200
    assert rows(answer) == expected
    assert answer.context["total"] == len(expected)


def test_another_corps_admin_sees_none_of_this_corp(as_user):
    answer = as_user("outsider").get(reverse(LIST))
    assert rows(answer) == [("wmcb", "bob")]


@pytest.mark.parametrize(
    ("role", "customer", "status"),
    [
        ("seller", "wmc2", 200),
        ("seller", "wmc1", 403),  # in the corp, followed by someone else
        ("seller", "wmc3", 403),
        ("seller", "wmcb", 404),  # another corp's customer
        ("seller", "wmnothing", 404),
        ("manager", "wmc1", 200),
        ("manager", "wmc3", 403),  # 客服部 is outside the sales subtree
        ("manager", "wmcb", 404),
        ("ops", "wmc3", 200),
        ("admin", "wmc4", 200),
        ("outsider", "wmc1", 404),
    ],
)
def test_detail_is_404_for_other_corps_and_403_outside_the_scope(as_user, role, customer, status):
    assert detail(as_user(role), customer).status_code == status


def test_detail_shows_only_the_relations_and_timeline_in_scope(as_user):
    manager = detail(as_user("manager"), "wmc4").content.decode()
    assert "李雷" in manager and "张三" not in manager
    assert "删除了员工" in manager  # the customer deleted 李雷: in scope
    admin = detail(as_user("admin"), "wmc4").content.decode()
    assert "李雷" in admin and "张三" in admin
    assert "添加" in admin


def test_detail_shows_profile_relation_facts_and_tags(as_user):
    page = detail(as_user("admin"), "wmc1").content.decode()
    for text in ("周杰", "wmc1", "周杰-老客户", "扫描二维码", "spring-fair", "VIP", "13800001111"):
        assert text in page, text


def test_phone_numbers_are_masked_except_for_corp_admins(as_user):
    for role in ("ops", "manager"):
        page = detail(as_user(role), "wmc1").content.decode()
        assert "138****1111" in page and "13800001111" not in page
    # Lists mask them for everyone, admins included.
    listing = as_user("admin").get(reverse(LIST)).content.decode()
    assert "138****1111" in listing and "13800001111" not in listing


# --- filters --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"staff": "li.lei"}, [("wmc1", "li.lei"), ("wmc4", "li.lei")]),
        (
            {"staff": ["li.lei", "han.mei"], "status": "active"},
            [("wmc1", "li.lei"), ("wmc2", "han.mei")],
        ),
        ({"department": "2"}, [("wmc1", "li.lei"), ("wmc2", "han.mei"), ("wmc4", "li.lei")]),
        ({"department": "4"}, [("wmc3", "zhang.san"), ("wmc4", "zhang.san")]),
        ({"tags": "etVIP"}, [("wmc1", "li.lei"), ("wmc4", "zhang.san")]),
        ({"tags": ["etVIP", "etNormal"], "tag_mode": "all"}, []),
        (
            {"tags": ["etVIP", "etNormal"], "tag_mode": "any"},
            [("wmc1", "li.lei"), ("wmc2", "han.mei"), ("wmc4", "zhang.san")],
        ),
        (
            {"tags": "etVIP", "tag_mode": "none"},
            [("wmc2", "han.mei"), ("wmc3", "zhang.san"), ("wmc4", "li.lei")],
        ),
        ({"add_way": "16"}, [("wmc4", "zhang.san")]),
        ({"state": "spring-fair"}, [("wmc1", "li.lei")]),
        ({"status": "deleted_by_customer"}, [("wmc4", "li.lei")]),
        ({"q": "老客户"}, [("wmc1", "li.lei")]),
        ({"q": "郑"}, [("wmc3", "zhang.san")]),
    ],
)
def test_filters(as_user, params, expected):
    answer = as_user("admin").get(reverse(LIST), params)
    assert answer.status_code == 200
    assert rows(answer) == expected


def test_date_range_filter(as_user):
    today = clock.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    answer = as_user("admin").get(
        reverse(LIST), {"added_from": (today - dt.timedelta(days=6)).isoformat()}
    )
    assert ("wmc4", "zhang.san") not in rows(answer)  # added 10 days ago
    assert ("wmc1", "li.lei") in rows(answer)


@pytest.mark.parametrize(
    "params",
    [
        {"added_from": "2026-05-10", "added_to": "2026-05-01"},
        {"added_from": "yesterday"},
        {"add_way": "nine"},
        {"tags": "etNoSuchTag"},
        {"staff": "zhang.san", "_role": "seller"},  # a member outside the seller's scope
        {"tag_mode": "some"},
    ],
)
def test_bad_filters_get_a_clear_message_and_no_rows(as_user, params):
    role = params.pop("_role", "admin")
    answer = as_user(role).get(reverse(LIST), params)
    assert answer.status_code == 400
    body = answer.content.decode()
    assert 'id="filter-errors"' in body
    assert 'class="errorlist' in body
    assert answer.context["page"] is None


def test_a_broken_cursor_shows_the_first_page_with_a_message(as_user):
    answer = as_user("admin").get(reverse(LIST), {"cursor": "not-a-cursor"})
    assert answer.status_code == 200
    assert "翻页参数无效" in answer.content.decode() or answer.context["cursor_error"]
    assert len(answer.context["page"].items) == 5


# --- pagination -----------------------------------------------------------------------------------


def _many(world, count: int) -> None:
    base = clock.now() - dt.timedelta(days=1)
    for n in range(count):
        customer = Customer.objects.create(
            corp=world.corp, external_userid=f"wmmany{n:04d}", name=f"客户{n}"
        )
        follow(
            world.corp,
            customer,
            world.staff["north"],
            added_at=base - dt.timedelta(minutes=n),
            tags=(world.tags["vip"],),
            remark_mobiles=["13912345678"],
        )


def test_next_and_previous_pages_walk_every_row_once(as_user, world):
    _many(world, PAGE_SIZE * 2 + 7)
    client = as_user("admin")
    seen, pages, answer = [], [], client.get(reverse(LIST), {"staff": "han.mei"})
    while True:
        pages.append(answer)
        seen.extend(r.pk for r in answer.context["page"].items)
        if not answer.context["next_url"]:
            break
        answer = client.get(answer.context["next_url"])
    assert len(pages) == 3
    assert len(seen) == len(set(seen)) == PAGE_SIZE * 2 + 8  # 韩梅梅's own customer too
    assert pages[0].context["prev_url"] == ""
    # "Previous" from the last page lands on the middle page, and from there on the first.
    back = client.get(pages[2].context["prev_url"])
    assert [r.pk for r in back.context["page"].items] == [
        r.pk for r in pages[1].context["page"].items
    ]
    first = client.get(back.context["prev_url"])
    assert [r.pk for r in first.context["page"].items] == [
        r.pk for r in pages[0].context["page"].items
    ]
    assert "staff=han.mei" in back.context["prev_url"]  # filters survive paging


def test_the_total_is_capped(as_user, world, monkeypatch):
    monkeypatch.setattr("qike.customers.views.TOTAL_CAP", 3)
    answer = as_user("admin").get(reverse(LIST))
    assert answer.context["total"] == 3 and answer.context["total_capped"]


# --- query-count guards ---------------------------------------------------------------------------


def _queries(client, url: str, params: dict | None = None) -> int:
    client.get(url, params or {})  # the first request of a session also writes the session
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(url, params or {})
    assert answer.status_code == 200
    return len(captured)


def test_list_runs_the_same_queries_for_3_or_30_rows(as_user, world):
    client = as_user("admin")
    _many(world, 3)
    few = _queries(client, reverse(LIST))
    _many_more = 27
    base = clock.now() - dt.timedelta(days=2)
    for n in range(_many_more):
        customer = Customer.objects.create(corp=world.corp, external_userid=f"wmq{n}", name=f"Q{n}")
        follow(
            world.corp,
            customer,
            world.staff["service"],
            added_at=base,
            tags=(world.tags["vip"], world.tags["normal"]),
        )
    assert _queries(client, reverse(LIST)) == few
    assert _queries(client, reverse(LIST), {"tags": "etVIP", "q": "Q"}) <= few + 1


def test_detail_runs_the_same_queries_for_3_or_30_relations(as_user, world):
    client = as_user("admin")
    customer = world.customers["c3"]
    staff = []
    from tests.console.world import member

    for n in range(30):
        staff.append(member(world.corp, f"extra{n}", f"员工{n}", world.departments["root"]))
    for member_ in staff[:2]:
        follow(world.corp, customer, member_, tags=(world.tags["vip"],))
        TimelineEntry.objects.create(
            corp=world.corp,
            customer=customer,
            staff=member_,
            kind=TimelineKind.ADDED,
            occurred_at=clock.now(),
        )
    url = reverse("console:customer_detail", args=[customer.external_userid])
    few = _queries(client, url)
    for member_ in staff[2:]:
        follow(world.corp, customer, member_, tags=(world.tags["vip"], world.tags["normal"]))
        TimelineEntry.objects.create(
            corp=world.corp,
            customer=customer,
            staff=member_,
            kind=TimelineKind.ADDED,
            occurred_at=clock.now(),
        )
    assert _queries(client, url) == few


def test_dashboard_runs_the_same_queries_for_3_or_30_customers(as_user, world):
    client = as_user("manager")
    _many(world, 3)
    few = _queries(client, reverse("console:dashboard"))
    for n in range(27):
        customer = Customer.objects.create(corp=world.corp, external_userid=f"wmd{n}", name="D")
        follow(world.corp, customer, world.staff["sales"])
    assert _queries(client, reverse("console:dashboard")) == few


# --- export ---------------------------------------------------------------------------------------


def _export(client, params: dict | None = None):
    return client.get(reverse("console:customer_export"), params or {})


def _sheet(answer) -> list[tuple]:
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in answer["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(answer.streaming_content)), read_only=True)
    return list(book.active.iter_rows(values_only=True))


def test_export_writes_the_filtered_list_with_full_numbers_for_admins(as_user):
    sheet = _sheet(_export(as_user("admin"), {"tags": "etVIP"}))
    header, *body = sheet
    assert header[0] == "客户" and "手机号" in header
    assert sorted(row[1] for row in body) == ["wmc1", "wmc4"]
    phones = {row[1]: row[header.index("手机号")] for row in body}
    assert phones["wmc1"] == "13800001111"


def test_export_masks_numbers_for_everyone_else_and_keeps_the_scope(as_user):
    header, *body = _sheet(_export(as_user("manager")))
    assert sorted((row[1], row[5]) for row in body) == [
        ("wmc1", "li.lei"),
        ("wmc2", "han.mei"),
        ("wmc4", "li.lei"),
    ]
    phones = {row[1]: row[header.index("手机号")] for row in body}
    assert phones["wmc1"] == "138****1111"


def test_staff_may_not_export(as_user):
    client = as_user("seller")
    assert _export(client).status_code == 403
    assert 'id="export"' not in client.get(reverse(LIST)).content.decode()


def test_export_keeps_formulas_as_text(as_user, world):
    world.customers["c3"].name = '=HYPERLINK("http://evil","点我")'
    world.customers["c3"].save()
    answer = _export(as_user("admin"), {"q": "HYPERLINK"})
    book = load_workbook(io.BytesIO(b"".join(answer.streaming_content)))
    cell = book.active["A2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_an_export_too_large_is_refused_with_a_message(as_user, monkeypatch):
    monkeypatch.setattr("qike.customers.exports.EXPORT_MAX_ROWS", 2)
    client = as_user("admin")
    answer = _export(client, {"status": "active"})
    assert answer.status_code == 302
    page = client.get(answer["Location"])
    assert "请缩小筛选范围" in page.content.decode()


def test_a_welcome_message_shows_its_result_on_the_timeline(as_user, world):
    customer = Customer.objects.get(corp=world.corp, external_userid="wmc1")
    TimelineEntry.objects.create(
        corp=world.corp,
        customer=customer,
        kind=TimelineKind.WELCOME,
        occurred_at=clock.now(),
        data={
            "status": "expired",
            "text": "您好，欢迎关注",
            "errcode": 41050,
            "errmsg": "invalid welcome code",
        },
    )
    page = detail(as_user("admin"), "wmc1").content.decode()
    assert "欢迎语" in page and "您好，欢迎关注" in page
    assert "欢迎码已过期" in page and "41050" in page
