"""Mass messages under load and bad networks, through wecomsim: results written in bulk and once,
poll progress on the results page, an add_msg_template whose answer was lost (found in WeCom and
adopted, or failed when WeCom never created it; never sent twice), and a campaign with library
attachments (an image and a tracked link) from compose to the customers' timelines."""

from __future__ import annotations

import time

import httpx
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from qike.audit.models import AuditEntry
from qike.campaigns import services
from qike.campaigns.models import (
    Campaign,
    CampaignMessage,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    MessageStatus,
    Receipt,
)
from qike.customers.models import TimelineEntry, TimelineKind
from qike.engagement import library
from qike.engagement.library import ItemInput
from qike.org.models import Role
from qike.wecom.errors import TRANSPORT_ERROR, WeComTransportError
from tests.api.conftest import Api, make_token
from tests.campaigns.conftest import DISPATCHED, add_customer, advance, confirm, send, tasks
from tests.engagement.conftest import PNG, png_upload

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SEND = "externalcontact/add_msg_template"


def statuses(campaign: Campaign) -> dict[str, str]:
    return dict(Delivery.objects.filter(campaign=campaign).values_list("external_userid", "status"))


def mass_entries(campaign: Campaign) -> list[str]:
    return sorted(
        TimelineEntry.objects.filter(
            kind=TimelineKind.MASS_MESSAGE, data__campaign_id=campaign.pk
        ).values_list("customer__external_userid", flat=True)
    )


def sent_and_polled(corp, sim_corp, access, userid: str, n: int, text: str):
    """A campaign to `n` new customers of `userid`, confirmed by them, and the queries its poll
    took."""
    exts = [add_customer(sim_corp, userid, f"{text}{i}") for i in range(n)]
    campaign = send(access, text=text, external_userids=exts)
    advance(sim_corp, DISPATCHED)
    confirm(sim_corp, campaign, userid)
    with CaptureQueriesContext(connection) as queries:
        services.poll(corp=corp, campaign=campaign)
    return campaign, exts, len(queries)


# --- results at scale ---------------------------------------------------------------------------


def test_results_are_written_in_bulk_whatever_the_number_of_customers(corp, sim_corp, ops, userids):
    small, small_exts, few = sent_and_polled(corp, sim_corp, ops, userids[1], 2, "小")
    large, large_exts, many = sent_and_polled(corp, sim_corp, ops, userids[2], 9, "大")
    # Per-customer INSERTs/UPDATEs would add queries with each customer; bulk writes do not.
    assert many == few
    assert set(statuses(large).values()) == {"sent"}
    assert mass_entries(large) == sorted(large_exts)
    assert mass_entries(small) == sorted(small_exts)
    assert Delivery.objects.filter(campaign=large, send_time__isnull=True).count() == 0
    assert Receipt.objects.filter(campaign=large).count() == 9


def test_a_repeated_poll_records_nothing_twice(corp, sim_corp, ops, userids):
    a = userids[1]
    exts = [add_customer(sim_corp, a, n) for n in ("甲", "乙", "丙")]
    campaign = send(ops, text="只记一次", external_userids=exts)
    advance(sim_corp, DISPATCHED)
    confirm(sim_corp, campaign, a)
    services.poll(corp=corp, campaign=campaign)
    assert mass_entries(campaign) == sorted(exts)

    # A second poll that read the same answers (a job and the console at once, or a retry after
    # a crash) finds the message open again: it must not add timeline entries or receipts.
    CampaignMessage.objects.filter(campaign=campaign).update(status=MessageStatus.WAITING)
    Delivery.objects.filter(campaign=campaign).update(status=DeliveryStatus.PENDING)
    campaign.status = CampaignStatus.DISPATCHED
    campaign.save(update_fields=["status"])
    services.poll(corp=corp, campaign=campaign)
    assert mass_entries(campaign) == sorted(exts)
    assert Receipt.objects.filter(campaign=campaign).count() == 3
    assert set(statuses(campaign).values()) == {"sent"}


