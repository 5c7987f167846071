"""Welcome messages sent through wecomsim: which message, when, at most once, and every result
recorded on the customer's timeline and in the sends list."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from qike.core import clock
from qike.core.services import client_for
from qike.customers.models import TimelineEntry, TimelineKind
from qike.engagement.models import (
    ChosenBy,
    SendStatus,
    StaffWelcome,
    WelcomeMedia,
    WelcomeSend,
)
from qike.engagement.sources import Source
from qike.intake.models import CallbackEvent
from qike.intake.services import replay
from qike.org.models import Staff
from qike.sync.full import full_sync
from tests.e2e.helpers import contact_event, deliver
from tests.engagement.conftest import PNG, message, move_clocks

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def corp(qike_corp):
    full_sync(qike_corp)
    return qike_corp


def members(sim_corp) -> list[str]:
    return [u["userid"] for u in sim_corp.snapshot()["users"] if int(u.get("status", 1)) == 1]


def sim_welcomes(sim_corp, code: str | None = None) -> list[dict]:
    sent = sim_corp.get("/welcome_messages")
    return [w for w in sent if code is None or w["welcome_code"] == code]


def add(sim_corp, userid: str, name: str, **extra) -> dict:
    added = sim_corp.post("/customers/add", userid=userid, customer={"name": name}, **extra)
    sim_corp.wait_for_callbacks()
    return added


def welcome_timeline(corp, external_userid: str) -> list[TimelineEntry]:
    return list(
        TimelineEntry.objects.filter(
            corp=corp, customer__external_userid=external_userid, kind=TimelineKind.WELCOME
        )
    )


def test_a_contact_ways_own_message_goes_to_a_half_added_customer(sim_corp, corp, channel):
    userid = members(sim_corp)[0]
    own = message(corp, "春季海报", "您好 %NICKNAME%，欢迎参加春季活动", nickname_fallback="朋友")
    message(corp, "公司默认", "欢迎", is_corp_default=True)
    channel["lc-77"] = Source(
        kind="live_code", object_id=77, label="春季海报活码", welcome_message_id=own.pk
    )
    way = client_for(corp).add_contact_way(
        type=1, scene=2, user=[userid], skip_verify=True, state="lc-77"
    )
    scanned = sim_corp.post(
        "/customers/scan", config_id=way["config_id"], customer={"name": "韩梅梅"}
    )
    sim_corp.wait_for_callbacks()

    assert scanned["status"] == "half"
    (sent,) = sim_welcomes(sim_corp, scanned["welcome_code"])
    # A half-added customer is not readable yet (84061): the fallback stands in for the name.
    assert (sent["errcode"], sent["text"]) == (0, "您好 朋友，欢迎参加春季活动")
    send = WelcomeSend.objects.get(corp=corp, welcome_code=scanned["welcome_code"])
    assert send.status == SendStatus.SENT
    assert (send.chosen_by, send.message_name, send.source_label) == (
        ChosenBy.SOURCE,
        "春季海报",
        "春季海报活码",
    )
    assert send.is_half
    (entry,) = welcome_timeline(corp, scanned["external_userid"])
    assert entry.data["status"] == "sent" and entry.data["text"] == sent["text"]

    # The member confirms: WeCom sends no second code, and Qike records nothing more.
    sim_corp.post(f"/members/{userid}/accept", external_userid=scanned["external_userid"])
    sim_corp.wait_for_callbacks()
    assert WelcomeSend.objects.filter(corp=corp).count() == 1
    assert len(sim_welcomes(sim_corp)) == 1


def test_staff_default_then_corp_default(sim_corp, corp):
    first, second = members(sim_corp)[:2]
    mine = message(corp, "李经理的欢迎语", "%NICKNAME%您好，我是您的专属顾问")
    message(corp, "公司默认", "欢迎关注云帆科技", is_corp_default=True)
    StaffWelcome.objects.create(
        corp=corp, staff=Staff.objects.get(corp=corp, userid=first), message=mine
    )

    a = add(sim_corp, first, "周杰")
    b = add(sim_corp, second, "吴晓")

    assert sim_welcomes(sim_corp, a["welcome_code"])[0]["text"] == "周杰您好，我是您的专属顾问"
    assert sim_welcomes(sim_corp, b["welcome_code"])[0]["text"] == "欢迎关注云帆科技"
    chosen = dict(WelcomeSend.objects.filter(corp=corp).values_list("userid", "chosen_by"))
    assert chosen == {first: ChosenBy.STAFF, second: ChosenBy.CORP}


def test_nothing_configured_is_recorded_and_nothing_sent(sim_corp, corp):
    added = add(sim_corp, members(sim_corp)[0], "郑琳")
    send = WelcomeSend.objects.get(corp=corp, welcome_code=added["welcome_code"])
    assert send.status == SendStatus.NO_MESSAGE
    assert sim_welcomes(sim_corp) == []
    assert welcome_timeline(corp, added["external_userid"])[0].data["status"] == "no_message"


def _seconds_until(hour: int) -> float:
    local = timezone.localtime(clock.now())
    target = local.replace(hour=hour, minute=30, second=0, microsecond=0)
    if target <= local:
        target += dt.timedelta(days=1)
    return (target - local).total_seconds()


def test_time_of_day_variant_replaces_the_text(sim_corp, corp):
    message(
        corp,
        "全天",
        "白天好，马上为您服务",
        is_corp_default=True,
        variants=[{"start": "22:00", "end": "08:00", "text": "夜深了，明早 8 点为您服务"}],
    )
    userid = members(sim_corp)[0]
    move_clocks(sim_corp, _seconds_until(23))  # 23:30 in Shanghai
    night = add(sim_corp, userid, "夜猫子")
    move_clocks(sim_corp, 12 * 3600)  # 11:30 the next day
    day = add(sim_corp, userid, "早起鸟")

    assert sim_welcomes(sim_corp, night["welcome_code"])[0]["text"] == "夜深了，明早 8 点为您服务"
    assert sim_welcomes(sim_corp, day["welcome_code"])[0]["text"] == "白天好，马上为您服务"
    assert WelcomeSend.objects.get(welcome_code=night["welcome_code"]).variant == "22:00–08:00"


def test_the_same_callback_three_times_and_a_replay_send_once(sim_corp, corp, live_server):
    message(corp, "默认", "欢迎", is_corp_default=True)
    added = add(sim_corp, members(sim_corp)[0], "钱多多")
    (delivery,) = [
        d
        for d in sim_corp.control.get(
            f"/sim/corps/{sim_corp.corpid}/deliveries", params={"xml": 1}
        ).json()
        if added["welcome_code"] in (d.get("xml") or "")
    ]
    url = f"{live_server.url}/wecom/callback/{corp.corpid}/"
    for _ in range(2):
        assert deliver(url, corp, delivery["xml"]).status_code == 200
    replay(CallbackEvent.objects.filter(corp=corp))

    assert len(sim_welcomes(sim_corp, added["welcome_code"])) == 1
    assert WelcomeSend.objects.filter(corp=corp, welcome_code=added["welcome_code"]).count() == 1
    assert len(welcome_timeline(corp, added["external_userid"])) == 1


def _added_without_callback(sim_corp, userid: str, name: str) -> dict:
    sim_corp.post("/callbacks/drop", count=1)
    added = sim_corp.post("/customers/add", userid=userid, customer={"name": name})
    sim_corp.wait_for_callbacks()
    return added


def test_a_code_wecom_calls_expired_is_recorded_as_expired(sim_corp, corp, live_server):
    message(corp, "默认", "欢迎", is_corp_default=True)
    userid = members(sim_corp)[0]
    issued_at = int(time.time())
    added = _added_without_callback(sim_corp, userid, "迟到者")
    sim_corp.control.post("/sim/clock/advance", json={"seconds": 30}).raise_for_status()
    xml = contact_event(
        corp,
        "add_external_contact",
        userid,
        added["external_userid"],
        issued_at,
        WelcomeCode=added["welcome_code"],
    )
    deliver(f"{live_server.url}/wecom/callback/{corp.corpid}/", corp, xml)

    send = WelcomeSend.objects.get(corp=corp, welcome_code=added["welcome_code"])
    assert (send.status, send.errcode) == (SendStatus.EXPIRED, 41050)
    assert sim_welcomes(sim_corp, added["welcome_code"])[0]["errcode"] == 41050
    assert welcome_timeline(corp, added["external_userid"])[0].data["status"] == "expired"


def test_a_callback_older_than_20_seconds_is_not_sent(sim_corp, corp, live_server):
    message(corp, "默认", "欢迎", is_corp_default=True)
    userid = members(sim_corp)[0]
    added = _added_without_callback(sim_corp, userid, "晚到者")
    xml = contact_event(
        corp,
        "add_external_contact",
        userid,
        added["external_userid"],
        int(time.time()) - 60,
        WelcomeCode=added["welcome_code"],
    )
    deliver(f"{live_server.url}/wecom/callback/{corp.corpid}/", corp, xml)

    send = WelcomeSend.objects.get(corp=corp, welcome_code=added["welcome_code"])
    assert send.status == SendStatus.EXPIRED and send.errcode is None
    assert sim_welcomes(sim_corp, added["welcome_code"]) == []  # WeCom was never called


def test_an_add_without_welcome_code_is_recorded_not_an_error(sim_corp, corp, live_server):
    message(corp, "默认", "欢迎", is_corp_default=True)
    customer = next(c for c in sim_corp.snapshot()["customers"] if c["follow_users"])
    userid = customer["follow_users"][0]["userid"]
    xml = contact_event(
        corp, "add_external_contact", userid, customer["external_userid"], int(time.time())
    )
    deliver(f"{live_server.url}/wecom/callback/{corp.corpid}/", corp, xml)

    send = WelcomeSend.objects.get(corp=corp, external_userid=customer["external_userid"])
    assert send.status == SendStatus.NO_CODE and send.errcode is None
    assert sim_welcomes(sim_corp) == []
    assert welcome_timeline(corp, customer["external_userid"])[0].data["status"] == "no_code"


def test_an_image_is_uploaded_then_uploaded_again_after_three_days(sim_corp, corp):
    from django.core.files.base import ContentFile

    image = WelcomeMedia(corp=corp, kind="image", filename="poster.png", size=len(PNG))
    image.file.save("poster.png", ContentFile(PNG), save=False)
    image.save()
    message(
        corp,
        "带图",
        "欢迎",
        is_corp_default=True,
        attachments=[
            {"msgtype": "image", "image": {"media": image.pk}},
            {"msgtype": "link", "link": {"title": "活动详情", "url": "https://example.com/a"}},
        ],
    )
    userid = members(sim_corp)[0]
    first = add(sim_corp, userid, "甲")
    again = add(sim_corp, userid, "乙")
    move_clocks(sim_corp, 3 * 86400 + 60)
    later = add(sim_corp, userid, "丙")

    def media_id(code):
        (sent,) = sim_welcomes(sim_corp, code)
        assert sent["errcode"] == 0
        assert sent["attachments"][1] == {
            "msgtype": "link",
            "link": {"title": "活动详情", "url": "https://example.com/a"},
        }
        return sent["attachments"][0]["image"]["media_id"]

    assert media_id(first["welcome_code"]) == media_id(again["welcome_code"])  # cached
    assert media_id(later["welcome_code"]) != media_id(first["welcome_code"])  # re-uploaded
    image.refresh_from_db()
    assert image.media_id == media_id(later["welcome_code"])


def test_media_wecom_dropped_early_is_uploaded_again(sim_corp, corp):
    from django.core.files.base import ContentFile

    image = WelcomeMedia(corp=corp, kind="image", filename="p.png", size=len(PNG))
    image.file.save("p.png", ContentFile(PNG), save=False)
    image.save()
    message(
        corp,
        "带图",
        "",
        is_corp_default=True,
        attachments=[{"msgtype": "image", "image": {"media": image.pk}}],
    )
    userid = members(sim_corp)[0]
    add(sim_corp, userid, "甲")
    # Only WeCom's clock moves: Qike still believes its upload is fresh; WeCom answers 40007.
    sim_corp.control.post("/sim/clock/advance", json={"seconds": 3 * 86400 + 60}).raise_for_status()
    later = add(sim_corp, userid, "乙")

    attempts = sim_welcomes(sim_corp, later["welcome_code"])
    assert [a["errcode"] for a in attempts] == [40007, 0]
    assert WelcomeSend.objects.get(welcome_code=later["welcome_code"]).status == SendStatus.SENT


def test_a_backlog_welcomes_the_newest_first_and_writes_off_what_is_past_20_seconds(sim_corp, corp):
    """When adds arrive faster than the workers send, first-come-first-served would let every code
    in the queue expire; the freshest goes first and only the oldest expire, without calling WeCom."""
    from qike.engagement import services

    message(corp, "默认", "欢迎", is_corp_default=True)
    userid = members(sim_corp)[0]
    now = clock.now()
    queued = {}
    for name, age in (("很早", 25), ("稍早", 5), ("刚刚", 1)):
        added = _added_without_callback(sim_corp, userid, name)
        services.record_add(
            corp=corp,
            userid=userid,
            external_userid=added["external_userid"],
            state="",
            welcome_code=added["welcome_code"],
            is_half=False,
            event_at=now - dt.timedelta(seconds=age),
        )
        queued[name] = added["welcome_code"]

    first = services.send_freshest_welcome(corp=corp)
    assert first.welcome_code == queued["刚刚"] and first.status == SendStatus.SENT
    second = services.send_freshest_welcome(corp=corp)
    assert second.welcome_code == queued["稍早"] and second.status == SendStatus.SENT
    assert services.send_freshest_welcome(corp=corp) is None  # the oldest is past 20 s: not tried
    assert {w["welcome_code"] for w in sim_welcomes(sim_corp)} == {queued["刚刚"], queued["稍早"]}

    # The periodic sweep writes it off, without calling WeCom.
    assert services.expire_stale_welcomes() == 1
    stale = WelcomeSend.objects.get(corp=corp, welcome_code=queued["很早"])
    assert stale.status == SendStatus.EXPIRED and stale.errcode is None
    assert welcome_timeline(corp, stale.external_userid)[0].data["status"] == "expired"
    assert len(sim_welcomes(sim_corp)) == 2


def test_a_skip_verify_scan_confirmed_at_once_is_welcomed_once(sim_corp, corp):
    """The member confirms before Qike used the half add's code, so WeCom sends a second code with
    the add: the customer still gets one welcome, and the second send says why it was not used."""
    message(corp, "默认", "欢迎光临", is_corp_default=True)
    userid = members(sim_corp)[0]
    way = client_for(corp).add_contact_way(type=1, scene=2, user=[userid], skip_verify=True)
    scanned = sim_corp.post(
        "/customers/scan", config_id=way["config_id"], customer={"name": "快手"}, auto_accept=True
    )
    sim_corp.wait_for_callbacks()

    sends = WelcomeSend.objects.filter(corp=corp, external_userid=scanned["external_userid"])
    assert sorted(s.status for s in sends) == [SendStatus.DUPLICATE, SendStatus.SENT]
    welcomed = [
        w for w in sim_welcomes(sim_corp) if w["external_userid"] == scanned["external_userid"]
    ]
    assert [w["errcode"] for w in welcomed] == [0]
    assert len(welcome_timeline(corp, scanned["external_userid"])) == 1
