"""Welcome messages with content-library items, sent through wecomsim: library attachments after
the message's own, text items appended to the text, tracked links personalised per customer,
media ids that are fresh after 3 days (and uploaded again when WeCom dropped them early), and
items deleted from the library skipped."""

from __future__ import annotations

import re

import httpx
import pytest

from qike.customers.models import Customer, TimelineEntry, TimelineKind
from qike.engagement import library
from qike.engagement.library import ItemInput
from qike.engagement.models import ContentItem, ItemMedia, SendStatus, WelcomeSend
from qike.sync.full import full_sync
from tests.engagement.conftest import PNG, library_admin, message, move_clocks, png_upload

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DAY = 86400


@pytest.fixture
def corp(qike_corp):
    full_sync(qike_corp)
    return qike_corp


@pytest.fixture
def admin(corp):
    return library_admin(corp)


def member(sim_corp) -> str:
    return next(u["userid"] for u in sim_corp.snapshot()["users"] if int(u.get("status", 1)) == 1)


def add(sim_corp, userid: str, name: str) -> dict:
    added = sim_corp.post("/customers/add", userid=userid, customer={"name": name})
    sim_corp.wait_for_callbacks()
    return added


def sim_welcomes(sim_corp, code: str) -> list[dict]:
    return [w for w in sim_corp.get("/welcome_messages") if w["welcome_code"] == code]


def sim_media(sim, sim_corp, media_id: str) -> httpx.Response:
    token = httpx.get(
        f"{sim.url}/cgi-bin/gettoken",
        params={"corpid": sim_corp.corpid, "corpsecret": sim_corp.secret},
    ).json()["access_token"]
    return httpx.get(
        f"{sim.url}/cgi-bin/media/get", params={"access_token": token, "media_id": media_id}
    )


def image(admin, title: str = "新品海报") -> ContentItem:
    return library.save_item(
        access=admin, data=ItemInput(kind="image", title=title, upload=png_upload("poster.png"))
    )


def tracked_link(admin) -> ContentItem:
    return library.save_item(
        access=admin,
        data=ItemInput(
            kind="link",
            title="春季活动",
            text="点击了解详情",
            url="https://example.com/spring",
            cover_url="https://example.com/cover.png",
        ),
    )


def test_library_image_and_tracked_link_go_to_the_new_customer(
    sim, sim_corp, corp, admin, live_server
):
    poster = image(admin)
    link = tracked_link(admin)
    hours = library.save_item(access=admin, data=ItemInput(kind="text", text="营业时间 9-18 点"))
    welcome = message(
        corp,
        "带素材",
        "您好 %NICKNAME%，欢迎！",
        is_corp_default=True,
        attachments=[{"msgtype": "link", "link": {"title": "官网", "url": "https://example.com"}}],
        item_ids=[link.pk, hours.pk, poster.pk],
    )
    userid = member(sim_corp)

    first = add(sim_corp, userid, "王芳")
    second = add(sim_corp, userid, "李雷")

    (sent,) = sim_welcomes(sim_corp, first["welcome_code"])
    assert sent["errcode"] == 0
    # The text item follows the text after a blank line; %NICKNAME% is filled in as before.
    assert sent["text"] == "您好 王芳，欢迎！\n\n营业时间 9-18 点"
    # The own attachment first, then the library items in the chosen order (the text item is text).
    assert [a["msgtype"] for a in sent["attachments"]] == ["link", "link", "image"]
    assert sent["attachments"][0]["link"]["url"] == "https://example.com"
    sent_link = sent["attachments"][1]["link"]
    assert (sent_link["title"], sent_link["desc"]) == ("春季活动", "点击了解详情")
    assert sent_link["picurl"] == "https://example.com/cover.png"
    assert re.fullmatch(rf"{re.escape(live_server.url)}/l/[\w-]+/", sent_link["url"])
    assert sim_media(sim, sim_corp, sent["attachments"][2]["image"]["media_id"]).content == PNG

    # Each customer gets an address of their own.
    (other,) = sim_welcomes(sim_corp, second["welcome_code"])
    assert other["text"] == "您好 李雷，欢迎！\n\n营业时间 9-18 点"
    assert other["attachments"][1]["link"]["url"] != sent_link["url"]

    send = WelcomeSend.objects.get(corp=corp, welcome_code=first["welcome_code"])
    assert send.status == SendStatus.SENT
    assert send.attachments[1:] == [
        {"msgtype": "link", "title": "春季活动", "item": link.pk},
        {"msgtype": "image", "title": "新品海报", "item": poster.pk},
    ]

    # The customer opens the link: Qike redirects and puts it on that customer's timeline.
    opened = httpx.get(sent_link["url"], follow_redirects=False)
    assert opened.status_code == 302 and opened.headers["location"] == "https://example.com/spring"
    wang = Customer.objects.get(corp=corp, external_userid=first["external_userid"])
    (entry,) = TimelineEntry.objects.filter(customer=wang, kind=TimelineKind.LINK_OPENED)
    assert entry.data["item_id"] == link.pk
    assert entry.data["campaign_ref"] == f"welcome:{welcome.pk}"
    li = Customer.objects.get(corp=corp, external_userid=second["external_userid"])
    assert not TimelineEntry.objects.filter(customer=li, kind=TimelineKind.LINK_OPENED).exists()
    link.refresh_from_db()
    assert link.sent_count == 2


