"""Choosing content-library items for a welcome message, in the console editor and the API: the
order kept, WeCom's limits over own and library attachments together, other corps' items refused,
text items appended to the text, and deleted items shown as missing."""

from __future__ import annotations

import json

import pytest

from qike.core.models import Corp
from qike.engagement import library
from qike.engagement.library import ItemInput
from qike.engagement.models import ContentItem, WelcomeMessage
from tests.api.conftest import Api, make_token
from tests.api.conftest import world as api_world  # noqa: F401  (fixture)
from tests.console.world import World, build_world
from tests.engagement.conftest import library_admin, png_upload

pytestmark = pytest.mark.django_db

LINK = {"kind": "link", "title": "官网", "url": "https://example.com"}


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def ops(client, world):
    client.force_login(world.users["ops"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def admin_of(corp):
    """The corp's library admin (made on first use)."""
    from django.contrib.auth.models import User

    from qike.org.access import access_for

    user = User.objects.filter(username=f"lib-admin-{corp.pk}").first()
    return access_for(user, corp) if user else library_admin(corp)


def images(corp, count: int, prefix: str = "海报") -> list[ContentItem]:
    admin = admin_of(corp)
    return [
        library.save_item(
            access=admin,
            data=ItemInput(kind="image", title=f"{prefix}{n}", upload=png_upload(f"p{n}.png")),
        )
        for n in range(count)
    ]


def text_item(corp, text: str) -> ContentItem:
    return ContentItem.objects.create(corp=corp, kind="text", title=text[:20], text=text)


def foreign_item(corp: Corp) -> ContentItem:
    other = Corp.objects.exclude(pk=corp.pk).first() or Corp.objects.create(
        corpid="wwforeign", name="别家", secret="s"
    )
    return ContentItem.objects.create(
        corp=other, kind="link", title="别家链接", url="https://other.example"
    )


def form(item_ids=(), attachments=(), text="您好", **extra) -> dict:
    data = {
        "name": "新客欢迎",
        "text": text,
        "nickname_fallback": "",
        "att-TOTAL_FORMS": str(len(attachments)),
        "att-INITIAL_FORMS": "0",
        "var-TOTAL_FORMS": "0",
        "var-INITIAL_FORMS": "0",
        "item_ids": [str(pk) for pk in item_ids],
        **extra,
    }
    for i, row in enumerate(attachments):
        data.update({f"att-{i}-{k}": v for k, v in row.items()})
    return data


def problems(response) -> str:
    return " ".join(response.context["problems"])


def picked(response) -> list[dict]:
    return response.context["picked"]


# --- console -------------------------------------------------------------------------------------


def test_the_editor_saves_library_items_in_the_chosen_order(ops, world):
    first, second = images(world.corp, 2)
    hours = text_item(world.corp, "营业时间 9-18 点")
    answer = ops.post(
        "/welcome/new/", form(item_ids=[second.pk, hours.pk, first.pk], attachments=[LINK])
    )
    assert answer.status_code == 302, problems(answer)
    saved = WelcomeMessage.objects.get(corp=world.corp)
    assert saved.item_ids == [second.pk, hours.pk, first.pk]
    assert saved.attachments[0]["msgtype"] == "link"

    page = ops.get(f"/welcome/{saved.pk}/")
    assert [row["id"] for row in picked(page)] == [second.pk, hours.pk, first.pk]
    assert picked(page)[1]["kind"] == "text"
    html = page.content.decode()
    assert 'id="library-items"' in html and 'id="picked-items"' in html

    # Reordered and one removed.
    again = ops.post(f"/welcome/{saved.pk}/", form(item_ids=[first.pk, second.pk]))
    assert again.status_code == 302
    saved.refresh_from_db()
    assert saved.item_ids == [first.pk, second.pk]
    listed = ops.get("/welcome/").content.decode().split(f'data-message="{saved.pk}"')[1]
    assert "+ 2 library items" in listed.split("</tr>")[0]  # the list counts library items too


def test_a_deleted_item_shows_as_missing_and_saving_drops_it(ops, world):
    kept, gone = images(world.corp, 2)
    saved = WelcomeMessage.objects.create(
        corp=world.corp, name="两张", text="您好", item_ids=[gone.pk, kept.pk]
    )
    gone_pk = gone.pk
    library.delete_item(access=admin_of(world.corp), item=gone)

    page = ops.get(f"/welcome/{saved.pk}/")
    assert page.status_code == 200
    rows = picked(page)
    assert [(row["id"], row["missing"]) for row in rows] == [(gone_pk, True), (kept.pk, False)]
    assert "Deleted from the content library" in rows[0]["title"]
    data = json.loads(
        page.content.decode().split('id="picked-items" type="application/json">')[1].split("<")[0]
    )
    assert data[0]["missing"] is True

    # The page posts only the items still there (a missing one has no hidden input).
    assert ops.post(f"/welcome/{saved.pk}/", form(item_ids=[kept.pk])).status_code == 302
    saved.refresh_from_db()
    assert saved.item_ids == [kept.pk]


def test_ten_attachments_are_refused_and_nothing_saved(ops, world):
    picked_items = images(world.corp, 5)
    answer = ops.post(
        "/welcome/new/", form(item_ids=[i.pk for i in picked_items], attachments=[LINK] * 5)
    )
    assert answer.status_code == 400
    assert "at most 9 attachments" in problems(answer)
    assert "5 of its own and 5 from the content library" in problems(answer)
    assert not WelcomeMessage.objects.exists()
    # The choice is kept on the page to correct it.
    assert [row["id"] for row in picked(answer)] == [i.pk for i in picked_items]

    # Nine is fine: text items do not count as attachments.
    hours = text_item(world.corp, "营业时间")
    fine = ops.post(
        "/welcome/new/",
        form(item_ids=[*(i.pk for i in picked_items), hours.pk], attachments=[LINK] * 4),
    )
    assert fine.status_code == 302, problems(fine)


def test_ten_library_items_alone_are_refused(ops, world):
    many = images(world.corp, 10)
    answer = ops.post("/welcome/new/", form(item_ids=[i.pk for i in many]))
    assert answer.status_code == 400
    assert "at most 9 attachments" in problems(answer)
    assert not WelcomeMessage.objects.exists()


def test_another_corps_item_and_bad_ids_are_refused(ops, world):
    (mine,) = images(world.corp, 1)
    theirs = foreign_item(world.corp)
    answer = ops.post("/welcome/new/", form(item_ids=[mine.pk, theirs.pk]))
    assert answer.status_code == 400
    assert f"do not exist in this corp: {theirs.pk}" in problems(answer)
    assert "99999" in problems(ops.post("/welcome/new/", form(item_ids=[99999])))
    for junk in ("abc", "²", str(2**70), "-3"):  # "²" is a digit to str.isdigit, not to int
        bad = ops.post("/welcome/new/", form(item_ids=[junk]))
        assert bad.status_code == 400 and "must be numbers" in problems(bad), junk
    assert not WelcomeMessage.objects.exists()
    assert ops.get("/content/new/?kind=image&folder=²").status_code == 200
    assert ops.get("/quick-replies/new/?group=²").status_code == 200


def test_text_items_count_as_content_and_against_the_text_limit(ops, world):
    hours = text_item(world.corp, "营业时间 9-18 点")
    only_text_item = ops.post("/welcome/new/", form(item_ids=[hours.pk], text=""))
    assert only_text_item.status_code == 302, problems(only_text_item)

    long = text_item(world.corp, "长" * 1000)  # 3000 bytes
    answer = ops.post("/welcome/new/", form(item_ids=[long.pk], text="字" * 400, name="太长"))
    assert answer.status_code == 400
    assert "With the library's text items appended" in problems(answer)
    assert not WelcomeMessage.objects.filter(name="太长").exists()


def test_the_picker_searches_this_corps_library_by_text_and_kind(ops, world):
    (poster,) = images(world.corp, 1, prefix="春季海报")
    hours = text_item(world.corp, "春季营业时间")
    foreign_item(world.corp)

    def found(**params) -> list[int]:
        answer = ops.get("/welcome/library-items/", params)
        assert answer.status_code == 200
        return [row["id"] for row in answer.json()["items"]]

    assert set(found(q="春季")) == {poster.pk, hours.pk}
    assert found(q="春季", kind="image") == [poster.pk]
    assert found(kind="text") == [hours.pk]
    assert found(q="别家") == []  # another corp's items are not offered
    assert set(found(kind="nonsense")) == {poster.pk, hours.pk}
    row = ops.get("/welcome/library-items/", {"kind": "image"}).json()["items"][0]
    assert row == {
        "id": poster.pk,
        "title": "春季海报0",
        "kind": "image",
        "kind_label": "image",
        "missing": False,
    }


# --- API -----------------------------------------------------------------------------------------


@pytest.fixture
def api(api_world):  # noqa: F811
    return Api(make_token(api_world.corp, api_world.users["ops"], "read write"))


def test_api_takes_item_ids_and_shows_missing_items(api, api_world):  # noqa: F811
    corp = api_world.corp
    first, second = images(corp, 2)
    hours = text_item(corp, "营业时间")
    body = {
        "name": "新客",
        "text": "您好",
        "attachments": [{"msgtype": "link", "title": "官网", "url": "https://example.com"}],
        "item_ids": [second.pk, hours.pk, first.pk, second.pk],
    }
    created = api.post("/welcome-messages", body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["item_ids"] == [second.pk, hours.pk, first.pk]  # each item once
    assert data["items"][1] == {
        "id": hours.pk,
        "kind": "text",
        "title": "营业时间",
        "missing": False,
    }

    first_pk = first.pk
    library.delete_item(access=admin_of(corp), item=first)
    again = api.get(f"/welcome-messages/{data['id']}").json()
    assert again["items"][2] == {"id": first_pk, "kind": None, "title": None, "missing": True}
    listed = api.get("/welcome-messages").json()["items"][0]
    assert listed["items"] == again["items"]

    # Saving it back as it is names a deleted item: refused, saying which.
    replaced = api.client.put(
        f"/api/v1/welcome-messages/{data['id']}",
        {**body, "item_ids": again["item_ids"]},
        content_type="application/json",
        **api._headers(),
    )
    assert replaced.status_code == 400
    assert f"do not exist in this corp: {first_pk}" in replaced.content.decode()


def test_api_refuses_too_many_and_foreign_items(api, api_world):  # noqa: F811
    corp = api_world.corp
    many = images(corp, 6)
    link = {"msgtype": "link", "title": "官网", "url": "https://example.com"}
    too_many = api.post(
        "/welcome-messages",
        {"name": "太多", "attachments": [link] * 4, "item_ids": [i.pk for i in many]},
    )
    assert too_many.status_code == 400
    assert "at most 9 attachments" in too_many.content.decode()
    theirs = foreign_item(corp)
    foreign = api.post("/welcome-messages", {"name": "别家", "item_ids": [theirs.pk]})
    assert foreign.status_code == 400
    assert f"do not exist in this corp: {theirs.pk}" in foreign.content.decode()
    assert not WelcomeMessage.objects.filter(corp=corp).exists()
