"""The content library and quick-reply pages: filters and search, uploads checked as WeCom would,
clear errors with nothing saved, roles, other corps' rows invisible, tracked links opened."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qike.audit.models import AuditEntry
from qike.customers.models import TimelineEntry, TimelineKind
from qike.engagement import library
from qike.engagement.models import (
    ContentFolder,
    ContentItem,
    ContentTag,
    LinkOpen,
    QuickReply,
    QuickReplyGroup,
)
from qike.org.access import access_for
from tests.console.world import World, build_world
from tests.engagement.conftest import MP4, PNG

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def as_user(client, world):
    def login(key: str):
        client.force_login(world.users[key])
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return login


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def item(corp, kind: str = "text", title: str = "t", **fields) -> ContentItem:
    return ContentItem.objects.create(corp=corp, kind=kind, title=title, **fields)


def page_text(response) -> str:
    return response.content.decode()


# --- library list ---------------------------------------------------------------------------


def test_filters_and_search(world, as_user) -> None:
    corp = world.corp
    spring = ContentFolder.objects.create(corp=corp, name="春季活动")
    promo = ContentTag.objects.create(corp=corp, name="促销")
    price = item(corp, "text", "价格说明", text="会员价 99 元", folder=spring)
    price.tags.add(promo)
    item(corp, "link", "新品发布会", url="https://example.com/a", folder=spring)
    item(corp, "text", "售后政策", text="七天无理由退货")
    item(world.other, "text", "别家的价格", text="会员价")
    client = as_user("seller")

    def shown(**params) -> set[str]:
        response = client.get("/content/", params)
        assert response.status_code == 200
        return {i.title for i in response.context["items"]}

    assert shown() == {"价格说明", "新品发布会", "售后政策"}
    assert shown(q="会员价") == {"价格说明"}  # the text is searched, and only this corp's
    assert shown(q="发布") == {"新品发布会"}
    assert shown(kind="link") == {"新品发布会"}
    assert shown(folder=spring.pk) == {"价格说明", "新品发布会"}
    assert shown(folder="none") == {"售后政策"}
    assert shown(tag=promo.pk) == {"价格说明"}
    assert shown(folder=spring.pk, kind="text", q="99") == {"价格说明"}
    bad = client.get("/content/", {"kind": "gif"})
    assert bad.status_code == 200 and "gif" in page_text(bad) and not bad.context["items"]
    assert "New link" not in page_text(bad)  # a seller does not see the create buttons


def test_create_every_kind_through_the_page(world, as_user) -> None:
    client = as_user("ops")
    folder = ContentFolder.objects.create(corp=world.corp, name="资料")
    cases = [
        {"kind": "text", "text": "您好，这是我们的营业时间：9:00-18:00"},
        {"kind": "image", "title": "海报", "upload": upload("poster.png", PNG, "image/png")},
        {
            "kind": "link",
            "title": "新品",
            "text": "点击查看",
            "url": "https://example.com/new",
            "tracked": "on",
            "cover": upload("c.png", PNG),
            "folder": folder.pk,
            "tags": "促销，新品, 促销",
        },
        {
            "kind": "miniprogram",
            "title": "商城",
            "appid": "wx1234567890abcdef",
            "page": "pages/index",
            "cover": upload("c.png", PNG),
        },
        {"kind": "file", "title": "价目表", "upload": upload("价目表.pdf", b"%PDF-1.4 hello")},
        {"kind": "video", "upload": upload("intro.mp4", MP4)},
    ]
    for data in cases:
        response = client.post("/content/new/", data)
        assert response.status_code == 302, page_text(response)
    made = {i.kind: i for i in ContentItem.objects.filter(corp=world.corp)}
    assert set(made) == {"text", "image", "link", "miniprogram", "file", "video"}
    assert made["text"].title == "您好，这是我们的营业时间：9:00-18:00"[:30]
    assert made["video"].title == "intro.mp4" and made["video"].size == len(MP4)
    assert made["link"].folder == folder and made["link"].tracked
    assert sorted(t.name for t in made["link"].tags.all()) == ["促销", "新品"]
    assert made["file"].file.read() == b"%PDF-1.4 hello"
    assert AuditEntry.objects.filter(action="engagement.content_create").count() == 6
    edit = client.get(f"/content/{made['image'].pk}/")
    assert edit.status_code == 200 and "poster.png" in page_text(edit)
    assert client.get(f"/content/{made['image'].pk}/files/file/").getvalue() == PNG


@pytest.mark.parametrize(
    "data, problem",
    [
        ({"kind": "image", "upload": upload("a.gif", b"GIF89a" + b"0" * 50)}, "JPG or PNG"),
        ({"kind": "video", "upload": upload("a.avi", b"RIFF" + b"0" * 50)}, "MP4"),
        ({"kind": "image"}, "Choose a file"),
        ({"kind": "file", "upload": upload("tiny.txt", b"12345")}, "too small"),
        ({"kind": "link", "url": "https://example.com"}, "A link needs a title"),
        ({"kind": "link", "title": "x", "url": "ftp://example.com"}, "web address"),
        ({"kind": "link", "title": "x" * 129, "url": "https://e.com"}, "128"),
        ({"kind": "link", "title": "好" * 43, "url": "https://e.com"}, "129 bytes"),
        (
            {"kind": "link", "title": "x", "url": "https://e.com", "cover": upload("c", b"no")},
            "Cover image",
        ),
        ({"kind": "miniprogram", "title": "商城", "appid": "123", "page": "p"}, "AppID"),
        (
            {"kind": "miniprogram", "title": "商城", "appid": "wx12345678", "page": "p"},
            "cover image",
        ),
        ({"kind": "text", "text": "  "}, "needs its text"),
        ({"kind": "text", "text": "好" * 1334}, "4002 bytes"),
        ({"kind": "sticker", "title": "x"}, "sticker"),
    ],
)
def test_bad_input_is_explained_and_nothing_saved(world, as_user, data, problem) -> None:
    response = as_user("ops").post("/content/new/", data)
    assert response.status_code == 400
    assert problem in page_text(response)
    assert not ContentItem.objects.exists()
    assert not ContentTag.objects.exists()


def test_oversized_upload_is_refused(world, as_user) -> None:
    big = PNG + b"0" * (2 * 1024 * 1024)  # a PNG just over WeCom's 2 MB for images
    response = as_user("ops").post(
        "/content/new/", {"kind": "image", "upload": upload("big.png", big, "image/png")}
    )
    assert response.status_code == 400
    assert "WeCom takes at most 2 MB" in page_text(response)
    assert not ContentItem.objects.exists()


def test_foreign_folder_is_refused(world, as_user) -> None:
    theirs = ContentFolder.objects.create(corp=world.other, name="别家")
    response = as_user("ops").post(
        "/content/new/", {"kind": "text", "text": "hi", "folder": theirs.pk}
    )
    assert response.status_code == 400 and not ContentItem.objects.exists()


def test_edit_keeps_the_file_and_drops_stale_uploads(world, as_user) -> None:
    client = as_user("ops")
    client.post("/content/new/", {"kind": "image", "title": "图", "upload": upload("a.png", PNG)})
    poster = ContentItem.objects.get()
    changed = client.post(f"/content/{poster.pk}/", {"kind": "image", "title": "新名字"})
    assert changed.status_code == 302
    poster.refresh_from_db()
    assert poster.title == "新名字" and poster.file.read() == PNG
    other_kind = client.post(f"/content/{poster.pk}/", {"kind": "text", "text": "x"})
    assert other_kind.status_code == 302  # the page keeps the kind; the form's kind is ignored
    poster.refresh_from_db()
    assert poster.kind == "image"


def test_roles_and_tenancy(world, as_user) -> None:
    ours = item(world.corp, "text", "我们的", text="x")
    theirs = item(world.other, "text", "别家的", text="y")
    seller = as_user("seller")
    assert seller.get(f"/content/{ours.pk}/").status_code == 200  # everyone may read
    assert seller.get("/content/new/").status_code == 403
    assert seller.post(f"/content/{ours.pk}/", {"kind": "text", "text": "z"}).status_code == 403
    assert seller.post(f"/content/{ours.pk}/delete/").status_code == 403
    assert seller.post("/content/folders/", {"name": "f"}).status_code == 403
    ours.refresh_from_db()
    assert ours.text == "x"
    ops = as_user("ops")
    assert ops.get(f"/content/{theirs.pk}/").status_code == 404
    assert ops.post(f"/content/{theirs.pk}/delete/").status_code == 404
    assert ops.get(f"/content/{theirs.pk}/files/file/").status_code == 404
    assert ContentItem.objects.filter(pk=theirs.pk).exists()
    assert ops.post(f"/content/{ours.pk}/delete/").status_code == 302
    assert not ContentItem.objects.filter(pk=ours.pk).exists()


def test_folders(world, as_user) -> None:
    client = as_user("ops")
    assert client.post("/content/folders/", {"name": "春季"}).status_code == 302
    folder = ContentFolder.objects.get(corp=world.corp)
    kept = item(world.corp, "text", "a", text="a", folder=folder)
    again = client.post("/content/folders/", {"name": "春季"}, follow=True)
    assert "already a folder" in page_text(again)
    assert ContentFolder.objects.count() == 1
    client.post(f"/content/folders/{folder.pk}/delete/")
    kept.refresh_from_db()
    assert kept.folder is None


# --- tracked links --------------------------------------------------------------------------


def test_tracked_link_opened_twice(world, client) -> None:
    customer = world.customers["c1"]
    link = item(world.corp, "link", "新品", url="https://example.com/new?a=1", tracked=True)
    url = library.tracked_url(item=link, customer=customer, campaign_ref="campaign:3")
    path = url.split("://", 1)[1].split("/", 1)[1]
    for agent in ("Mozilla/5.0 WeChat", "Mozilla/5.0 wxwork"):
        opened = client.get(f"/{path}", HTTP_USER_AGENT=agent)
        assert opened.status_code == 302
        assert opened["Location"] == "https://example.com/new?a=1"
    opens = LinkOpen.objects.filter(item=link)
    assert [o.user_agent for o in opens.order_by("id")] == [
        "Mozilla/5.0 WeChat",
        "Mozilla/5.0 wxwork",
    ]
    assert {o.customer_id for o in opens} == {customer.pk}
    stats = library.item_stats(link)
    assert (stats.opens, stats.unique_customers) == (2, 1)
    timeline = TimelineEntry.objects.filter(customer=customer, kind=TimelineKind.LINK_OPENED)
    assert timeline.count() == 2
    assert timeline.first().data == {
        "item_id": link.pk,
        "title": "新品",
        "url": "https://example.com/new?a=1",
        "campaign_ref": "campaign:3",
    }


def test_stats_on_the_pages(world, as_user, client) -> None:
    link = item(world.corp, "link", "新品", url="https://example.com/x", tracked=True)
    for key in ("c1", "c2"):
        url = library.tracked_url(item=link, customer=world.customers[key])
        client.get("/" + url.split("/", 3)[3])
    anonymous = library.tracked_url(item=link)
    client.get("/" + anonymous.split("/", 3)[3])
    ops = as_user("ops")
    listed = ops.get("/content/")
    row = listed.context["items"][0]
    assert (row.open_count, row.open_customers) == (3, 2)
    detail = ops.get(f"/content/{link.pk}/")
    assert detail.context["stats"].opens == 3 and detail.context["stats"].unique_customers == 2
    assert len(detail.context["opens"]) == 3


def test_unknown_token_is_a_404_page(world, client) -> None:
    response = client.get("/l/no-such-token/")
    assert response.status_code == 404
    assert "Link not found" in page_text(response) or "链接不存在" in page_text(response)
    assert not LinkOpen.objects.exists()


# --- quick replies --------------------------------------------------------------------------


def test_quick_reply_search_and_usage(world, as_user) -> None:
    corp = world.corp
    price = item(corp, "text", "价格", text="会员价 99 元")
    poster = item(corp, "link", "活动页", url="https://example.com/p")
    ops = as_user("ops")
    assert ops.post("/quick-replies/groups/", {"name": "售前", "position": 1}).status_code == 302
    assert ops.post("/quick-replies/groups/", {"name": "售后", "position": 2}).status_code == 302
    before, after = QuickReplyGroup.objects.order_by("position")
    made = ops.post(
        "/quick-replies/new/",
        {
            "group": before.pk,
            "title": "问价格",
            "keywords": "多少钱，价格 优惠",
            "text": "您好，会员价 99 元",
            "items": [price.pk, poster.pk],
        },
    )
    assert made.status_code == 302
    ops.post(
        "/quick-replies/new/",
        {"group": after.pk, "title": "退货", "keywords": "退货", "text": "七天无理由退货"},
    )
    asking = QuickReply.objects.get(title="问价格")
    assert asking.keywords == "多少钱, 价格, 优惠"
    assert set(asking.items.values_list("pk", flat=True)) == {price.pk, poster.pk}

    seller = as_user("seller")

    def found(**params) -> list[str]:
        return [r.title for r in seller.get("/quick-replies/", params).context["replies"]]

    assert found(q="多少钱") == ["问价格"]  # keyword
    assert found(q="无理由") == ["退货"]  # text
    assert found(group=after.pk) == ["退货"]
    for _ in range(2):
        assert seller.post(f"/quick-replies/{asking.pk}/used/").status_code == 302
    asking.refresh_from_db()
    assert asking.used_count == 2 and asking.last_used_at is not None
    assert found() == ["问价格", "退货"]  # the most used first
    page = seller.get("/quick-replies/")
    assert 'data-used="2"' in page_text(page)
    assert seller.get("/quick-replies/new/").status_code == 403


def test_quick_reply_bad_input(world, as_user) -> None:
    group = QuickReplyGroup.objects.create(corp=world.corp, name="售前")
    other_group = QuickReplyGroup.objects.create(corp=world.other, name="别家")
    theirs = item(world.other, "image", "别家的图")
    ops = as_user("ops")
    cases = [
        ({"group": group.pk, "title": "", "text": "x"}, "title"),
        ({"group": group.pk, "title": "空"}, "both cannot be empty"),
        ({"group": other_group.pk, "title": "x", "text": "x"}, "valid choice"),
        ({"group": group.pk, "title": "x", "text": "x", "items": [theirs.pk]}, "valid choice"),
        ({"group": group.pk, "title": "x", "text": "好" * 1400}, "4200 bytes"),
    ]
    for data, problem in cases:
        response = ops.post("/quick-replies/new/", data)
        assert response.status_code == 400
        assert problem in page_text(response), page_text(response)
    images = [item(world.corp, "link", f"页{n}", url="https://e.com").pk for n in range(10)]
    many = ops.post(
        "/quick-replies/new/", {"group": group.pk, "title": "多", "text": "x", "items": images}
    )
    assert many.status_code == 400 and "at most 9" in page_text(many)
    assert not QuickReply.objects.exists()


def test_quick_reply_tenancy(world, as_user) -> None:
    theirs_group = QuickReplyGroup.objects.create(corp=world.other, name="别家")
    theirs = QuickReply.objects.create(corp=world.other, group=theirs_group, title="别家", text="x")
    ours_group = QuickReplyGroup.objects.create(corp=world.corp, name="我们")
    QuickReply.objects.create(corp=world.corp, group=ours_group, title="我们的", text="y")
    ops = as_user("ops")
    assert [r.title for r in ops.get("/quick-replies/").context["replies"]] == ["我们的"]
    assert ops.get(f"/quick-replies/{theirs.pk}/").status_code == 404
    assert ops.post(f"/quick-replies/{theirs.pk}/used/").status_code == 404
    assert ops.post(f"/quick-replies/{theirs.pk}/delete/").status_code == 404
    assert ops.post(f"/quick-replies/groups/{theirs_group.pk}/delete/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.used_count == 0


def test_mark_used_refuses_another_corps_reply(world) -> None:
    group = QuickReplyGroup.objects.create(corp=world.other, name="别家")
    theirs = QuickReply.objects.create(corp=world.other, group=group, title="x", text="x")
    from django.core.exceptions import ValidationError

    from qike.engagement import quick_replies

    with pytest.raises(ValidationError):
        quick_replies.mark_used(access=access_for(world.users["ops"], world.corp), reply=theirs)


def test_pages_in_chinese(world, client) -> None:
    item(world.corp, "link", "新品", url="https://example.com")
    client.force_login(world.users["ops"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    listed = page_text(client.get("/content/"))
    assert "素材库" in listed and "新建链接" in listed and "打开次数" in listed
    replies = page_text(client.get("/quick-replies/"))
    assert "话术库" in replies and "新建分组" in replies
    bad = client.post("/content/new/", {"kind": "link", "url": "https://e.com"})
    assert "链接需要标题。" in page_text(bad)
    assert "链接不存在" in page_text(client.get("/l/unknown/"))


def test_an_item_in_use_says_where_and_a_scheduled_mass_message_keeps_it(world, as_user) -> None:
    from qike.campaigns.models import Campaign, CampaignStatus
    from qike.core import clock
    from qike.engagement.models import QuickReply, QuickReplyGroup, WelcomeMessage

    corp = world.corp
    poster = item(corp, "link", "秋季目录", url="https://example.com/autumn")
    WelcomeMessage.objects.create(corp=corp, name="新客欢迎", text="你好", item_ids=[poster.pk])
    group = QuickReplyGroup.objects.create(corp=corp, name="售前")
    QuickReply.objects.create(corp=corp, group=group, title="目录在这里").items.add(poster)
    weekend = Campaign.objects.create(
        corp=corp,
        title="周末特惠",
        item_ids=[poster.pk],
        status=CampaignStatus.SCHEDULED,
        scheduled_at=clock.now(),
        created_at=clock.now(),
    )
    client = as_user("admin")

    used_by = page_text(client.get(f"/content/{poster.pk}/")).split('id="used-by"')[1]
    used_by = used_by.split("</dl>")[0]
    assert "新客欢迎" in used_by and "目录在这里" in used_by and "周末特惠" in used_by

    refused = client.post(f"/content/{poster.pk}/delete/", follow=True)
    assert "scheduled mass messages (周末特惠)" in page_text(refused)
    assert ContentItem.objects.filter(pk=poster.pk).exists()  # nothing lost

    weekend.status = CampaignStatus.CANCELLED
    weekend.save()
    assert client.post(f"/content/{poster.pk}/delete/").status_code == 302
    assert not ContentItem.objects.filter(pk=poster.pk).exists()
