"""API tokens: shown once, stored as a hash, revocable; and how the API answers bad tokens."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client

from qike.api import services
from qike.api.models import ApiToken
from qike.core import clock
from qike.org.access import access_for
from qike.org.models import Membership
from tests.api.conftest import Api, make_token

pytestmark = pytest.mark.django_db


def test_a_new_token_is_shown_once_and_stored_only_as_a_hash(world):
    access = access_for(world.users["admin"], world.corp)
    token, plaintext = services.create_token(access=access, name=" CRM sync ", scopes=["read"])

    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.name == "CRM sync"
    assert stored.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext.startswith(stored.prefix) and len(stored.prefix) < len(plaintext) / 3
    assert plaintext not in {getattr(stored, f.attname) for f in ApiToken._meta.concrete_fields}
    assert stored.user == world.users["admin"] and stored.created_by == world.users["admin"]
    assert stored.scope_list == ["read"]


def test_write_scope_includes_read_and_unknown_scopes_are_refused(world):
    access = access_for(world.users["admin"], world.corp)
    token, _ = services.create_token(access=access, name="writer", scopes="write")
    assert token.scope_list == ["read", "write"]
    for bad in (["admin"], [], ""):
        with pytest.raises(ValidationError):
            services.create_token(access=access, name="bad", scopes=bad)
    with pytest.raises(ValidationError, match="name"):
        services.create_token(access=access, name="  ", scopes=["read"])
    assert ApiToken.objects.filter(corp=world.corp).count() == 1


@pytest.mark.parametrize("role", ["ops", "manager", "staff"])
def test_only_admins_manage_tokens(world, role):
    access = access_for(world.users[role], world.corp)
    with pytest.raises(PermissionDenied):
        services.create_token(access=access, name="mine", scopes=["read"])
    with pytest.raises(PermissionDenied):
        services.list_tokens(access)
    assert not ApiToken.objects.exists()


def test_a_token_may_act_for_another_member_but_not_for_a_stranger(world):
    access = access_for(world.users["admin"], world.corp)
    token, _ = services.create_token(
        access=access, name="east region", scopes=["read"], user=world.users["manager"]
    )
    assert token.user == world.users["manager"]
    with pytest.raises(ValidationError, match="b_admin"):
        services.create_token(
            access=access, name="stranger", scopes=["read"], user=world.users["b_admin"]
        )


def test_list_and_revoke_stay_within_the_corp(world):
    admin = access_for(world.users["admin"], world.corp)
    other_admin = access_for(world.users["b_admin"], world.other)
    mine, _ = services.create_token(access=admin, name="mine", scopes=["read"])
    theirs, _ = services.create_token(access=other_admin, name="theirs", scopes=["read"])

    assert [t.name for t in services.list_tokens(admin)] == ["mine"]
    with pytest.raises(Http404):
        services.revoke_token(access=admin, token=theirs)
    theirs.refresh_from_db()
    assert theirs.revoked_at is None

    services.revoke_token(access=admin, token=mine)
    first = ApiToken.objects.get(pk=mine.pk).revoked_at
    assert first is not None
    services.revoke_token(access=admin, token=mine)  # again: nothing changes
    assert ApiToken.objects.get(pk=mine.pk).revoked_at == first
    assert [t.revoked_at for t in services.list_tokens(admin)] == [first]


# --- the API's answers ------------------------------------------------------------------------


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code and body["message"]
    return body


def test_no_token_is_401_with_the_error_format(world):
    response = Client().get("/api/v1/customers")
    _assert_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Bearer qk_not-a-real-token", "Bearer ", "Basic YWRtaW46cHc=", "qk_abc"]
)
def test_an_unknown_or_malformed_token_is_401(world, header):
    response = Client().get("/api/v1/customers", HTTP_AUTHORIZATION=header)
    _assert_error(response, 401, "unauthorized")


def test_a_revoked_token_stops_working_at_once(world):
    plaintext = make_token(world.corp, world.users["admin"])
    api = Api(plaintext)
    assert api.get("/customers").status_code == 200
    token = ApiToken.objects.get(token_hash=services.hash_token(plaintext))
    services.revoke_token(access=access_for(world.users["admin"], world.corp), token=token)
    _assert_error(api.get("/customers"), 401, "unauthorized")


def test_a_token_stops_working_when_its_user_loses_their_role(world):
    api = Api(make_token(world.corp, world.users["ops"]))
    assert api.get("/customers").status_code == 200
    Membership.objects.filter(user=world.users["ops"]).delete()
    _assert_error(api.get("/customers"), 401, "unauthorized")


def test_a_read_only_token_cannot_write(world, api_as):
    reader = api_as("admin", scopes="read")
    assert reader.get("/tag-groups").status_code == 200
    body = _assert_error(
        reader.post("/tag-groups", {"name": "新分组", "tags": ["甲"]}), 403, "insufficient_scope"
    )
    assert body["details"] == {"required_scope": "write"}
    event = world.events["failed"]
    _assert_error(reader.post(f"/events/{event.pk}/replay"), 403, "insufficient_scope")
    _assert_error(
        reader.post(f"/relations/{world.relations[('wm_east', 'east')].pk}/tags", {"add": []}),
        403,
        "insufficient_scope",
    )
    event.refresh_from_db()
    assert event.attempts == 1  # nothing ran


def test_the_token_endpoint_says_who_the_token_acts_as(world, api_as):
    body = api_as("manager", scopes="read").get("/token").json()
    assert body["corpid"] == "wwA"
    assert body["role"] == "manager"
    assert body["scopes"] == ["read"]


def test_a_superuser_token_acts_as_super_admin_in_its_corp_only(world):
    root_access = access_for(world.users["root"], world.corp)
    _token, plaintext = services.create_token(access=root_access, name="root", scopes=["read"])
    api = Api(plaintext)
    assert api.get("/token").json()["role"] == "super_admin"
    assert api.get(f"/customers/{world.other_objects['customer']}").status_code == 404


def test_last_used_is_recorded_about_once_a_minute(world):
    plaintext = make_token(world.corp, world.users["admin"])
    api = Api(plaintext)
    api.get("/token")
    token = ApiToken.objects.get(token_hash=services.hash_token(plaintext))
    first = token.last_used_at
    assert first is not None
    api.get("/token")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    with clock.shifted(120):
        api.get("/token")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first + dt.timedelta(seconds=60)
