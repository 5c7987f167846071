"""Users & roles pages: corp admins and super admins manage accounts; nobody else sees them."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User

from qike.org.models import Membership, Role
from tests.console.world import World, build_world

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Yunfan-2024-pass"


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def as_user(client, world):
    def login(key: str):
        if key == "super":
            client.force_login(User.objects.create_superuser("root", password=GOOD_PASSWORD))
        else:
            client.force_login(world.users[key])
        return client

    return login


def _membership(world, key: str) -> Membership:
    return Membership.objects.get(user=world.users[key])


def test_the_list_shows_role_member_and_departments(as_user):
    html = as_user("admin").get("/users/").content.decode()
    assert 'data-username="li.lei"' in html
    assert "销售部" in html  # the manager's department
    assert "部门主管" in html


@pytest.mark.parametrize("key", ["ops", "manager", "seller"])
def test_other_roles_get_403_everywhere_and_no_nav_entry(as_user, world, key):
    client = as_user(key)
    seller = _membership(world, "seller")
    assert client.get("/users/").status_code == 403
    assert client.get("/users/new/").status_code == 403
    assert client.get(f"/users/{seller.pk}/").status_code == 403
    assert client.post(f"/users/{seller.pk}/active/", {"active": "0"}).status_code == 403
    assert client.post(f"/users/{seller.pk}/password/", {}).status_code == 403
    assert 'href="/users/"' not in client.get("/tags/").content.decode()
    assert User.objects.get(pk=world.users["seller"].pk).is_active


def test_corp_admin_sees_the_nav_entry(as_user):
    assert 'href="/users/"' in as_user("admin").get("/tags/").content.decode()


def test_create_an_account_for_a_wecom_member(as_user, world):
    client = as_user("admin")
    response = client.post(
        "/users/new/",
        {
            "role": Role.STAFF,
            "member": "zhang.san",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert authenticate(username="zhang.san", password=GOOD_PASSWORD) is not None
    assert 'data-username="zhang.san"' in client.get("/users/").content.decode()


def test_form_errors_are_shown_and_nothing_is_written(as_user):
    client = as_user("admin")
    response = client.post(
        "/users/new/",
        {"role": Role.STAFF, "member": "nobody-here", "password1": "a", "password2": "b"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "nobody-here" in html  # "No WeCom member has the UserID nobody-here."
    assert "两次输入的密码不一致" in html or "The two passwords differ." in html
    response = client.post(
        "/users/new/",
        {"role": Role.MANAGER, "username": "mgr", "password1": "123", "password2": "123"},
    )
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not User.objects.filter(username="mgr").exists()


def test_a_corp_admin_is_not_offered_super_admin_and_gets_403_forcing_it(as_user):
    client = as_user("admin")
    assert 'value="super_admin"' not in client.get("/users/new/").content.decode()
    response = client.post(
        "/users/new/",
        {
            "role": "super_admin",
            "username": "sneaky",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="sneaky").exists()


def test_a_super_admin_creates_a_super_admin(as_user):
    client = as_user("super")
    assert 'value="super_admin"' in client.get("/users/new/").content.decode()
    response = client.post(
        "/users/new/",
        {
            "role": "super_admin",
            "username": "root2",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="root2").is_superuser
    assert 'data-username="root2"' in client.get("/users/").content.decode()


def test_change_role_and_departments(as_user, world):
    client = as_user("admin")
    seller = _membership(world, "seller")
    response = client.post(
        f"/users/{seller.pk}/",
        {"role": Role.MANAGER, "member": "han.mei", "departments": [world.departments["root"].pk]},
    )
    assert response.status_code == 302
    seller.refresh_from_db()
    assert seller.role == Role.MANAGER
    assert list(seller.departments.values_list("wecom_id", flat=True)) == [1]


def test_reset_password_and_deactivate(as_user, world):
    client = as_user("admin")
    seller = _membership(world, "seller")
    response = client.post(
        f"/users/{seller.pk}/password/", {"password1": "short", "password2": "short"}
    )
    assert response.status_code == 400
    response = client.post(
        f"/users/{seller.pk}/password/",
        {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD},
    )
    assert response.status_code == 302
    assert authenticate(username="han.mei", password=GOOD_PASSWORD) is not None
    assert client.post(f"/users/{seller.pk}/active/", {"active": "0"}).status_code == 302
    assert authenticate(username="han.mei", password=GOOD_PASSWORD) is None


def test_another_corps_account_is_not_found(as_user, world):
    client = as_user("admin")
    outsider = _membership(world, "outsider")
    assert client.get(f"/users/{outsider.pk}/").status_code == 404
    assert client.post(f"/users/{outsider.pk}/active/", {"active": "0"}).status_code == 404
    assert User.objects.get(pk=world.users["outsider"].pk).is_active


def test_a_corp_admin_cannot_touch_a_super_admin(as_user):
    root = User.objects.create_superuser("root", password=GOOD_PASSWORD)
    client = as_user("admin")
    response = client.post(
        f"/users/{root.pk}/password/",
        {"super_admin": "1", "password1": "Another-pass-99", "password2": "Another-pass-99"},
    )
    assert response.status_code == 403
    assert client.post(f"/users/{root.pk}/active/", {"super_admin": "1"}).status_code == 403
    root.refresh_from_db()
    assert root.is_active and root.check_password(GOOD_PASSWORD)