def test_library_media_is_uploaded_again_after_three_days(sim, sim_corp, corp, admin):
    poster = image(admin)
    message(corp, "海报", "", is_corp_default=True, item_ids=[poster.pk])
    userid = member(sim_corp)

    early = add(sim_corp, userid, "甲")
    move_clocks(sim_corp, 3 * DAY + 60)
    later = add(sim_corp, userid, "乙")

    (before,) = sim_welcomes(sim_corp, early["welcome_code"])
    attempts = sim_welcomes(sim_corp, later["welcome_code"])
    # Uploaded again before sending: WeCom never saw the expired id.
    assert [a["errcode"] for a in attempts] == [0]
    old_id = before["attachments"][0]["image"]["media_id"]
    new_id = attempts[0]["attachments"][0]["image"]["media_id"]
    assert new_id != old_id
    assert sim_media(sim, sim_corp, old_id).json()["errcode"] == 40007
    assert sim_media(sim, sim_corp, new_id).content == PNG
    assert ItemMedia.objects.get(item=poster, purpose="message").media_id == new_id


def test_library_media_wecom_dropped_early_is_forgotten_and_sent_again(sim, sim_corp, corp, admin):
    poster = image(admin)
    message(corp, "海报", "欢迎", is_corp_default=True, item_ids=[poster.pk])
    userid = member(sim_corp)
    add(sim_corp, userid, "甲")
    # Only WeCom's clock moves: Qike still believes its upload is fresh; WeCom answers 40007.
    sim_corp.control.post("/sim/clock/advance", json={"seconds": 3 * DAY + 60}).raise_for_status()
    later = add(sim_corp, userid, "乙")

    attempts = sim_welcomes(sim_corp, later["welcome_code"])
    assert [a["errcode"] for a in attempts] == [40007, 0]
    retried_id = attempts[1]["attachments"][0]["image"]["media_id"]
    assert retried_id != attempts[0]["attachments"][0]["image"]["media_id"]
    assert sim_media(sim, sim_corp, retried_id).content == PNG
    send = WelcomeSend.objects.get(corp=corp, welcome_code=later["welcome_code"])
    assert send.status == SendStatus.SENT
    poster.refresh_from_db()
    assert poster.sent_count == 2  # 甲 and 乙: the retry for 乙 is not a third send


def test_an_item_deleted_after_it_was_picked_is_skipped(sim, sim_corp, corp, admin):
    poster = image(admin)
    gone = image(admin, "旧海报")
    link = tracked_link(admin)
    message(corp, "两张图", "欢迎", is_corp_default=True, item_ids=[gone.pk, poster.pk, link.pk])
    library.delete_item(access=admin, item=gone)
    userid = member(sim_corp)

    added = add(sim_corp, userid, "丙")

    (sent,) = sim_welcomes(sim_corp, added["welcome_code"])
    assert sent["errcode"] == 0
    assert [a["msgtype"] for a in sent["attachments"]] == ["image", "link"]
    send = WelcomeSend.objects.get(corp=corp, welcome_code=added["welcome_code"])
    assert send.status == SendStatus.SENT
    assert [a["item"] for a in send.attachments] == [poster.pk, link.pk]


def test_nothing_left_after_deletion_is_recorded_without_calling_wecom(sim, sim_corp, corp, admin):
    gone = image(admin)
    message(corp, "只有图", "", is_corp_default=True, item_ids=[gone.pk])
    library.delete_item(access=admin, item=gone)

    added = add(sim_corp, member(sim_corp), "丁")

    assert sim_welcomes(sim_corp, added["welcome_code"]) == []
    send = WelcomeSend.objects.get(corp=corp, welcome_code=added["welcome_code"])
    assert send.status == SendStatus.FAILED and send.errmsg  # says why (in zh-Hans)
