"""Console pages and API endpoints of acquisition links, and who may do what.

Corp admins and operations create, edit and delete links and set pricing; managers read; sales
staff have no access (403)."""

from __future__ import annotations

import pytest

from qike.acquisition import links
from qike.acquisition.links import LinkSpec
from qike.acquisition.models import AcquisitionLink, LinkAdd, QuotaAlert
from qike.api import services as api_services
from qike.core import clock
from qike.core.services import client_for
from qike.org.access import access_for
from qike.org.models import Role
from tests.acquisition.test_links import click
from tests.api.conftest import Api

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def _form(userids: list[str], **extra) -> dict:
    return {
        "name": "小红书投放",
        "staff": userids,
        "skip_verify": "on",
        "channels": "xhs_note 小红书笔记\nxhs_live 小红书直播",
        **extra,
    }


def test_console_create_click_figures_edit_and_delete(client, corp, users, userids, sim_corp):
    client.force_login(users[Role.OPERATIONS])
    response = client.post("/acquisition-links/new/", _form(userids[:2]))
    assert response.status_code == 302, response.content.decode()
    link = AcquisitionLink.objects.get(corp=corp, name="小红书投放")
    with client_for(corp) as wecom:
        assert wecom.get_acquisition_link(link.link_id)["range"]["user_list"] == userids[:2]
    note = link.channels.get(name="小红书笔记")

    click(sim_corp, link, note.state, "王五")
    page = client.get(f"/acquisition-links/{link.pk}/", **ZH)
    html = page.content.decode()
    assert page.status_code == 200
    assert f"{link.url}?customer_channel={note.state}" in html and "复制" in html
    assert "获客客户" in html and "王五" in html and "¥0.00" in html
    listing = client.get("/acquisition-links/", **ZH).content.decode()
    assert "获客助手" in listing and 'id="balance">49' in listing

    assert client.post(f"/acquisition-links/{link.pk}/refresh/").status_code == 302
    assert (
        "<td>1</td><td>1</td><td>1</td>"
        in client.get(f"/acquisition-links/{link.pk}/").content.decode()
    )

    # Removing a sub-channel with customers is refused; renaming the link works.
    bad = client.post(
        f"/acquisition-links/{link.pk}/edit/", _form(userids[:1], channels="xhs_live 直播"), **ZH
    )
    assert bad.status_code == 400 and "不能删除" in bad.content.decode()
    ok = client.post(
        f"/acquisition-links/{link.pk}/edit/",
        _form(userids[:1], name="小红书二期", channels="xhs_note 笔记"),
    )
    assert ok.status_code == 302, ok.content.decode()
    with client_for(corp) as wecom:
        got = wecom.get_acquisition_link(link.link_id)
    assert got["link"]["link_name"] == "小红书二期" and got["range"]["user_list"] == userids[:1]

    empty = client.post("/acquisition-links/new/", _form(userids[:1], name=""), **ZH)
    assert empty.status_code == 400 and "请为链接命名" in empty.content.decode()
    bad_channel = client.post("/acquisition-links/new/", _form(userids[:1], channels="抖音"), **ZH)
    assert bad_channel.status_code == 400 and "第 1 行" in bad_channel.content.decode()
    assert AcquisitionLink.objects.count() == 1

    pricing = client.post("/acquisition-links/pricing/", {"free_adds": "0", "price_yuan": "2.5"})
    assert pricing.status_code == 302
    assert links.settings_for(corp).price_fen == 250

    assert client.post(f"/acquisition-links/{link.pk}/delete/").status_code == 302
    assert client.get(f"/acquisition-links/{link.pk}/").status_code == 404
    assert sim_corp.snapshot()["acquisition"]["links"][0]["status"] == "deleted"
    assert LinkAdd.objects.count() == 1  # its customers and costs stay


def test_balance_banner_and_dismiss(client, corp, users):
    QuotaAlert.objects.create(corp=corp, kind="balance_low", event_at=clock.now())
    client.force_login(users[Role.CORP_ADMIN])
    html = client.get("/acquisition-links/", **ZH).content.decode()
    assert "获客助手余额不足" in html
    assert client.post("/acquisition-links/alerts/dismiss/").status_code == 302
    assert "获客助手余额不足" not in client.get("/acquisition-links/", **ZH).content.decode()


