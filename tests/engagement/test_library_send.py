"""Library items turned into WeCom attachments through wecomsim: media uploaded once and reused
for 3 days, re-uploaded before WeCom would refuse them, moments with upload_attachment ids, and
tracked links that point back at Qike."""

from __future__ import annotations

import httpx
import pytest
from django.core.exceptions import ValidationError

from qike.core.models import Corp
from qike.customers.models import Customer
from qike.engagement import library
from qike.engagement.library import ItemInput
from qike.engagement.models import ContentItem, ContentKind, ItemMedia
from tests.engagement.conftest import MP4, PNG, library_admin, move_clocks, png_upload

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DAY = 86400


def sim_token(sim, sim_corp) -> str:
    answer = httpx.get(
        f"{sim.url}/cgi-bin/gettoken",
        params={"corpid": sim_corp.corpid, "corpsecret": sim_corp.secret},
    ).json()
    return answer["access_token"]


def sim_media(sim, sim_corp, media_id: str) -> httpx.Response:
    """What WeCom answers for media/get of this id (the file, or an error JSON)."""
    return httpx.get(
        f"{sim.url}/cgi-bin/media/get",
        params={"access_token": sim_token(sim, sim_corp), "media_id": media_id},
    )


def send_image(sim, sim_corp, media_id: str) -> dict:
    """An app message with the image: WeCom checks the media_id like every send does."""
    userid = sim_corp.snapshot()["users"][0]["userid"]
    body = {
        "touser": userid,
        "agentid": sim_corp.agentid,
        "msgtype": "image",
        "image": {"media_id": media_id},
    }
    return httpx.post(
        f"{sim.url}/cgi-bin/message/send",
        params={"access_token": sim_token(sim, sim_corp)},
        json=body,
    ).json()


def image_item(access, title: str = "海报") -> ContentItem:
    return library.save_item(
        access=access,
        data=ItemInput(kind=ContentKind.IMAGE, title=title, upload=png_upload("poster.png")),
    )


def test_expired_media_is_uploaded_again_before_sending(qike_corp, sim, sim_corp) -> None:
    admin = library_admin(qike_corp)
    poster = image_item(admin)

    first = library.attachments_for_send(corp=qike_corp, item_ids=[poster.pk])
    assert first[0]["msgtype"] == "image"
    first_id = first[0]["image"]["media_id"]
    assert send_image(sim, sim_corp, first_id)["errcode"] == 0

    move_clocks(sim_corp, DAY)  # still valid: the same upload is reused
    again = library.attachments_for_send(corp=qike_corp, item_ids=[poster.pk])
    assert again[0]["image"]["media_id"] == first_id

    move_clocks(sim_corp, 2 * DAY + 1)  # past WeCom's 3 days
    assert sim_media(sim, sim_corp, first_id).json()["errcode"] == 40007
    second = library.attachments_for_send(corp=qike_corp, item_ids=[poster.pk])
    second_id = second[0]["image"]["media_id"]
    assert second_id != first_id
    assert send_image(sim, sim_corp, second_id)["errcode"] == 0
    assert sim_media(sim, sim_corp, second_id).content == PNG
    poster.refresh_from_db()
    assert poster.sent_count == 3


def test_media_near_expiry_is_renewed_early(qike_corp, sim, sim_corp) -> None:
    admin = library_admin(qike_corp)
    poster = image_item(admin)
    first_id = library.attachments_for_send(corp=qike_corp, item_ids=[poster.pk])[0]["image"]
    move_clocks(sim_corp, 3 * DAY - 3600)  # one hour left: too close to hand out
    assert sim_media(sim, sim_corp, first_id["media_id"]).status_code == 200
    renewed = library.attachments_for_send(corp=qike_corp, item_ids=[poster.pk])[0]["image"]
    assert renewed["media_id"] != first_id["media_id"]
    row = ItemMedia.objects.get(item=poster, purpose="message", role="file")
    assert row.media_id == renewed["media_id"]


