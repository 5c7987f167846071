"""The acquisition pages of this release in a real browser: stores (console and the public picker
a customer uses on a phone), phone tasks, referrals and the audit trail render without script
errors, in Chinese, and the store picker narrows to a store and shows its code."""

from __future__ import annotations

import pytest

from qike.acquisition import stores
from qike.acquisition.services import LiveCodeSpec
from qike.org.access import access_for
from qike.org.models import Staff
from tests.browser.conftest import ADMIN, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chain(console_corp, django_user_model):
    admin = django_user_model.objects.get(username=ADMIN[0])
    access = access_for(admin, console_corp)
    userids = list(Staff.objects.filter(corp=console_corp).values_list("userid", flat=True)[:3])
    for name, city, district, userid in [
        ("静安嘉里店", "上海市", "静安区", userids[0]),
        ("徐家汇店", "上海市", "徐汇区", userids[1]),
        ("天河城店", "广州市", "天河区", userids[2]),
    ]:
        stores.create_store(
            access=access,
            spec=stores.StoreSpec(
                name=name,
                province="广东省" if city == "广州市" else "上海市",
                city=city,
                district=district,
                address=f"{district}某路 1 号",
                pool=LiveCodeSpec(name=name, userids=(userid,)),
            ),
        )
    return console_corp


def test_stores_phone_tasks_referrals_and_audit_pages_render(page, live_server, chain):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server)
    for path, name, marker in [
        ("/stores/", "stores", "静安嘉里店"),
        ("/phone-tasks/", "phone-tasks", "手机号"),
        ("/phone-tasks/import/", "phone-task-import", "xlsx"),
        ("/referrals/", "referrals", "老带新"),
        ("/audit/", "audit", "操作审计"),
    ]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert marker in page.content(), path
        screenshot(page, name)
    assert errors == []


def test_a_customer_picks_a_city_and_district_and_sees_the_stores_code(page, live_server, chain):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/s/{chain.corpid}/")
    screenshot(page, "store-picker")
    page.get_by_text("上海市").first.click()
    page.get_by_text("徐汇区").first.click()
    page.wait_for_selector("text=徐家汇店")
    assert "静安嘉里店" not in page.content()
    page.get_by_text("徐家汇店").first.click()
    page.wait_for_selector("img[src*='/qr/']")
    screenshot(page, "store-code")