def test_the_balance_banner_shows_on_every_page_to_those_who_manage_links(client, corp, users):
    QuotaAlert.objects.create(corp=corp, kind="balance_exhausted", event_at=clock.now())
    client.force_login(users[Role.OPERATIONS])
    for page in ("/", "/customers/", "/tags/"):
        html = client.get(page, **ZH).content.decode()
        assert 'data-banner="quota-' in html and "获客助手余量已用完" in html, page
    for role in (Role.MANAGER, Role.STAFF):  # they cannot top it up or dismiss it
        client.force_login(users[role])
        assert 'data-banner="quota-' not in client.get("/", **ZH).content.decode()
    client.force_login(users[Role.CORP_ADMIN])
    client.post("/acquisition-links/alerts/dismiss/")
    assert 'data-banner="quota-' not in client.get("/customers/", **ZH).content.decode()


def test_roles(client, corp, users, userids, admin):
    link = links.create_link(access=admin, spec=LinkSpec(name="只读", userids=(userids[0],)))
    client.force_login(users[Role.MANAGER])
    assert client.get("/acquisition-links/").status_code == 200
    assert client.get(f"/acquisition-links/{link.pk}/").status_code == 200
    assert client.get("/acquisition-links/new/").status_code == 403
    assert client.post("/acquisition-links/new/", _form(userids[:1])).status_code == 403
    assert client.post(f"/acquisition-links/{link.pk}/delete/").status_code == 403
    assert client.post("/acquisition-links/pricing/", {"free_adds": 1}).status_code == 403
    client.force_login(users[Role.STAFF])
    assert client.get("/acquisition-links/").status_code == 403
    assert client.get(f"/acquisition-links/{link.pk}/").status_code == 403
    assert AcquisitionLink.objects.filter(deleted_at__isnull=True).count() == 1


def _api(users, user, corp, scopes: list[str]) -> Api:
    admin = access_for(users[Role.CORP_ADMIN], corp)
    _token, secret = api_services.create_token(access=admin, user=user, name="t", scopes=scopes)
    return Api(secret)


def test_api(corp, users, userids, sim_corp):
    api = _api(users, users[Role.OPERATIONS], corp, ["read", "write"])
    created = api.post(
        "/acquisition-links",
        {"name": "API链接", "staff": userids[:2], "channels": [{"code": "sem", "name": "搜索"}]},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == f"ca-{body['id']}" and body["staff"] == userids[:2]
    channel = body["channels"][0]
    assert channel["state"] == f"ca-{body['id']}-sem" and channel["url"].endswith(channel["state"])

    link = AcquisitionLink.objects.get(pk=body["id"])
    answer = click(sim_corp, link, channel["state"])
    got = api.get(f"/acquisition-links/{body['id']}").json()
    assert got["customers"] == 1 and got["channels"][0]["customers"] == 1
    customers = api.get(f"/acquisition-links/{body['id']}/customers").json()
    assert customers[0]["external_userid"] == answer["external_userid"]
    assert customers[0]["channel"] == "搜索" and customers[0]["cost_fen"] == 0
    quota = api.get("/acquisition-links/quota").json()
    assert (quota["balance"], quota["free_adds"], quota["price_fen"]) == (49, 50, 300)

    too_many = api.post("/acquisition-links", {"name": "x", "staff": [f"u{i}" for i in range(101)]})
    assert too_many.status_code == 400 and "100" in too_many.json()["message"]
    unnamed = api.post("/acquisition-links", {"name": "", "staff": userids[:1]})
    assert unnamed.status_code == 400 and "name" in unnamed.json()["message"]
    changed = api.client.put(
        f"/api/v1/acquisition-links/{body['id']}",
        {"name": "API链接2", "staff": userids[:1], "channels": [{"code": "sem", "name": "搜索"}]},
        content_type="application/json",
        **api._headers(),
    )
    assert changed.status_code == 200 and changed.json()["name"] == "API链接2"
    assert api.delete(f"/acquisition-links/{body['id']}").status_code == 204
    assert api.get(f"/acquisition-links/{body['id']}").status_code == 404

    manager = _api(users, users[Role.MANAGER], corp, ["read", "write"])
    assert manager.get("/acquisition-links").status_code == 200
    assert (
        manager.post("/acquisition-links", {"name": "m", "staff": userids[:1]}).status_code == 403
    )
    staff = _api(users, users[Role.STAFF], corp, ["read"])
    assert staff.get("/acquisition-links").status_code == 403
    assert AcquisitionLink.objects.filter(deleted_at__isnull=True).count() == 0
