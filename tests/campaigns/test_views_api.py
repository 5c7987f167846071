"""The console (compose → pre-flight → send, results page, remind, cancel, policy) and the REST
API over wecomsim; who may; another corp's campaigns; bad input writing nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from qike.campaigns.models import Campaign, CampaignStatus
from qike.core import clock
from qike.core.models import Corp
from qike.org.models import Role
from tests.api.conftest import Api, make_token
from tests.campaigns.conftest import DISPATCHED, add_customer, advance, confirm

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def console(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_console_compose_preflight_send_and_results(corp, sim_corp, users, userids):
    a = userids[1]
    x, y = add_customer(sim_corp, a, "甲客户"), add_customer(sim_corp, a, "乙客户")
    sim_corp.post("/groupmsg/personal", userid=a, external_userids=[y], text="早安")
    page = console(users[Role.OPERATIONS])
    assert page.get("/campaigns/new/").status_code == 200

    body = {"title": "周末", "text": "周末特惠", "customers": f"{x}\n{y}", "follower_rule": "first"}
    check = page.post("/campaigns/new/", {**body, "step": "preflight"})
    html = check.content.decode()
    assert check.status_code == 200 and 'id="preflight"' in html
    skipped = html.split('id="skipped"')[1].split("</table>")[0]
    assert "今天已收到" in skipped and "乙客户" in skipped and y not in skipped  # named
    assert Campaign.objects.count() == 0

    sent = page.post("/campaigns/new/", {**body, "step": "confirm"})
    campaign = Campaign.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/campaigns/{campaign.pk}/"
    advance(sim_corp, DISPATCHED)
    confirm(sim_corp, campaign, a)
    assert page.post(f"/campaigns/{campaign.pk}/refresh/").status_code == 302
    detail = page.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "甲客户" in detail and 'id="history"' in detail
    counts = detail.split('id="counts"')[1].split("</p>")[0]
    assert "<b>1</b>" in counts  # one sent, one skipped
    listing = page.get("/campaigns/").content.decode()
    assert f'id="campaign-{campaign.pk}"' in listing and "周末" in listing

    bad = page.post("/campaigns/new/", {"text": "", "customers": x, "step": "confirm"})
    assert bad.status_code == 400 and 'id="problem"' in bad.content.decode()
    assert Campaign.objects.count() == 1


def test_console_policy_and_roles(corp, users):
    admin = console(users[Role.CORP_ADMIN])
    assert admin.post("/campaigns/policy/", {"limit_rule": "monthly"}).status_code == 302
    assert 'value="monthly" selected' in admin.get("/campaigns/").content.decode()
    ops = console(users[Role.OPERATIONS])
    assert ops.post("/campaigns/policy/", {"limit_rule": "daily"}).status_code == 403
    assert 'value="monthly" selected' in admin.get("/campaigns/").content.decode()
    for role in (Role.STAFF, Role.MANAGER):
        assert console(users[role]).get("/campaigns/").status_code == 403
        assert console(users[role]).get("/campaigns/new/").status_code == 403


def test_api_preflight_create_remind_cancel_and_tenancy(corp, sim_corp, users, userids):
    a = userids[1]
    x, y = add_customer(sim_corp, a, "甲"), add_customer(sim_corp, a, "乙")
    api = Api(make_token(corp, users[Role.OPERATIONS]))
    body = {"text": "上新", "external_userids": [x, y]}
    check = api.post("/campaigns/preflight", body)
    assert check.status_code == 200, check.content
    assert check.json()["to_send"] == 2 and check.json()["calls"] == 1

    made = api.post("/campaigns", body)
    assert made.status_code == 201, made.content
    data = made.json()
    assert data["status"] == "dispatched" and data["counts"]["pending"] == 2
    assert data["staff"][0]["userid"] == a
    pk = data["id"]
    advance(sim_corp, DISPATCHED)
    for _ in range(3):
        assert api.post(f"/campaigns/{pk}/remind", {}).json()["reminded"] == [a]
    held = api.post(f"/campaigns/{pk}/remind", {}).json()
    assert held["reminded"] == [] and a in held["held"]
    rows = api.get(f"/campaigns/{pk}/deliveries", status="pending").json()
    assert {r["external_userid"] for r in rows["items"]} == {x, y}

    cancelled = api.post(f"/campaigns/{pk}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["counts"]["cancelled"] == 2
    assert api.post(f"/campaigns/{pk}/cancel").status_code == 400

    # Bad input: a clear 400, nothing saved.
    for bad in (
        {"text": "", "external_userids": [x]},
        {"text": "hi", "external_userids": []},
        {"text": "hi", "external_userids": [x], "scheduled_at": "2000-01-01T00:00:00+08:00"},
        {"text": "hi", "external_userids": [x], "item_ids": list(range(1, 11))},
    ):
        answer = api.post("/campaigns", bad)
        assert answer.status_code in (400, 422), (bad, answer.content)
    assert Campaign.objects.count() == 1

    # Roles, read-only tokens and another corp.
    assert Api(make_token(corp, users[Role.STAFF])).get("/campaigns").status_code == 403
    reader = Api(make_token(corp, users[Role.OPERATIONS], scopes="read"))
    assert reader.post("/campaigns", body).status_code == 403
    assert api.get("/campaigns/policy").json() == {"limit_rule": "daily"}
    assert (
        api.client.put(
            "/api/v1/campaigns/policy",
            {"limit_rule": "monthly"},
            content_type="application/json",
            **api._headers(),
        ).status_code
        == 403
    )  # operations may not change the corp's policy
    other = Corp.objects.create(corpid="wwOtherApi", name="别家", secret="s")
    theirs = Campaign.objects.create(
        corp=other, title="别家", status=CampaignStatus.SCHEDULED, created_at=clock.now()
    )
    assert api.get(f"/campaigns/{theirs.pk}").status_code == 404
    assert [c["id"] for c in api.get("/campaigns").json()["items"]] == [pk]