def test_a_long_poll_shows_its_progress_on_the_results_page(
    corp, sim_corp, ops, users, userids, monkeypatch
):
    a, b = userids[1], userids[2]
    exts = [add_customer(sim_corp, a, "甲"), add_customer(sim_corp, b, "乙")]
    exts.append(add_customer(sim_corp, a, "丙"))
    campaign = send(ops, text="进度", external_userids=exts)
    advance(sim_corp, DISPATCHED)
    confirm(sim_corp, campaign, a)
    confirm(sim_corp, campaign, b)

    seen: list[dict] = []
    pages: list[str] = []
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(users[Role.OPERATIONS])
    write = services.PollProgress._write

    def watched(self) -> None:
        write(self)
        seen.append(Campaign.objects.get(pk=campaign.pk).progress)
        if self.done == 1 and not pages:  # what someone opening the page mid-poll sees
            pages.append(client.get(f"/campaigns/{campaign.pk}/").content.decode())

    monkeypatch.setattr(services.PollProgress, "_write", watched)
    services.poll(corp=corp, campaign=campaign)

    assert (seen[0]["done"], seen[0]["total"], seen[0]["results"]) == (0, 2, 0)
    assert (seen[-1]["done"], seen[-1]["total"], seen[-1]["results"]) == (2, 2, 3)
    assert "Checking with WeCom: 1 of 2 messages" in pages[0]
    campaign.refresh_from_db()
    assert campaign.progress == {} and campaign.status == CampaignStatus.FINISHED
    after = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Checking with WeCom" not in after


# --- a lost answer ------------------------------------------------------------------------------


def wait_for_tasks(sim_corp, n: int) -> list[dict]:
    """WeCom finishes a call whose answer Qike stopped waiting for a moment later."""
    for _ in range(50):
        found = tasks(sim_corp)
        if len(found) >= n:
            return found
        time.sleep(0.1)
    return tasks(sim_corp)


