"""Every role on every management page: what it may open, and which nav entries it sees."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from tests.console.world import World, build_world

pytestmark = pytest.mark.django_db

PAGES = {
    "/org/": "组织架构",
    "/tags/": "标签",
    "/events/": "事件",
    "/users/": "账号与角色",
    "/api-tokens/": "API 令牌",
    "/settings/": "企业设置",
}
MAY_OPEN = {
    "super": set(PAGES),
    "admin": set(PAGES),
    "ops": {"/org/", "/tags/", "/events/"},
    "manager": {"/org/", "/tags/"},
    "seller": {"/tags/"},
}


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def as_user(client, world):
    def login(key: str):
        if key == "super":
            client.force_login(User.objects.create_superuser("root", password="pw"))
        else:
            client.force_login(world.users[key])
        return client

    return login


@pytest.mark.parametrize("key", list(MAY_OPEN))
def test_each_role_opens_its_pages_gets_403_elsewhere_and_sees_only_its_nav(as_user, key):
    client = as_user(key)
    for url in PAGES:
        expected = 200 if url in MAY_OPEN[key] else 403
        assert client.get(url).status_code == expected, (key, url)
    nav = client.get("/tags/").content.decode().split('class="sidenav"')[1].split("</nav>")[0]
    for url, label in PAGES.items():
        assert (f'href="{url}"' in nav) == (url in MAY_OPEN[key]), (key, url)
        assert (label in nav) == (url in MAY_OPEN[key]), (key, label)


def test_a_user_of_no_corp_is_sent_to_the_no_corp_page(as_user):
    client = as_user("nobody")
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/no-corp/", url


def test_logged_out_visitors_are_sent_to_log_in(client, world):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_the_pages_speak_english_when_asked(as_user):
    client = as_user("admin")
    assert "测试连接" in client.get("/settings/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = {
        "/org/": "Departments",
        "/tags/": "New tag group",
        "/events/": "Apply filters",
        "/users/": "Accounts of this corp",
        "/api-tokens/": "New token",
        "/settings/": "Test connection",
        "/users/new/": "Create account",
    }
    for url, text in english.items():
        assert text in client.get(url).content.decode(), url
