"""The welcome editor's library picker in a real browser (zh-Hans): search, filter by kind, add,
reorder and remove, a deleted item shown as missing, and what is saved."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from qike.engagement import library
from qike.engagement.library import ItemInput
from qike.engagement.models import WelcomeMessage
from qike.org.access import access_for
from tests.browser.conftest import ADMIN, log_in, screenshot
from tests.engagement.conftest import png_upload

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def picked_titles(page) -> list[str]:
    return page.locator("#picked-items-list li").evaluate_all(
        "rows => rows.map(r => r.querySelector('span:not(.chip)').textContent.trim())"
    )


def test_pick_search_reorder_remove_and_save(page, live_server, console_corp):
    from django.contrib.auth.models import User

    admin = access_for(User.objects.get(username=ADMIN[0]), console_corp)
    poster = library.save_item(
        access=admin, data=ItemInput(kind="image", title="春季海报", upload=png_upload())
    )
    link = library.save_item(
        access=admin,
        data=ItemInput(kind="link", title="春季活动页", url="https://example.com/spring"),
    )
    hours = library.save_item(access=admin, data=ItemInput(kind="text", text="营业时间 9-18 点"))
    gone = library.save_item(
        access=admin, data=ItemInput(kind="image", title="旧海报", upload=png_upload())
    )
    message = WelcomeMessage.objects.create(
        corp=console_corp, name="新客欢迎", text="您好", item_ids=[gone.pk, hours.pk]
    )
    library.delete_item(access=admin, item=gone)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    log_in(page, live_server)
    page.goto(f"{live_server.url}/welcome/{message.pk}/")
    missing = page.locator("#picked-items-list li.missing")
    assert "已从素材库删除" in missing.inner_text()
    assert missing.locator("input[name=item_ids]").count() == 0

    picker = page.locator("#library-items")
    picker.locator("input[type=search]").fill("春季")
    picker.locator(".picker-results li", has_text="春季海报").wait_for()
    picker.locator("select").select_option("link")
    results = picker.locator(".picker-results li")
    expect(results.filter(has_text="春季海报")).to_have_count(0)  # filtered by kind
    results.filter(has_text="春季活动页").get_by_role("button").click()
    picker.locator("select").select_option("")
    results.filter(has_text="春季海报").wait_for()
    results.filter(has_text="春季海报").get_by_role("button").click()
    expect(results.filter(has_text="春季海报").get_by_role("button")).to_be_disabled()
    assert picked_titles(page)[1:] == ["营业时间 9-18 点", "春季活动页", "春季海报"]

    # The poster goes first, the text item is removed.
    poster_row = page.locator("#picked-items-list li", has_text="春季海报")
    poster_row.get_by_role("button", name="上移").click()
    poster_row.get_by_role("button", name="上移").click()
    page.locator("#picked-items-list li", has_text="营业时间").get_by_role(
        "button", name="移除"
    ).click()
    assert picked_titles(page)[1:] == ["春季海报", "春季活动页"]
    screenshot(page, "welcome-library-picker")

    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_server.url}/welcome/")
    message.refresh_from_db()
    assert message.item_ids == [poster.pk, link.pk]  # the missing item was dropped
    assert errors == []