def test_forgotten_media_is_uploaded_again(qike_corp, sim, sim_corp) -> None:
    admin = library_admin(qike_corp)
    poster = image_item(admin)
    first = library.attachments_for_send(corp=qike_corp, item_ids=[poster.pk])
    assert library.forget_media(corp=qike_corp, item_ids=[poster.pk]) == 1
    second = library.attachments_for_send(corp=qike_corp, item_ids=[poster.pk])
    assert second[0]["image"]["media_id"] != first[0]["image"]["media_id"]


def test_every_kind_for_messages(qike_corp, sim, sim_corp, live_server) -> None:
    admin = library_admin(qike_corp)
    made = {
        "text": ItemInput(kind="text", text="您好，欢迎了解我们的新品"),
        "image": ItemInput(kind="image", title="图", upload=png_upload()),
        "link": ItemInput(
            kind="link",
            title="新品发布",
            text="点击查看详情",
            url="https://example.com/new",
            cover_upload=png_upload(),
        ),
        "miniprogram": ItemInput(
            kind="miniprogram",
            title="商城",
            appid="wx1234567890abcdef",
            page="pages/index",
            cover_upload=png_upload(),
        ),
        "file": ItemInput(
            kind="file", title="价目表", upload=png_upload("价目表.pdf", b"%PDF-1.4 x")
        ),
        "video": ItemInput(kind="video", title="视频", upload=png_upload("a.mp4", MP4)),
    }
    items = {kind: library.save_item(access=admin, data=data) for kind, data in made.items()}
    ids = [item.pk for item in items.values()]
    customer = Customer.objects.create(corp=qike_corp, external_userid="wm_lib_1", name="张三")

    sent = library.attachments_for_send(
        corp=qike_corp, item_ids=ids, customer=customer, campaign_ref="campaign:7"
    )
    assert [a["msgtype"] for a in sent] == ["image", "link", "miniprogram", "file", "video"]
    link = sent[1]["link"]
    assert link["title"] == "新品发布" and link["desc"] == "点击查看详情"
    assert link["url"].startswith(f"{live_server.url}/l/")
    assert link["picurl"].startswith(sim.url)  # the cover went through media/uploadimg
    assert httpx.get(link["picurl"]).content == PNG
    mini = sent[2]["miniprogram"]
    assert mini["appid"] == "wx1234567890abcdef" and mini["page"] == "pages/index"
    assert sim_media(sim, sim_corp, mini["pic_media_id"]).content == PNG
    assert sim_media(sim, sim_corp, sent[4]["video"]["media_id"]).content == MP4
    assert library.text_of(corp=qike_corp, item_ids=ids) == "您好，欢迎了解我们的新品"

    # The same customer and label get the same address; another customer another one.
    again = library.attachments_for_send(
        corp=qike_corp, item_ids=[items["link"].pk], customer=customer, campaign_ref="campaign:7"
    )
    assert again[0]["link"]["url"] == link["url"]
    other = Customer.objects.create(corp=qike_corp, external_userid="wm_lib_2")
    third = library.attachments_for_send(
        corp=qike_corp, item_ids=[items["link"].pk], customer=other.pk
    )
    assert third[0]["link"]["url"] != link["url"]


def test_moments_use_upload_attachment(qike_corp, sim, sim_corp) -> None:
    admin = library_admin(qike_corp)
    poster = image_item(admin)
    link = library.save_item(
        access=admin,
        data=ItemInput(
            kind="link", title="活动", url="https://example.com/a", cover_upload=png_upload()
        ),
    )
    images = library.attachments_for_send(corp=qike_corp, item_ids=[poster.pk], purpose="moment")
    moment_id = images[0]["image"]["media_id"]
    # An attachment id is not a temporary media for messages, and vice versa.
    assert sim_media(sim, sim_corp, moment_id).json()["errcode"] == 40007
    message_id = library.attachments_for_send(corp=qike_corp, item_ids=[poster.pk])[0]["image"]
    assert message_id["media_id"] != moment_id
    entry = library.attachments_for_send(corp=qike_corp, item_ids=[link.pk], purpose="moment")
    assert entry[0]["msgtype"] == "link"
    assert set(entry[0]["link"]) == {"title", "url", "media_id"}


