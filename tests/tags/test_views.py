"""The tag library page: usage counts in the viewer's scope, and who may change tags."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qike.tags.models import Tag, TagAssignment, TagGroup
from tests.console.world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def as_user(client, world):
    def login(key: str):
        client.force_login(world.users[key])
        return client

    return login


def _usage(html: str) -> dict[str, int]:
    rows = re.findall(r'data-tag="([^"]+)">.*?data-usage="(\d+)"', html, re.S)
    return {wecom_id: int(n) for wecom_id, n in rows}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("admin", {"etVIP": 2, "etNormal": 1}),  # the deleted follow-up does not count
        ("ops", {"etVIP": 2, "etNormal": 1}),
        ("manager", {"etVIP": 1, "etNormal": 1}),  # the sales subtree only
        ("seller", {"etVIP": 0, "etNormal": 1}),  # their own customers only
    ],
)
def test_usage_counts_follow_the_viewers_scope(as_user, key, expected):
    html = as_user(key).get("/tags/").content.decode()
    assert _usage(html) == expected
    assert "客户等级" in html


def test_tags_are_listed_in_wecoms_order_larger_first(as_user):
    html = as_user("admin").get("/tags/").content.decode()
    assert html.index('data-tag="etVIP"') < html.index('data-tag="etNormal"')


@pytest.mark.parametrize("key", ["manager", "seller"])
def test_roles_without_manage_tags_see_no_buttons_and_get_403(as_user, world, key):
    client = as_user(key)
    html = client.get("/tags/").content.decode()
    assert "/tags/groups/" not in html and "/rename/" not in html
    vip = world.tags["vip"]
    for url, data in [
        ("/tags/groups/", {"name": "新组", "tags": "甲"}),
        (f"/tags/groups/{vip.group_id}/tags/", {"names": "乙"}),
        (f"/tags/tag/{vip.pk}/rename/", {"name": "大客户"}),
        (f"/tags/tag/{vip.pk}/order/", {"order": "5"}),
        (f"/tags/tag/{vip.pk}/delete/", {}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert Tag.objects.get(pk=vip.pk).name == "VIP"


@pytest.mark.parametrize("key", ["admin", "ops"])
def test_roles_with_manage_tags_see_the_editors(as_user, key):
    html = as_user(key).get("/tags/").content.decode()
    assert 'action="/tags/groups/"' in html and "/rename/" in html


def test_another_corps_tag_or_group_is_not_found(as_user, world):
    group = TagGroup.objects.create(corp=world.other, wecom_id="etgOther", name="别家组")
    tag = Tag.objects.create(corp=world.other, wecom_id="etOther", name="别家", group=group)
    client = as_user("admin")
    assert client.post(f"/tags/tag/{tag.pk}/rename/", {"name": "x"}).status_code == 404
    assert client.post(f"/tags/group/{group.pk}/delete/").status_code == 404
    assert client.post(f"/tags/groups/{group.pk}/tags/", {"names": "x"}).status_code == 404
    assert client.post(f"/tags/other/{tag.pk}/delete/").status_code == 404
    assert "别家" not in client.get("/tags/").content.decode()


def test_bad_input_is_explained_and_nothing_is_sent(as_user, world):
    # The corp has no reachable WeCom (secret "s", real WeCom's URL): any call would fail loudly,
    # so a 400 with the form's message proves the input was refused before anything was sent.
    client = as_user("admin")
    response = client.post("/tags/groups/", {"name": "", "tags": " , "})
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('class="errorlist') >= 2
    response = client.post(f"/tags/tag/{world.tags['vip'].pk}/order/", {"order": "-1"})
    assert response.status_code == 400
    assert 'id="problem"' in response.content.decode()
    response = client.post(f"/tags/tag/{world.tags['vip'].pk}/rename/", {"name": "x" * 31})
    assert response.status_code == 400
    response = client.post(f"/tags/tag/{world.tags['vip'].pk}/rename/", {"name": "普通"})
    assert response.status_code == 400  # the group already has a tag of that name
    assert "普通" in response.content.decode()
    assert Tag.objects.get(pk=world.tags["vip"].pk).name == "VIP"


def test_the_page_costs_the_same_number_of_queries_however_many_tags(as_user, world):
    client = as_user("admin")
    client.get("/tags/")
    with CaptureQueriesContext(connection) as small:
        client.get("/tags/")
    relation = next(iter(world.relations.values()))
    for index in range(5):
        group = TagGroup.objects.create(corp=world.corp, wecom_id=f"etg{index}", name=f"组{index}")
        for n in range(6):
            tag = Tag.objects.create(
                corp=world.corp, wecom_id=f"et{index}-{n}", name=f"标签{n}", group=group
            )
            TagAssignment.objects.create(corp=world.corp, relation=relation, tag=tag)
    with CaptureQueriesContext(connection) as big:
        client.get("/tags/")
    assert len(big) == len(small)
