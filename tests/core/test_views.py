"""Corp settings and API tokens pages: only corp admins (and super admins) reach them."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from qike.api import services as api_services
from qike.api.models import ApiToken
from qike.core.models import Corp
from qike.org.access import access_for
from tests.console.world import World, build_world

pytestmark = pytest.mark.django_db

SECRET = "Sx9-very-secret-app-secret-value"


@pytest.fixture
def world(db) -> World:
    world = build_world()
    corp = Corp.objects.get(pk=world.corp.pk)
    corp.secret = SECRET
    corp.save()
    return world


@pytest.fixture
def as_user(client, world):
    def login(key: str):
        if key == "super":
            client.force_login(User.objects.create_superuser("root", password="pw"))
        else:
            client.force_login(world.users[key])
        return client

    return login


def _settings(corp: Corp, **changes) -> dict:
    data = {
        "corpid": corp.corpid,
        "name": corp.name,
        "agent_id": "1000002",
        "api_base_url": "http://127.0.0.1:9999",
        "secret": "",
    }
    return {**data, **changes}


# --- corp settings ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["admin", "super"])
def test_the_page_shows_the_callback_settings_but_never_the_secret(as_user, world, key):
    html = as_user(key).get("/settings/").content.decode()
    corp = Corp.objects.get(pk=world.corp.pk)
    assert f"/wecom/callback/{corp.corpid}/" in html
    assert corp.callback_token in html and corp.encoding_aes_key in html
    assert SECRET not in html
    assert 'name="secret"' in html and 'id="test-connection"' in html


def test_saving_with_a_blank_secret_keeps_it(as_user, world):
    client = as_user("admin")
    response = client.post("/settings/", _settings(world.corp, name="云帆科技集团"))
    assert response.status_code == 302
    corp = Corp.objects.get(pk=world.corp.pk)
    assert (corp.name, corp.agent_id, corp.secret) == ("云帆科技集团", 1000002, SECRET)
    assert corp.api_base_url == "http://127.0.0.1:9999"
    client.post("/settings/", _settings(world.corp, secret="a-new-secret"))
    assert Corp.objects.get(pk=world.corp.pk).secret == "a-new-secret"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"api_base_url": "not a url"}, "API"),
        ({"corpid": "wwother"}, "wwother"),  # another corp's CorpID
        ({"corpid": "bad corp id!"}, "CorpID"),
        ({"corpid": ""}, 'class="errorlist'),
        ({"agent_id": "-3"}, 'class="errorlist'),
    ],
)
def test_bad_settings_are_explained_and_nothing_changes(as_user, world, changes, message):
    before = Corp.objects.get(pk=world.corp.pk)
    response = as_user("admin").post("/settings/", _settings(world.corp, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    after = Corp.objects.get(pk=world.corp.pk)
    assert (after.corpid, after.api_base_url, after.agent_id) == (
        before.corpid,
        before.api_base_url,
        before.agent_id,
    )


def test_regenerating_callback_credentials_asks_first(as_user, world):
    client = as_user("admin")
    before = Corp.objects.get(pk=world.corp.pk)
    page = client.get("/settings/callback/regenerate/")
    assert page.status_code == 200 and 'id="confirm-regenerate"' in page.content.decode()
    assert Corp.objects.get(pk=world.corp.pk).callback_token == before.callback_token
    assert client.post("/settings/callback/regenerate/").status_code == 302
    after = Corp.objects.get(pk=world.corp.pk)
    assert after.callback_token != before.callback_token
    assert after.encoding_aes_key != before.encoding_aes_key
    assert len(after.encoding_aes_key) == 43
    assert after.encoding_aes_key in client.get("/settings/").content.decode()


@pytest.mark.parametrize("key", ["ops", "manager", "seller"])
def test_other_roles_may_not_see_or_change_settings(as_user, world, key):
    client = as_user(key)
    before = Corp.objects.get(pk=world.corp.pk)
    assert client.get("/settings/").status_code == 403
    assert client.post("/settings/", _settings(world.corp, name="x")).status_code == 403
    assert client.post("/settings/test-connection/").status_code == 403
    assert client.get("/settings/callback/regenerate/").status_code == 403
    assert client.post("/settings/callback/regenerate/").status_code == 403
    after = Corp.objects.get(pk=world.corp.pk)
    assert (after.name, after.callback_token) == (before.name, before.callback_token)
    html = client.get("/tags/").content.decode()
    assert 'href="/settings/"' not in html and 'href="/api-tokens/"' not in html


def test_the_settings_page_is_always_the_current_corps(as_user, world):
    # the outsider is corp admin of the other corp: their page shows their corp, not ours
    html = as_user("outsider").get("/settings/").content.decode()
    assert "wwother" in html and "wwconsole" not in html


# --- API tokens -------------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_works(as_user, world):
    client = as_user("admin")
    response = client.post("/api-tokens/", {"name": "CRM 同步", "scopes": ["read", "write"]})
    assert response.status_code == 201
    html = response.content.decode()
    plaintext = re.search(r'id="plaintext">([^<]+)<', html).group(1)
    used = api_services.use_token(plaintext=plaintext)
    assert used is not None and used.token.allows("write")
    assert used.access.user_id == world.users["admin"].pk
    assert plaintext not in client.get("/api-tokens/").content.decode()
    assert "CRM 同步" in client.get("/api-tokens/").content.decode()


def test_a_token_can_act_as_a_manager(as_user, world):
    client = as_user("admin")
    manager = world.users["manager"]
    response = client.post(
        "/api-tokens/", {"name": "部门报表", "scopes": ["read"], "user": manager.pk}
    )
    plaintext = re.search(r'id="plaintext">([^<]+)<', response.content.decode()).group(1)
    used = api_services.use_token(plaintext=plaintext)
    assert used.access.role == "manager" and not used.token.allows("write")


def test_bad_token_input_is_explained(as_user, world):
    client = as_user("admin")
    response = client.post("/api-tokens/", {"name": "", "scopes": []})
    assert response.status_code == 400
    assert response.content.decode().count('class="errorlist') >= 2
    response = client.post("/api-tokens/", {"name": "x", "scopes": ["admin"]})
    assert response.status_code == 400
    response = client.post(
        "/api-tokens/", {"name": "x", "scopes": ["read"], "user": world.users["outsider"].pk}
    )
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_revoke_and_another_corps_token(as_user, world):
    ours, _ = api_services.create_token(
        access=access_for(world.users["admin"], world.corp), name="ours", scopes="read"
    )
    theirs, _ = api_services.create_token(
        access=access_for(world.users["outsider"], world.other), name="theirs", scopes="read"
    )
    client = as_user("admin")
    assert "theirs" not in client.get("/api-tokens/").content.decode()
    assert client.post(f"/api-tokens/{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"/api-tokens/{ours.pk}/revoke/").status_code == 302
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.revoked_at is not None and theirs.revoked_at is None


@pytest.mark.parametrize("key", ["ops", "manager", "seller"])
def test_other_roles_may_not_manage_tokens(as_user, world, key):
    token, _ = api_services.create_token(
        access=access_for(world.users["admin"], world.corp), name="ours", scopes="read"
    )
    client = as_user(key)
    assert client.get("/api-tokens/").status_code == 403
    assert client.post("/api-tokens/", {"name": "x", "scopes": ["read"]}).status_code == 403
    assert client.post(f"/api-tokens/{token.pk}/revoke/").status_code == 403
    assert ApiToken.objects.count() == 1 and ApiToken.objects.get().revoked_at is None
