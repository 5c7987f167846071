"""The console in a real browser: login, the dashboard chart, customer filters, tag editing that
round-trips through wecomsim, and switching language."""

from __future__ import annotations

import pytest

from qike.console.models import UserPreference
from qike.customers.models import FollowRelation, RelationStatus
from qike.tags.models import Tag
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def stat(page, name: str) -> int:
    return int(page.inner_text(f'[data-stat="{name}"]').lstrip("+"))


def test_login_and_the_dashboard_chart_renders_with_data(page, live_server, console_corp):
    page.goto(f"{live_server.url}/customers/")
    assert "/login/" in page.url
    assert page.is_visible("text=企业微信账号")
    page.fill("#id_username", "root")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert page.is_visible(".alert.error")
    log_in(page, live_server)
    page.wait_for_selector("#trend-chart canvas")
    assert stat(page, "total") > 0
    assert stat(page, "new_today") >= 1
    assert page.locator("#top-staff tbody tr").count() > 0
    assert page.is_visible("text=数据概览")
    page.wait_for_timeout(700)  # let the chart's first animation finish before the picture
    screenshot(page, "dashboard")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#trend-chart canvas")
    page.wait_for_timeout(700)
    screenshot(page, "dashboard-phone")


def test_filter_customers_by_staff_and_by_tag(page, live_server, console_corp):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/customers/")
    page.wait_for_selector("#customers tbody tr")
    screenshot(page, "customers")

    busiest = (
        FollowRelation.objects.filter(corp=console_corp)
        .values_list("staff__userid", "staff__name")
        .order_by("staff__userid")
        .first()
    )
    page.click("#staff-picker summary")
    page.check(f'#staff-picker input[value="{busiest[0]}"]')
    page.click("#filters button[type=submit]")
    page.wait_for_selector("#customers tbody tr")
    assert f"staff={busiest[0]}" in page.url
    names = page.locator("#customers tbody tr td:nth-child(2)").all_inner_texts()
    assert names and set(names) == {busiest[1] or busiest[0]}

    tag = (
        Tag.objects.filter(corp=console_corp, type=1, assignments__isnull=False)
        .order_by("wecom_id")
        .first()
    )
    page.goto(f"{live_server.url}/customers/")
    page.click("#tag-picker summary")
    page.check(f'#tag-picker input[value="{tag.wecom_id}"]')
    page.click("#filters button[type=submit]")
    page.wait_for_selector("#customers tbody tr")
    rows = page.locator("#customers tbody tr")
    expected = FollowRelation.objects.filter(corp=console_corp, tag_assignments__tag=tag).count()
    assert rows.count() == min(expected, 50)
    for chips in rows.locator("td:nth-child(4)").all_inner_texts():
        assert tag.name in chips


def test_editing_a_tag_round_trips_through_wecomsim(page, live_server, sim_corp, console_corp):
    relation = (
        FollowRelation.objects.filter(corp=console_corp, status=RelationStatus.ACTIVE)
        .select_related("customer", "staff")
        .order_by("pk")
        .first()
    )
    wanted = Tag.objects.get(corp=console_corp, name="高意向")
    log_in(page, live_server)
    page.goto(f"{live_server.url}/customers/{relation.customer.external_userid}/")
    box = page.locator(f"#relation-{relation.pk}")
    box.locator("text=编辑标签").click()
    box.locator(f'input[value="{wanted.wecom_id}"]').check()
    box.locator("text=保存标签").click()
    page.wait_for_selector(f"#relation-{relation.pk} .alert.success")
    assert "高意向" in page.locator(f"#relation-{relation.pk} .tags").inner_text()

    def in_wecom() -> set[str]:
        for customer in sim_corp.snapshot()["customers"]:
            if customer["external_userid"] == relation.customer.external_userid:
                for follow in customer["follow_users"]:
                    if follow["userid"] == relation.staff.userid:
                        return set(follow.get("tag_ids") or [])
        return set()

    assert wanted.wecom_id in in_wecom()
    page.reload()
    assert "高意向" in page.locator(f"#relation-{relation.pk} .tags").inner_text()
    assert page.is_visible("#timeline >> text=标签变更")
    screenshot(page, "customer-detail")


def test_switching_language_and_back(page, live_server, console_corp, django_user_model):
    log_in(page, live_server)
    assert page.is_visible("text=数据概览")
    page.select_option(".language-switcher select", "en")
    page.wait_for_selector("h1:has-text('Dashboard')")
    assert page.is_visible("text=Top staff by new customers")
    admin = django_user_model.objects.get(username="root")
    assert UserPreference.objects.get(user=admin).language == "en"
    page.goto(f"{live_server.url}/customers/")
    assert page.is_visible("h1:has-text('Customers')")
    screenshot(page, "customers-en")
    page.select_option(".language-switcher select", "zh-hans")
    page.wait_for_selector("h1:has-text('客户')")
    assert UserPreference.objects.get(user=admin).language == "zh-hans"
