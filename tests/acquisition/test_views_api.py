"""Console pages and API endpoints of live codes, and who may do what.

Roles: corp admins and operations create, edit and delete codes and cards; managers see codes
and figures (of their own members) read-only; sales staff have no access (403)."""

from __future__ import annotations

import pytest

from qike.acquisition import services
from qike.acquisition.models import LiveCode
from qike.acquisition.services import LiveCodeSpec
from qike.api import services as api_services
from qike.org.access import access_for
from qike.org.models import Role
from tests.acquisition.conftest import scan, way_users
from tests.api.conftest import Api

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _form(userids: list[str], **extra) -> dict:
    return {
        "name": "官网弹窗",
        "staff": userids,
        "skip_verify": "on",
        "spread_evenly": "on",
        **extra,
    }


def test_console_create_edit_stats_qr_and_delete(client, corp, users, userids, sim_corp):
    client.force_login(users[Role.OPERATIONS])
    response = client.post("/live-codes/new/", _form(userids[:2], daily_cap="5"))
    assert response.status_code == 302, response.content.decode()
    code = LiveCode.objects.get(corp=corp, name="官网弹窗")
    assert way_users(corp, code) == sorted(userids[:2])

    response = client.post(
        f"/live-codes/{code.pk}/edit/",
        _form(userids[:3], shifts="1-7 00:00-24:00 " + userids[3]),
    )
    assert response.status_code == 302, response.content.decode()
    assert way_users(corp, code) == [userids[3]]

    scan(sim_corp, code)
    page = client.get(f"/live-codes/{code.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert page.status_code == 200 and "trend-data" in html
    assert "新增 1" in html  # totals, in Chinese
    png = client.get(f"/live-codes/{code.pk}/qr/?format=png&size=80")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    svg = client.get(f"/live-codes/{code.pk}/qr/?format=svg&size=500")
    assert svg.status_code == 200 and b'width="500.0mm"' in svg.content
    assert client.get(f"/live-codes/{code.pk}/qr/?format=gif&size=80").status_code == 404

    bad = client.post("/live-codes/new/", _form([], name="空码"))
    assert bad.status_code == 400 and "接待成员为空" in bad.content.decode()
    bad = client.post(f"/live-codes/{code.pk}/edit/", _form(userids[:1], shifts="周一 九点"))
    assert bad.status_code == 400 and "第 1 行" in bad.content.decode()

    assert client.post(f"/live-codes/{code.pk}/delete/").status_code == 302
    assert client.get(f"/live-codes/{code.pk}/").status_code == 404
    assert client.get("/live-codes/").status_code == 200


def test_roles(client, corp, users, userids, admin):
    code = services.create_live_code(
        access=admin, spec=LiveCodeSpec(name="只读", userids=(userids[0],))
    )
    client.force_login(users[Role.MANAGER])
    assert client.get("/live-codes/").status_code == 200
    assert client.get(f"/live-codes/{code.pk}/").status_code == 200
    assert client.get("/live-codes/new/").status_code == 403
    assert client.post("/live-codes/new/", _form(userids[:1])).status_code == 403
    assert client.post(f"/live-codes/{code.pk}/delete/").status_code == 403
    assert client.post("/staff-cards/", {"staff": 1}).status_code == 403
    client.force_login(users[Role.STAFF])
    assert client.get("/live-codes/").status_code == 403
    assert client.get(f"/live-codes/{code.pk}/").status_code == 403
    client.force_login(users[Role.CORP_ADMIN])
    assert client.get("/staff-cards/").status_code == 200


def _api(users, user, corp, scopes: str) -> Api:
    admin = access_for(users[Role.CORP_ADMIN], corp)
    _token, secret = api_services.create_token(access=admin, user=user, name="t", scopes=scopes)
    return Api(secret)


def test_api(corp, users, userids, sim_corp):
    api = _api(users, users[Role.OPERATIONS], corp, ["read", "write"])
    created = api.post("/live-codes", {"name": "API码", "staff": userids[:2], "daily_cap": 3})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == f"lc-{body['id']}" and body["staff_now"] == sorted(userids[:2])
    assert api.get(f"/live-codes/{body['id']}").json()["name"] == "API码"
    too_many = api.post("/live-codes", {"name": "x", "staff": ["nobody"]})
    assert too_many.status_code == 400 and "nobody" in too_many.json()["message"]
    changed = api.client.put(
        f"/api/v1/live-codes/{body['id']}",
        {"name": "API码2", "staff": userids[:1]},
        content_type="application/json",
        **api._headers(),
    )
    assert changed.status_code == 200 and changed.json()["staff_now"] == userids[:1]
    stats = api.get(f"/live-codes/{body['id']}/stats").json()
    assert stats["adds"] == 0 and len(stats["days"]) == 30
    card = api.post(f"/staff-cards/{userids[0]}")
    assert card.status_code == 200 and card.json()["state"].startswith("sc-")
    assert [c["userid"] for c in api.get("/staff-cards").json()] == [userids[0]]
    assert api.delete(f"/live-codes/{body['id']}").status_code == 204
    assert api.get(f"/live-codes/{body['id']}").status_code == 404

    manager = _api(users, users[Role.MANAGER], corp, ["read", "write"])
    assert manager.get("/live-codes").status_code == 200
    assert manager.post("/live-codes", {"name": "m", "staff": userids[:1]}).status_code == 403
    staff = _api(users, users[Role.STAFF], corp, ["read"])
    assert staff.get("/live-codes").status_code == 403