def test_a_lost_answer_is_found_in_wecom_and_never_sent_twice(
    corp, sim_corp, ops, userids, monkeypatch
):
    a = userids[1]
    exts = [add_customer(sim_corp, a, n) for n in ("甲", "乙")]
    # WeCom creates the message but answers after Qike stopped waiting: the answer is lost.
    monkeypatch.setattr(services, "SEND_TIMEOUT", 0.5)
    sim_corp.control.post("/sim/faults", json={"path": SEND, "latency_ms": 1500, "times": 1})
    campaign = send(ops, text="网络抖动", external_userids=exts)

    message = campaign.messages.get()
    assert message.status == MessageStatus.UNKNOWN and message.msgid == ""
    assert campaign.status == CampaignStatus.DISPATCHED  # followed, not failed
    assert set(statuses(campaign).values()) == {"pending"}
    created = wait_for_tasks(sim_corp, 1)
    assert len(created) == 1

    services.dispatch(campaign_id=campaign.pk)  # a retried job does not send it again
    advance(sim_corp, DISPATCHED)
    services.poll(corp=corp, campaign=campaign)
    message.refresh_from_db()
    assert message.status == MessageStatus.WAITING
    assert message.msgid == created[0]["msgid"]
    assert len(tasks(sim_corp)) == 1
    assert AuditEntry.objects.filter(action="campaigns.reconcile").count() == 1

    confirm(sim_corp, campaign, a)
    services.poll(corp=corp, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    assert statuses(campaign) == {exts[0]: "sent", exts[1]: "sent"}
    assert mass_entries(campaign) == sorted(exts)


def test_a_lost_answer_for_a_message_wecom_never_created_fails_after_the_window(
    corp, sim_corp, ops, userids, monkeypatch
):
    a = userids[1]
    exts = [add_customer(sim_corp, a, n) for n in ("甲", "乙")]
    # Another mass message of the same sender and text that Qike did not create: not adopted.
    sim_corp.post("/groupmsg/personal", userid=a, external_userids=[exts[0]], text="断网")
    real = services._sending_client

    def cut_off(corp_):
        client = real(corp_)

        def reset(**_kwargs):
            raise WeComTransportError(TRANSPORT_ERROR, "ReadError: connection reset", SEND)

        client.add_msg_template = reset
        return client

    monkeypatch.setattr(services, "_sending_client", cut_off)
    # The pre-flight skips exts[0] (it got today's message), so send to exts[1] only.
    campaign = send(ops, text="断网", external_userids=[exts[1]])
    assert campaign.messages.get().status == MessageStatus.UNKNOWN

    advance(sim_corp, DISPATCHED)
    services.poll(corp=corp, campaign=campaign)  # WeCom lists nothing yet: still unknown
    assert campaign.messages.get().status == MessageStatus.UNKNOWN
    assert statuses(campaign) == {exts[1]: "pending"}

    advance(sim_corp, services.RECONCILE_WINDOW.total_seconds() + 60)
    services.poll(corp=corp, campaign=campaign)
    campaign.refresh_from_db()
    message = campaign.messages.get()
    assert message.status == MessageStatus.FAILED and message.msgid == ""
    assert statuses(campaign) == {exts[1]: "failed"}
    assert Delivery.objects.get(campaign=campaign).reason == services.LOST
    assert campaign.status == CampaignStatus.FAILED and campaign.error
    assert [t["text"]["content"] for t in tasks(sim_corp)] == ["断网"]  # only the personal one


def test_a_campaign_with_a_lost_answer_can_be_cancelled_in_wecom(
    corp, sim_corp, ops, userids, monkeypatch
):
    a = userids[1]
    x = add_customer(sim_corp, a, "甲")
    monkeypatch.setattr(services, "SEND_TIMEOUT", 0.5)
    sim_corp.control.post("/sim/faults", json={"path": SEND, "latency_ms": 1500, "times": 1})
    campaign = send(ops, text="撤回", external_userids=[x])
    created = wait_for_tasks(sim_corp, 1)
    advance(sim_corp, DISPATCHED)

    services.cancel(access=ops, campaign=campaign)
    assert tasks(sim_corp, created[0]["msgid"])[0]["cancelled"] is True
    assert statuses(campaign) == {x: "cancelled"}


# --- library attachments end to end ----------------------------------------------------------------


def test_a_campaign_with_an_image_and_a_tracked_link(
    corp, sim, sim_corp, ops, admin, users, userids, live_server
):
    a = userids[1]
    exts = [add_customer(sim_corp, a, n) for n in ("甲", "乙")]
    poster = library.save_item(
        access=admin,
        data=ItemInput(kind="image", title="海报", upload=png_upload("poster.png")),
    )
    link = library.save_item(
        access=admin,
        data=ItemInput(
            kind="link",
            title="新品发布",
            text="点击查看详情",
            url="https://example.com/new",
            cover_upload=png_upload(),
        ),
    )
    campaign = send(ops, text="新品上市", item_ids=[poster.pk, link.pk], external_userids=exts)
    assert campaign.status == CampaignStatus.DISPATCHED

    (received,) = tasks(sim_corp)
    assert received["text"]["content"] == "新品上市"
    assert {r["external_userid"] for r in received["results"]} == set(exts)
    image, sent_link = received["attachments"]
    token = httpx.get(
        f"{sim.url}/cgi-bin/gettoken",
        params={"corpid": sim_corp.corpid, "corpsecret": sim_corp.secret},
    ).json()["access_token"]
    media = httpx.get(
        f"{sim.url}/cgi-bin/media/get",
        params={"access_token": token, "media_id": image["image"]["media_id"]},
    )
    assert media.content == PNG  # WeCom holds the poster under that media_id
    assert sent_link["msgtype"] == "link"
    url = sent_link["link"]["url"]
    assert url.startswith(f"{live_server.url}/l/")
    opened = httpx.get(url, follow_redirects=False)
    assert opened.status_code == 302 and opened.headers["location"] == "https://example.com/new"

    advance(sim_corp, DISPATCHED)
    confirm(sim_corp, campaign, a)
    services.poll(corp=corp, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    assert statuses(campaign) == {e: "sent" for e in exts}
    assert mass_entries(campaign) == sorted(exts)
    api = Api(make_token(corp, users[Role.OPERATIONS]))
    detail = api.get(f"/campaigns/{campaign.pk}").json()
    assert detail["counts"]["sent"] == 2 and detail["progress"] is None
    assert [row["status"] for row in detail["staff"]] == ["sent"]
    rows = api.get(f"/campaigns/{campaign.pk}/deliveries", status="sent").json()
    assert sorted(r["external_userid"] for r in rows["items"]) == sorted(exts)
