"""The console shell: login, the layout, corp and language switching, error pages, the dashboard."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

from qike.console.models import UserPreference
from qike.core import clock
from qike.customers.models import TimelineEntry, TimelineKind
from qike.org.models import Membership, Role
from tests.console.world import PASSWORD, follow

pytestmark = pytest.mark.django_db


def stat(response, name: str) -> int:
    found = re.search(rf'data-stat="{name}">\+?(-?\d+)<', response.content.decode())
    assert found, name
    return int(found.group(1))


# --- login and logout ---------------------------------------------------------------------------


def test_pages_need_a_login(client, world):
    for name in ("console:dashboard", "console:customers"):
        answer = client.get(reverse(name))
        assert answer.status_code == 302
        assert answer["Location"].startswith(reverse("console:login"))


def test_staff_log_in_with_their_wecom_userid_and_out_again(client, world):
    page = client.get(reverse("console:login"))
    assert page.status_code == 200
    assert "企业微信账号" in page.content.decode()  # zh-Hans by default
    answer = client.post(reverse("console:login"), {"username": "han.mei", "password": PASSWORD})
    assert answer.status_code == 302
    assert answer["Location"] == reverse("console:dashboard")
    assert client.get(reverse("console:dashboard")).status_code == 200
    client.post(reverse("console:logout"))
    assert client.get(reverse("console:dashboard")).status_code == 302


def test_a_wrong_password_gets_a_clear_message(client, world):
    answer = client.post(reverse("console:login"), {"username": "han.mei", "password": "nope"})
    assert answer.status_code == 200
    assert "请输入一个正确的" in answer.content.decode()


@override_settings(AUTHENTICATION_BACKENDS=["qike.console.auth.UserIdBackend"])
def test_the_userid_backend_ignores_case_and_finds_linked_accounts(client, world):
    assert client.login(username="HAN.MEI", password=PASSWORD)
    # An account with another username, linked to the WeCom member zhang.san.
    account = User.objects.create_user("zs-account", password=PASSWORD)
    Membership.objects.create(
        user=account, corp=world.corp, role=Role.STAFF, staff=world.staff["service"]
    )
    other = Client()
    assert other.login(username="Zhang.San", password=PASSWORD)
    assert not other.login(username="zhang.san", password="wrong")
    assert not other.login(username="no.such.user", password=PASSWORD)


# --- the layout -----------------------------------------------------------------------------------


def test_the_navigation_follows_the_role(as_user):
    seller = as_user("seller").get(reverse("console:dashboard")).content.decode()
    assert 'href="/customers/"' in seller
    assert "设置" not in seller or "企业设置" not in seller  # corp settings are not a seller's
    admin = as_user("admin").get(reverse("console:dashboard")).content.decode()
    for name in ("console:dashboard", "console:customers"):
        assert f'href="{reverse(name)}"' in admin


def test_a_user_in_no_corp_is_told_so(as_user):
    client = as_user("nobody")
    answer = client.get(reverse("console:dashboard"))
    assert answer.status_code == 302
    assert answer["Location"] == reverse("console:no_corp")
    page = client.get(reverse("console:no_corp"))
    assert page.status_code == 200
    assert "还不是任何企业的成员" in page.content.decode()


def test_corp_switcher_moves_between_the_users_corps(client, world):
    Membership.objects.create(user=world.users["admin"], corp=world.other, role=Role.OPERATIONS)
    client.force_login(world.users["admin"])
    page = client.get(reverse("console:dashboard")).content.decode()
    assert 'name="corp"' in page and "别家公司" in page
    answer = client.post(reverse("console:switch_corp"), {"corp": world.other.pk})
    assert answer.status_code == 302
    dashboard = client.get(reverse("console:dashboard"))
    assert stat(dashboard, "total") == 1  # the other corp's one customer
    assert client.post(reverse("console:switch_corp"), {"corp": "x"}).status_code == 404


def test_a_corp_the_user_is_not_in_cannot_be_chosen(as_user, world):
    client = as_user("seller")
    assert client.post(reverse("console:switch_corp"), {"corp": world.other.pk}).status_code == 404
    assert stat(client.get(reverse("console:dashboard")), "total") == 1


def test_language_choice_is_remembered_for_the_next_login(client, world):
    client.force_login(world.users["seller"])
    assert "客户" in client.get(reverse("console:dashboard")).content.decode()
    answer = client.post(
        reverse("console:set_language"), {"language": "en", "next": reverse("console:customers")}
    )
    assert answer.status_code == 302
    assert answer["Location"] == reverse("console:customers")
    assert UserPreference.objects.get(user=world.users["seller"]).language == "en"
    assert "Customers" in client.get(reverse("console:customers")).content.decode()

    fresh = Client()  # another browser: no language cookie
    answer = fresh.post(reverse("console:login"), {"username": "han.mei", "password": PASSWORD})
    assert answer.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Top staff by new customers" in fresh.get(reverse("console:dashboard")).content.decode()


def test_an_unknown_language_changes_nothing(as_user, world):
    client = as_user("seller")
    answer = client.post(reverse("console:set_language"), {"language": "xx", "next": "/"})
    assert answer.status_code == 302
    assert not UserPreference.objects.filter(user=world.users["seller"]).exists()


def test_error_pages_are_console_pages_not_stack_traces(as_user, world):
    client = as_user("seller")
    missing = client.get("/no/such/page/")
    assert missing.status_code == 404
    assert "页面不存在" in missing.content.decode()
    forbidden = client.get(
        reverse("console:customer_detail", args=[world.customers["c3"].external_userid])
    )
    assert forbidden.status_code == 403
    body = forbidden.content.decode()
    assert "不在你的可见范围内" in body or "outside your scope" in body
    assert "Traceback" not in body


# --- the dashboard --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "total", "new_today", "lost_today", "net"),
    [
        ("admin", 4, 2, 1, 1),
        ("ops", 4, 2, 1, 1),
        ("manager", 2, 1, 1, 0),  # the sales subtree: 李雷 and 韩梅梅
        ("seller", 1, 1, 0, 1),  # 韩梅梅's own customer
    ],
)
def test_dashboard_numbers_follow_the_scope(as_user, role, total, new_today, lost_today, net):
    page = as_user(role).get(reverse("console:dashboard"))
    assert page.status_code == 200
    assert stat(page, "total") == total
    assert stat(page, "new_today") == new_today
    assert stat(page, "lost_today") == lost_today
    assert stat(page, "net_growth") == net


def test_dashboard_numbers_refresh_alone_and_move(as_user, world):
    client = as_user("admin")
    page = client.get(reverse("console:dashboard")).content.decode()
    assert 'hx-trigger="every 30s"' in page
    assert 'id="trend-data"' in page
    before = client.get(reverse("console:dashboard_numbers"))
    assert "<html" not in before.content.decode()
    follow(world.corp, world.customers["c1"], world.staff["north"])
    TimelineEntry.objects.create(
        corp=world.corp,
        customer=world.customers["c3"],
        staff=world.staff["service"],
        kind=TimelineKind.DELETED_BY_STAFF,
        occurred_at=clock.now(),
    )
    after = client.get(reverse("console:dashboard_numbers"))
    assert stat(after, "new_today") == stat(before, "new_today") + 1
    assert stat(after, "lost_today") == stat(before, "lost_today") + 1
    assert "被员工删除 1" in after.content.decode() or "by staff 1" in after.content.decode()


def test_dashboard_trend_and_top_staff(as_user):
    import json

    page = as_user("admin").get(reverse("console:dashboard"))
    trend = json.loads(
        re.search(r'id="trend-data"[^>]*>(.*?)</script>', page.content.decode()).group(1)
    )
    assert len(trend["days"]) == len(trend["added"]) == len(trend["lost"]) == 30
    assert sum(trend["added"]) == 5
    assert trend["lost"][-1] == 1
    ranking = page.context["top_staff"]
    # li.lei and zhang.san both added two: a tie broken by userid.
    assert [(row.userid, row.added) for row in ranking][:1] == [("li.lei", 2)]


def test_error_pages_work_for_visitors_who_are_not_logged_in(client, world):
    missing = client.get("/no/such/page/")
    assert missing.status_code == 404
    body = missing.content.decode()
    assert "页面不存在" in body and 'href="/login/"' in body


def test_a_superuser_sees_every_corp_as_super_admin(client, world):
    root = User.objects.create_superuser("root", password=PASSWORD)
    client.force_login(root)
    page = client.get(reverse("console:dashboard")).content.decode()
    assert "超级管理员" in page
    assert "云帆科技" in page and "别家公司" in page  # both in the corp switcher


def test_qike_wording_wins_over_the_admin_catalog(as_user):
    """Django's admin translates "Filter" as 过滤器; the console's filter buttons say 筛选."""
    page = as_user("admin").get(reverse("console:lifecycle_board")).content.decode()
    assert "筛选" in page and "过滤器" not in page


def test_the_dashboard_lists_what_needs_attention_for_the_role(as_user, world):
    """Work waiting on someone, with links: a lost customer without a reason and a customer in
    the shared pool for everyone who sees customers; a seller sees only their own lost ones."""
    from qike.core import clock
    from qike.retention.models import LostCustomer, LostKind, PoolEntry, PoolReason, PoolStatus

    lost = world.relations[("c4", "sales")]
    LostCustomer.objects.create(
        corp=world.corp,
        relation=lost,
        customer=lost.customer,
        staff=lost.staff,
        kind=LostKind.DELETED_BY_CUSTOMER,
        lost_at=clock.now(),
    )
    PoolEntry.objects.create(
        corp=world.corp,
        customer=world.customers["c3"],
        status=PoolStatus.IN_POOL,
        reason=PoolReason.IDLE,
        pooled_at=clock.now(),
    )

    def attention(who: str) -> dict[str, str]:
        page = as_user(who).get(reverse("console:dashboard")).content.decode()
        if 'id="attention"' not in page:
            return {}
        card = page.split('id="attention"')[1].split("</ul>")[0]
        return dict(re.findall(r'data-attention="(\w+)"><a href="[^"]*"><strong>(\d+)', card))

    assert attention("admin") == {"lost": "1", "pool": "1"}
    page = as_user("admin").get(reverse("console:dashboard")).content.decode()
    assert "位本周流失客户未填原因" in page and 'href="/lost-customers/"' in page
    assert attention("seller") == {"pool": "1"}  # the lost customer is not the seller's
    LostCustomer.objects.update(reason="价格")
    PoolEntry.objects.update(status=PoolStatus.CLAIMED)
    assert attention("admin") == {}  # nothing to do: no card
