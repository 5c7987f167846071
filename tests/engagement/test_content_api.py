"""The content-library and quick-reply API: multipart items with WeCom's checks, filters, stats,
quick replies with usage counts; roles and tenancy as in the console."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qike.engagement.models import ContentItem, QuickReply, QuickReplyGroup
from tests.api.conftest import BASE, Api, make_token, world  # noqa: F401  (fixture)
from tests.engagement.conftest import PNG

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_as(world):  # noqa: F811
    def build(role: str, scopes: str = "read write") -> Api:
        return Api(make_token(world.corp, world.users[role], scopes))

    return build


def multipart(api: Api, path: str, data: dict):
    return api.client.post(f"{BASE}{path}", data, **api._headers())


def test_items_crud_filters_and_errors(world, api_as):  # noqa: F811
    api = api_as("ops")
    folder = api.post("/content-folders", {"name": "春季"}).json()
    image = multipart(
        api,
        "/content-items",
        {
            "kind": "image",
            "title": "海报",
            "tags": "促销,新品",
            "folder_id": folder["id"],
            "file": SimpleUploadedFile("a.png", PNG, "image/png"),
        },
    )
    assert image.status_code == 201, image.content
    assert image.json()["filename"] == "a.png" and image.json()["tags"] == ["促销", "新品"]
    link = multipart(
        api, "/content-items", {"kind": "link", "title": "活动", "url": "https://example.com"}
    )
    assert link.status_code == 201 and link.json()["tracked"] is True
    text = multipart(api, "/content-items", {"kind": "text", "text": "营业时间 9-18 点"})
    assert text.status_code == 201 and text.json()["title"] == "营业时间 9-18 点"

    assert api.get("/content-items").json()["total"] == 3
    assert [i["title"] for i in api.get("/content-items", kind="link").json()["items"]] == ["活动"]
    assert api.get("/content-items", q="营业").json()["items"][0]["kind"] == "text"
    assert api.get("/content-items", folder=folder["id"]).json()["total"] == 1
    assert api.get("/content-items", unfiled=True).json()["total"] == 2
    tags = {t["name"]: t for t in api.get("/content-tags").json()}
    assert api.get("/content-items", tag=tags["促销"]["id"]).json()["total"] == 1

    changed = multipart(
        api,
        f"/content-items/{link.json()['id']}",
        {"kind": "link", "title": "活动 v2", "url": "https://example.com/2"},
    )
    assert changed.status_code == 200 and changed.json()["url"] == "https://example.com/2"

    bad = multipart(api, "/content-items", {"kind": "link", "title": "", "url": "nope"})
    assert bad.status_code == 400
    message = bad.json()["message"] + str(bad.json()["details"])
    assert "title" in message and "web address" in message
    wrong_type = multipart(
        api,
        "/content-items",
        {"kind": "image", "file": SimpleUploadedFile("a.gif", b"GIF89a" + b"0" * 40)},
    )
    assert wrong_type.status_code == 400
    assert ContentItem.objects.filter(corp=world.corp).count() == 3

    assert api.delete(f"/content-items/{image.json()['id']}").status_code == 204
    assert api.get(f"/content-items/{image.json()['id']}").status_code == 404


def test_items_roles_and_tenancy(world, api_as):  # noqa: F811
    theirs = ContentItem.objects.create(corp=world.other, kind="text", title="别家", text="x")
    ours = ContentItem.objects.create(corp=world.corp, kind="text", title="我们", text="y")
    staff = api_as("staff")
    assert staff.get(f"/content-items/{ours.pk}").status_code == 200
    refused = multipart(staff, "/content-items", {"kind": "text", "text": "x"})
    assert refused.status_code == 403
    assert staff.delete(f"/content-items/{ours.pk}").status_code == 403
    ops = api_as("ops")
    assert ops.get(f"/content-items/{theirs.pk}").status_code == 404
    assert ops.delete(f"/content-items/{theirs.pk}").status_code == 404
    assert ops.get(f"/content-items/{theirs.pk}/opens").status_code == 404
    assert [i["title"] for i in ops.get("/content-items").json()["items"]] == ["我们"]
    read_only = api_as("ops", "read")
    assert multipart(read_only, "/content-items", {"kind": "text", "text": "x"}).status_code == 403
    assert ContentItem.objects.count() == 2


def test_quick_replies_api(world, api_as):  # noqa: F811
    api = api_as("ops")
    group = api.post("/quick-reply-groups", {"name": "售前", "position": 1})
    assert group.status_code == 201
    gid = group.json()["id"]
    link = ContentItem.objects.create(
        corp=world.corp, kind="link", title="活动", url="https://example.com"
    )
    made = api.post(
        "/quick-replies",
        {
            "group_id": gid,
            "title": "问价格",
            "keywords": "多少钱 价格",
            "text": "99 元",
            "item_ids": [link.pk],
        },
    )
    assert made.status_code == 201, made.content
    rid = made.json()["id"]
    assert made.json()["item_ids"] == [link.pk]
    api.post("/quick-replies", {"group_id": gid, "title": "发货", "text": "48 小时内发货"})
    assert [r["title"] for r in api.get("/quick-replies", q="多少钱").json()["items"]] == ["问价格"]

    staff = api_as("staff")
    for expected in (1, 2):
        used = staff.post(f"/quick-replies/{rid}/used")
        assert used.status_code == 200 and used.json()["used_count"] == expected
    assert staff.get("/quick-replies").json()["items"][0]["title"] == "问价格"
    assert (
        staff.post("/quick-replies", {"group_id": gid, "title": "x", "text": "x"}).status_code
        == 403
    )

    other_group = QuickReplyGroup.objects.create(corp=world.other, name="别家")
    foreign_item = ContentItem.objects.create(corp=world.other, kind="text", title="x", text="x")
    for body in (
        {"group_id": other_group.pk, "title": "x", "text": "x"},
        {"group_id": gid, "title": "x", "text": "x", "item_ids": [foreign_item.pk]},
        {"group_id": gid, "title": "", "text": "x"},
    ):
        assert api.post("/quick-replies", body).status_code == 400
    theirs = QuickReply.objects.create(corp=world.other, group=other_group, title="x", text="x")
    assert api.post(f"/quick-replies/{theirs.pk}/used").status_code == 404
    assert api.delete(f"/quick-reply-groups/{other_group.pk}").status_code == 404
    assert QuickReply.objects.filter(corp=world.corp).count() == 2
    assert api.delete(f"/quick-reply-groups/{gid}").status_code == 204
    assert not QuickReply.objects.filter(corp=world.corp).exists()
