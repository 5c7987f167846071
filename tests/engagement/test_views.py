"""The welcome-message pages: WeCom's rules as clear errors with nothing saved, who may change
what, and the sends list with its filters."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qike.core import clock
from qike.engagement.models import (
    SendStatus,
    StaffWelcome,
    WelcomeMedia,
    WelcomeMessage,
    WelcomeSend,
)
from tests.console.world import World, build_world
from tests.engagement.conftest import PNG, message

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def as_user(client, world):
    def login(key: str):
        client.force_login(world.users[key])
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages below are the English ones
        return client

    return login


def form(name="新客欢迎", text="您好", attachments=(), variants=(), **extra) -> dict:
    data = {
        "name": name,
        "text": text,
        "nickname_fallback": "",
        "att-TOTAL_FORMS": str(len(attachments)),
        "att-INITIAL_FORMS": "0",
        "var-TOTAL_FORMS": str(len(variants)),
        "var-INITIAL_FORMS": "0",
        **extra,
    }
    for i, row in enumerate(attachments):
        data.update({f"att-{i}-{k}": v for k, v in row.items()})
    for i, row in enumerate(variants):
        data.update({f"var-{i}-{k}": v for k, v in row.items()})
    return data


LINK = {"kind": "link", "title": "活动", "url": "https://example.com"}


def test_operations_create_a_message_with_a_link_an_image_and_a_variant(as_user, world):
    client = as_user("ops")
    data = form(
        attachments=[
            LINK,
            {"kind": "image", "file": SimpleUploadedFile("a.png", PNG, "image/png")},
            {"kind": ""},  # an empty row counts for nothing
        ],
        variants=[{"start": "22:00", "end": "08:00", "text": "夜间好"}],
        is_corp_default="on",
    )
    response = client.post("/welcome/new/", data)
    assert response.status_code == 302, response.content.decode()
    saved = WelcomeMessage.objects.get(corp=world.corp)
    assert saved.is_corp_default
    assert [a["msgtype"] for a in saved.attachments] == ["link", "image"]
    image = WelcomeMedia.objects.get(pk=saved.attachments[1]["image"]["media"])
    assert image.file.read() == PNG and image.size == len(PNG)
    assert saved.variants == [{"start": "22:00", "end": "08:00", "text": "夜间好"}]
    page = client.get("/welcome/").content.decode()
    assert "新客欢迎" in page
    assert client.get(f"/welcome/files/{image.pk}/").status_code == 200

    edit = client.get(f"/welcome/{saved.pk}/").content.decode()
    assert "a.png" in edit and "夜间好" in edit


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (form(text="字" * 1334), "4002 bytes long; WeCom allows 4000"),
        (form(attachments=[LINK] * 10), "at most 9 attachments; this one has 10"),
        (form(text=""), "both cannot be empty"),
        (form(attachments=[{**LINK, "title": "长" * 43}]), "The link title is 129 bytes long"),
        (form(attachments=[{**LINK, "desc": "d" * 513}]), "The link description is 513 bytes"),
        (
            form(
                attachments=[
                    {"kind": "miniprogram", "title": "小" * 22, "appid": "wx123456789", "page": "p"}
                ]
            ),
            "The mini program title is 66 bytes",
        ),
        (
            form(
                attachments=[{"kind": "image", "file": SimpleUploadedFile("a.gif", b"GIF89a-xx")}]
            ),
            "JPG or PNG",
        ),
        (
            form(attachments=[{"kind": "link", "title": "x", "url": "ftp://x"}]),
            "http:// or https://",
        ),
        (form(variants=[{"start": "25:00", "end": "08:00", "text": "x"}]), "HH:MM"),
        (form(name=""), "Name"),
    ],
)
def test_bad_input_gets_a_clear_error_and_saves_nothing(as_user, world, data, expected):
    response = as_user("admin").post("/welcome/new/", data)
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert not WelcomeMessage.objects.exists()
    assert not WelcomeMedia.objects.exists()


def test_pages_speak_chinese_by_default(as_user, world):
    client = as_user("admin")
    response = client.post("/welcome/new/", form(text=""), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = response.content.decode()
    assert "不能都为空" in html
    assert "欢迎语" in client.get("/welcome/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


@pytest.mark.parametrize("role", ["manager", "seller"])
def test_managers_and_staff_may_not_change_the_library(as_user, world, role):
    existing = message(world.corp, "已有", "欢迎")
    client = as_user(role)
    assert client.get("/welcome/").status_code == 200
    assert client.post("/welcome/new/", form()).status_code == 403
    assert client.post(f"/welcome/{existing.pk}/", form(name="改了")).status_code == 403
    assert client.post(f"/welcome/{existing.pk}/delete/").status_code == 403
    assert client.post("/welcome/defaults/corp/", {"message": existing.pk}).status_code == 403
    existing.refresh_from_db()
    assert (existing.name, existing.is_corp_default) == ("已有", False)


def test_staff_set_their_own_default_but_not_a_colleagues(as_user, world):
    chosen = message(world.corp, "我的欢迎语", "你好")
    client = as_user("seller")  # han.mei, staff["north"]
    own = world.staff["north"]
    assert (
        client.post("/welcome/defaults/staff/", {"staff": own.pk, "message": chosen.pk}).status_code
        == 302
    )
    assert StaffWelcome.objects.get(staff=own).message == chosen
    colleague = world.staff["sales"]
    assert (
        client.post(
            "/welcome/defaults/staff/", {"staff": colleague.pk, "message": chosen.pk}
        ).status_code
        == 403
    )
    assert not StaffWelcome.objects.filter(staff=colleague).exists()
    assert (
        client.post("/welcome/defaults/staff/", {"staff": own.pk, "message": ""}).status_code == 302
    )
    assert not StaffWelcome.objects.filter(staff=own).exists()


def test_admin_sets_anyones_default_and_the_corp_default(as_user, world):
    chosen = message(world.corp, "默认", "你好")
    client = as_user("admin")
    staff = world.staff["service"]
    assert (
        client.post(
            "/welcome/defaults/staff/", {"staff": staff.pk, "message": chosen.pk}
        ).status_code
        == 302
    )
    assert client.post("/welcome/defaults/corp/", {"message": chosen.pk}).status_code == 302
    chosen.refresh_from_db()
    assert chosen.is_corp_default and StaffWelcome.objects.get(staff=staff).message == chosen
    assert client.post(f"/welcome/{chosen.pk}/delete/").status_code == 302
    assert not WelcomeMessage.objects.exists() and not StaffWelcome.objects.exists()


def test_another_corps_message_and_staff_are_not_found(as_user, world):
    theirs = message(world.other, "别人的", "x")
    client = as_user("admin")
    assert client.get(f"/welcome/{theirs.pk}/").status_code == 404
    assert client.post(f"/welcome/{theirs.pk}/delete/").status_code == 404
    assert client.post("/welcome/defaults/corp/", {"message": theirs.pk}).status_code == 404
    other_staff = world.staff["other"]
    assert (
        client.post(
            "/welcome/defaults/staff/", {"staff": other_staff.pk, "message": ""}
        ).status_code
        == 404
    )
    assert WelcomeMessage.objects.filter(pk=theirs.pk).exists()


def _send(world, key: str, status: str, customer: str, **extra) -> WelcomeSend:
    staff = world.staff[key]
    return WelcomeSend.objects.create(
        corp=staff.corp,
        welcome_code=f"code-{customer}",
        event_key=f"code-{customer}",
        userid=staff.userid,
        external_userid=world.customers[customer].external_userid,
        staff=staff,
        customer=world.customers[customer],
        event_at=clock.now(),
        created_at=clock.now(),
        status=status,
        **extra,
    )


def test_sends_list_filters_and_scope(as_user, world):
    _send(world, "sales", SendStatus.SENT, "c1", text="欢迎光临")
    _send(
        world, "north", SendStatus.EXPIRED, "c2", errcode=41050, errmsg="invalid welcome msg code"
    )
    _send(world, "service", SendStatus.NO_CODE, "c3")
    admin = as_user("admin")
    page = admin.get("/welcome/sends/").content.decode()
    assert page.count('data-status="') == 3 and "41050" in page
    only_expired = admin.get("/welcome/sends/", {"status": "expired"}).content.decode()
    assert only_expired.count('data-status="') == 1 and 'data-customer="wmc2"' in only_expired
    by_staff = admin.get("/welcome/sends/", {"staff": "zhang.san"}).content.decode()
    assert by_staff.count('data-status="') == 1 and 'data-status="no_code"' in by_staff
    by_name = admin.get("/welcome/sends/", {"customer": "周杰"}).content.decode()
    assert 'data-customer="wmc1"' in by_name and by_name.count('data-status="') == 1
    # A seller sees their own member's sends only.
    seller = as_user("seller").get("/welcome/sends/").content.decode()
    assert seller.count('data-status="') == 1 and 'data-customer="wmc2"' in seller
    assert as_user("admin").get("/welcome/sends/", {"cursor": "garbage"}).status_code == 200
