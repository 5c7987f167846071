"""The demo's showcase: what it adds in Qike works end to end — a customer who scans its live code
is welcomed with the library's poster and tracked catalogue link."""

from __future__ import annotations

import pytest

from qike.acquisition.models import LiveCode
from qike.core.demo_content import SHOP_URL, seed_showcase
from qike.engagement.models import ContentItem, QuickReply, WelcomeMessage, WelcomeSend
from qike.segments.models import Segment
from tests.acquisition.conftest import admin, corp, scan, users  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_showcase_fills_the_pages_and_welcomes_with_library_items(
    corp,  # noqa: F811
    admin,  # noqa: F811
    sim_corp,
):
    made = seed_showcase(admin)

    assert made == {
        "library_items": 3,
        "welcome_messages": 1,
        "quick_replies": 3,
        "segments": 2,
        "live_codes": 1,
    }
    assert ContentItem.objects.filter(corp=corp).count() == 3
    assert QuickReply.objects.filter(corp=corp).count() == 3
    assert Segment.objects.filter(corp=corp).count() == 2
    welcome = WelcomeMessage.objects.get(corp=corp, is_corp_default=True)
    code = LiveCode.objects.get(corp=corp, welcome_message=welcome)

    scan(sim_corp, code, "演示客户")
    (sent,) = sim_corp.get("/welcome_messages")[-1:]
    kinds = [a["msgtype"] for a in sent["attachments"]]
    assert kinds == ["image", "link"]
    assert "/l/" in sent["attachments"][1]["link"]["url"]  # tracked, not SHOP_URL itself
    assert SHOP_URL not in sent["attachments"][1]["link"]["url"]
    assert WelcomeSend.objects.filter(corp=corp, status="sent").exists()
