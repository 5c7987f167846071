"""The audit trail end to end: actions in the console and the API leave rows with who, when, from
where, before and after; admins browse and filter them; nobody can change them."""

from __future__ import annotations

import pytest

from qike.api import services as api_services
from qike.audit.models import AuditEntry
from qike.org import accounts
from qike.org.access import access_for
from qike.org.models import Department, Membership, Role

pytestmark = pytest.mark.django_db


def test_token_and_role_changes_are_recorded_and_admins_browse_them(client, world, api_as):
    admin = world.users["admin"]
    api_as("ops")  # the admin creates a token for ops
    created = AuditEntry.objects.get(corp=world.corp, action="api.token_create")
    assert created.after["user"] == "ops" and created.after["scopes"] == "read write"

    client.force_login(admin)
    membership = Membership.objects.get(corp=world.corp, user=world.users["ops"])
    with_request = access_for(admin, world.corp)
    accounts.update_membership(
        access=with_request,
        membership=membership,
        role=Role.MANAGER,
        staff=None,
        departments=[Department.objects.get(corp=world.corp, wecom_id=2)],
    )
    changed = AuditEntry.objects.get(action="org.role_change")
    assert (changed.before["role"], changed.after["role"]) == (Role.OPERATIONS, Role.MANAGER)

    page = client.get("/audit/", {"action": "org."}).content.decode()
    assert 'data-action="org.role_change"' in page and 'data-action="api.token_create"' not in page
    assert (
        client.get("/audit/", {"date_from": "2026-02-02", "date_to": "2026-01-01"}).status_code
        == 400
    )

    client.force_login(world.users["b_admin"])  # another corp's admin sees only their own corp
    assert 'data-action="org.role_change"' not in client.get("/audit/").content.decode()
    for role in ("manager", "staff"):
        client.force_login(world.users[role])
        assert client.get("/audit/").status_code == 403


def test_a_console_export_is_recorded_with_the_address_it_came_from(client, world):
    client.force_login(world.users["admin"])
    response = client.get("/customers/export.xlsx", REMOTE_ADDR="198.51.100.23")
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="customers.export")
    assert (entry.actor, entry.via, entry.ip) == ("admin", "console", "198.51.100.23")
    assert entry.after["rows"] > 0 and entry.after["phones_revealed"] is True


def test_the_api_lists_filters_and_cannot_change_entries(world, api_as):
    api = api_as("admin")
    access = access_for(world.users["admin"], world.corp)
    spare, _plaintext = api_services.create_token(access=access, name="备用", scopes="read")
    api_services.revoke_token(access=access, token=spare)

    listed = api.get("/audit", action="api.")
    assert listed.status_code == 200, listed.content
    actions = [item["action"] for item in listed.json()["items"]]
    assert actions == ["api.token_revoke", "api.token_create", "api.token_create"]
    assert api.get("/audit", date_from="2026-02-02", date_to="2026-01-01").status_code == 400
    entry_id = listed.json()["items"][0]["id"]
    assert api.delete(f"/audit/{entry_id}").status_code in (404, 405)
    assert api.post("/audit", {"action": "x"}).status_code == 405
    assert api_as("ops").get("/audit").status_code == 403
    assert AuditEntry.objects.filter(action="api.token_revoke").count() == 1
