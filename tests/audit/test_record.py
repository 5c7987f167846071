"""The audit trail's core: who, from where, via which door; rows cannot be changed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User

from qike.audit.context import Actor, acting, client_ip
from qike.audit.models import AuditEntry
from qike.audit.services import record
from qike.core.models import Corp

pytestmark = pytest.mark.django_db


def test_record_takes_the_actor_from_the_context_and_rows_are_append_only(rf) -> None:
    corp = Corp.objects.create(corpid="wwaudit", name="审计")
    user = User.objects.create_user("ops", password="pw")
    with acting(Actor(user_id=user.pk, name="ops", ip="10.0.0.8", via="console")):
        entry = record(
            corp=corp, action="tags.delete", target=corp, before={"name": "旧"}, after={}
        )
    assert (entry.user, entry.actor, entry.ip, entry.via) == (user, "ops", "10.0.0.8", "console")
    assert (entry.target_type, entry.target_id, entry.target_label) == (
        "core.corp",
        str(corp.pk),
        "审计",
    )
    entry.action = "something.else"
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    assert AuditEntry.objects.get().action == "tags.delete"


def test_without_a_context_the_system_acted(rf) -> None:
    entry = record(corp=None, action="sync.full")
    assert (entry.user, entry.via, entry.ip) == (None, "system", None)


def test_forwarded_for_is_believed_only_behind_a_configured_proxy(rf, settings) -> None:
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "10.0.0.1"
    settings.QIKE_TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"


def test_a_console_request_and_an_api_token_are_attributed(rf) -> None:
    from qike.api import services as api_services
    from qike.api.auth import read_auth
    from qike.audit.context import AuditActorMiddleware, current_actor
    from qike.org.access import access_for
    from qike.org.models import Membership, Role

    corp = Corp.objects.create(corpid="wwaudit2", name="审计二")
    user = User.objects.create_user("admin2", password="pw")
    Membership.objects.create(user=user, corp=corp, role=Role.CORP_ADMIN)
    seen = []

    def view(request):
        seen.append(current_actor())
        if request.path.startswith("/api/"):
            read_auth.authenticate(request, plaintext)
            seen.append(current_actor())

    request = rf.get("/customers/", REMOTE_ADDR="192.0.2.7")
    request.user = user
    AuditActorMiddleware(view)(request)
    assert seen[-1] == Actor(user_id=user.pk, name="admin2", ip="192.0.2.7", via="console")
    assert current_actor() is None  # nothing leaks past the request

    token, plaintext = api_services.create_token(
        access=access_for(user, corp), name="同步", scopes=["read"]
    )
    request = rf.get("/api/v1/customers", REMOTE_ADDR="192.0.2.8")
    request.user = AnonymousUser()
    AuditActorMiddleware(view)(request)
    before, after = seen[-2:]
    assert (before.user_id, before.via, before.ip) == (None, "api", "192.0.2.8")
    assert after.user_id == user.pk and f"API token {token.prefix}" in after.name
    assert after.ip == "192.0.2.8"
