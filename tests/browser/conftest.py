"""Browser tests: Playwright driving Debian's Chromium against a live Qike connected to wecomsim.

Skipped when /usr/bin/chromium is missing, except on CI (env CI set), where that is a failure.
Screenshots go to test-artifacts/ at the repository root.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SimCorp, seed_sim_corp

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ADMIN = ("root", "browser-test-password")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-wqy-microhei)")
    return CHROMIUM


@pytest.fixture(scope="session")
def front_end_assets() -> Path:
    """htmx, Alpine.js and ECharts from npm into the test QIKE_HOME, as `qike assets` does."""
    from django.conf import settings

    from qike.console import assets

    return assets.install(Path(settings.QIKE_HOME))


@pytest.fixture(scope="session")
def browser(chromium_path, front_end_assets) -> Iterator:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run while
    # one is active unless told this thread is not actually asynchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    # A Chinese browser: zh-Hans is what the console shows first.
    context = browser.new_context(viewport={"width": 1366, "height": 860}, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def sim_corp(sim) -> Iterator[SimCorp]:
    """A corp big enough to look like one in screenshots, small enough to sync in a second."""
    corp = seed_sim_corp(sim, seed=21, departments=4, staff=10, customers=120)
    yield corp
    corp.control.close()


@pytest.fixture
def console_corp(qike_corp, sim_corp, django_user_model):
    """The simulated corp synced into Qike, a tag group Qike created (seeded tags belong to no
    app), a customer added today, and a super admin to log in as."""
    from qike.org.access import access_for
    from qike.sync.full import full_sync
    from qike.tags import services as tags

    full_sync(qike_corp)
    admin = django_user_model.objects.create_superuser(ADMIN[0], password=ADMIN[1])
    tags.create_group(
        access=access_for(admin, qike_corp), name="购买意向", tag_names=["高意向", "观望中"]
    )
    userid = sim_corp.snapshot()["users"][0]["userid"]
    sim_corp.post("/customers/add", userid=userid, customer={"name": "今日新客"})
    sim_corp.wait_for_callbacks()
    return qike_corp


def log_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", ADMIN[0])
    page.fill("#id_password", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
