"""The welcome-message API: CRUD with WeCom's rules, files, staff defaults, sends; roles and
tenancy as in the console."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qike.core import clock
from qike.engagement.models import SendStatus, WelcomeMessage, WelcomeSend
from tests.api.conftest import BASE, Api, make_token, world  # noqa: F401  (fixture)
from tests.engagement.conftest import PNG, message

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_as(world):  # noqa: F811
    def build(role: str, scopes: str = "read write") -> Api:
        return Api(make_token(world.corp, world.users[role], scopes))

    return build


def test_create_read_replace_and_delete(world, api_as):  # noqa: F811
    api = api_as("ops")
    upload = api.client.post(
        f"{BASE}/welcome-media",
        {"kind": "image", "file": SimpleUploadedFile("a.png", PNG, "image/png")},
        **api._headers(),
    )
    assert upload.status_code == 201, upload.content
    media = upload.json()["id"]
    body = {
        "name": "新客",
        "text": "您好 %NICKNAME%",
        "attachments": [
            {"msgtype": "image", "media": media},
            {"msgtype": "link", "title": "活动", "url": "https://example.com"},
        ],
        "variants": [{"start": "22:00", "end": "08:00", "text": "晚上好"}],
        "is_corp_default": True,
    }
    created = api.post("/welcome-messages", body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["attachments"][0] == {"msgtype": "image", "image": {"media": media}}
    assert data["is_corp_default"]
    pk = data["id"]
    assert api.get(f"/welcome-messages/{pk}").json()["name"] == "新客"
    assert api.get("/welcome-messages").json()["total"] == 1

    replaced = api.client.put(
        f"{BASE}/welcome-messages/{pk}",
        {**body, "name": "新客 v2", "attachments": []},
        content_type="application/json",
        **api._headers(),
    )
    assert replaced.status_code == 200 and replaced.json()["attachments"] == []
    assert api.delete(f"/welcome-messages/{pk}").status_code == 204
    assert not WelcomeMessage.objects.exists()


def test_wecoms_rules_answer_400_and_save_nothing(world, api_as):  # noqa: F811
    api = api_as("admin")
    link = {"msgtype": "link", "title": "t", "url": "https://example.com"}
    too_many = api.post("/welcome-messages", {"name": "x", "attachments": [link] * 10})
    assert too_many.status_code == 400
    assert "at most 9 attachments" in too_many.json()["message"]
    empty = api.post("/welcome-messages", {"name": "x"})
    assert empty.status_code == 400 and "both cannot be empty" in empty.json()["message"]
    foreign = message(world.other, "别家", "x")
    wrong_media = api.post(
        "/welcome-messages", {"name": "x", "attachments": [{"msgtype": "file", "media": 999}]}
    )
    assert wrong_media.status_code == 400
    assert api.get(f"/welcome-messages/{foreign.pk}").status_code == 404
    assert WelcomeMessage.objects.filter(corp=world.corp).count() == 0


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_only_admins_and_operations_change_the_library(world, api_as, role):  # noqa: F811
    api = api_as(role)
    assert api.get("/welcome-messages").status_code == 200
    assert api.post("/welcome-messages", {"name": "x", "text": "y"}).status_code == 403
    assert not WelcomeMessage.objects.exists()


def test_staff_default_own_only_for_staff(world, api_as):  # noqa: F811
    chosen = message(world.corp, "我的", "你好")
    staff = api_as("staff")  # linked to "east"
    mine = staff.client.put(
        f"{BASE}/staff/east/welcome-message",
        {"message_id": chosen.pk},
        content_type="application/json",
        **staff._headers(),
    )
    assert mine.status_code == 200 and mine.json()["message_name"] == "我的"
    assert staff.get("/staff/east/welcome-message").json()["message_id"] == chosen.pk
    assert staff.get("/staff/market/welcome-message").status_code == 403


def test_sends_are_listed_in_scope_with_filters(world, api_as):  # noqa: F811
    for key, status in [("wm_east", SendStatus.SENT), ("wm_market", SendStatus.NO_CODE)]:
        relation = next(r for (c, _s), r in world.relations.items() if c == key)
        WelcomeSend.objects.create(
            corp=world.corp,
            welcome_code="" if status == SendStatus.NO_CODE else f"c-{key}",
            event_key=f"k-{key}",
            userid=relation.staff.userid,
            external_userid=relation.customer.external_userid,
            staff=relation.staff,
            customer=relation.customer,
            status=status,
            event_at=clock.now(),
            created_at=clock.now(),
        )
    admin = api_as("admin", scopes="read")
    assert admin.get("/welcome-sends").json()["total"] == 2
    only = admin.get("/welcome-sends", status="no_code").json()
    assert [s["external_userid"] for s in only["items"]] == ["wm_market"]
    assert api_as("staff").get("/welcome-sends").json()["total"] == 1  # east's only
    assert admin.get("/welcome-sends", cursor="nonsense").status_code == 400