def test_what_cannot_be_sent_is_refused_without_calling_wecom(qike_corp, sim, sim_corp) -> None:
    admin = library_admin(qike_corp)
    poster = image_item(admin)
    other_corp = Corp.objects.create(corpid="wwelsewhere", name="别家", secret="s")
    foreign = ContentItem.objects.create(corp=other_corp, kind="text", title="x", text="x")
    mini = library.save_item(
        access=admin,
        data=ItemInput(
            kind="miniprogram",
            title="商城",
            appid="wx1234567890abcdef",
            page="pages/index",
            cover_upload=png_upload(),
        ),
    )
    video = library.save_item(
        access=admin, data=ItemInput(kind="video", title="v", upload=png_upload("a.mp4", MP4))
    )

    def refused(**kwargs) -> str:
        with pytest.raises(ValidationError) as caught:
            library.attachments_for_send(corp=qike_corp, **kwargs)
        return " ".join(caught.value.messages)

    assert str(foreign.pk) in refused(item_ids=[poster.pk, foreign.pk])
    assert "999999" in refused(item_ids=[999999])
    assert "moments take images" in refused(item_ids=[mini.pk], purpose="moment")
    assert "not a mix" in refused(item_ids=[poster.pk, video.pk], purpose="moment")
    assert "at most 9" in refused(item_ids=[poster.pk] * 10)
    assert "Unknown purpose" in refused(item_ids=[poster.pk], purpose="sms")
    with pytest.raises(ValidationError):
        library.validate_attachments(corp=qike_corp, item_ids=[poster.pk] * 10, purpose="moment")
    library.validate_attachments(corp=qike_corp, item_ids=[poster.pk] * 9, purpose="moment")
    assert not ItemMedia.objects.exists()  # nothing was uploaded for any refused call
    poster.refresh_from_db()
    assert poster.sent_count == 0


def sim_call(sim, sim_corp, path: str, body: dict) -> dict:
    return httpx.post(
        f"{sim.url}/cgi-bin/{path}", params={"access_token": sim_token(sim, sim_corp)}, json=body
    ).json()


def a_follow(sim_corp) -> tuple[str, str]:
    customer = sim_corp.snapshot()["customers"][0]
    return customer["follow_users"][0]["userid"], customer["external_userid"]


def test_mass_message_and_moment_after_expiry_use_fresh_media(qike_corp, sim, sim_corp) -> None:
    """The WeCom calls campaigns make: what attachments_for_send gives is accepted after 3 days,
    where the expired id it replaced is refused."""
    admin = library_admin(qike_corp)
    poster = image_item(admin)
    userid, external_userid = a_follow(sim_corp)
    old = library.attachments_for_send(corp=qike_corp, item_ids=[poster.pk])
    old_moment = library.attachments_for_send(
        corp=qike_corp, item_ids=[poster.pk], purpose="moment"
    )
    move_clocks(sim_corp, 3 * DAY + 60)

    def mass(attachments) -> dict:
        body = {"sender": userid, "external_userid": [external_userid], "attachments": attachments}
        return sim_call(sim, sim_corp, "externalcontact/add_msg_template", body)

    def moment(attachments) -> dict:
        body = {
            "attachments": attachments,
            "visible_range": {"sender_list": {"user_list": [userid]}},
        }
        return sim_call(sim, sim_corp, "externalcontact/add_moment_task", body)

    assert mass(old)["errcode"] == 40007  # what WeCom says to an expired media_id
    assert moment(old_moment)["errcode"] == 40007
    fresh = library.attachments_for_send(corp=qike_corp, item_ids=[poster.pk])
    assert fresh != old
    assert mass(fresh)["errcode"] == 0
    fresh_moment = library.attachments_for_send(
        corp=qike_corp, item_ids=[poster.pk], purpose="moment"
    )
    assert moment(fresh_moment)["errcode"] == 0
