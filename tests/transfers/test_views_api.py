"""The console (new transfer → pre-flight → confirm, detail, refresh, resigned staff) and the REST
API over wecomsim; who may; another corp's transfers; bad input writing nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from qike.core.models import Corp
from qike.org.models import Role, Staff
from qike.transfers import services
from qike.transfers.models import ItemStatus, Transfer, TransferItem, TransferKind
from tests.api.conftest import Api, make_token
from tests.transfers.conftest import DAY, add_customer, advance

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def console(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_console_new_transfer_with_preflight_then_detail(corp, sim_corp, users, admin, userids):
    a, b, c = userids[0], userids[1], userids[2]
    busy, free = add_customer(sim_corp, a, "忙碌客户"), add_customer(sim_corp, a, "空闲客户")
    services.start_onjob(
        access=admin, handover_userid=a, takeover_userid=c, external_userids=[busy]
    )
    page = console(users[Role.OPERATIONS])
    picker = page.get("/transfers/new/", {"handover": a}).content.decode()
    assert "忙碌客户" in picker and "空闲客户" in picker

    body = {"handover": a, "takeover": b, "customers": [busy, free], "message": "您好"}
    confirm = page.post("/transfers/new/", {**body, "step": "preflight"})
    html = confirm.content.decode()
    assert confirm.status_code == 200
    held = html.split('id="held"')[1].split("</table>")[0]
    ready = html.split('id="ready"')[1].split("</ul>")[0]
    assert "忙碌客户" in held and "空闲客户" in ready and "忙碌客户" not in ready
    assert Transfer.objects.count() == 1  # the pre-flight sends nothing

    done = page.post("/transfers/new/", {**body, "customers": [free], "step": "confirm"})
    transfer = Transfer.objects.get(takeover__userid=b)
    assert done.status_code == 302 and done["Location"] == f"/transfers/{transfer.pk}/"
    assert transfer.message == "您好" and transfer.created_by == "u-operations"
    detail = page.get(done["Location"]).content.decode()
    assert "空闲客户" in detail and "等待接替" in detail
    listing = page.get("/transfers/").content.decode()
    assert f'id="transfer-{transfer.pk}"' in listing

    advance(sim_corp, DAY + 60)
    refreshed = page.post(f"/transfers/{transfer.pk}/refresh/")
    assert refreshed.status_code == 302
    assert transfer.items.get().status == ItemStatus.DONE


def test_console_bad_input_and_roles(corp, sim_corp, users, userids):
    a = userids[0]
    ext = add_customer(sim_corp, a)
    page = console(users[Role.CORP_ADMIN])
    bad = page.post(
        "/transfers/new/",
        {"handover": a, "takeover": a, "customers": [ext], "step": "confirm"},
    )
    assert bad.status_code == 400 and "不同" in bad.content.decode()
    unknown = page.post(
        "/transfers/new/",
        {"handover": a, "takeover": "nobody", "customers": [ext], "step": "confirm"},
    )
    assert unknown.status_code == 400
    assert Transfer.objects.count() == 0 and sim_corp.get("/transfers") == []
    staff = console(users[Role.STAFF])
    for url in ("/transfers/", "/transfers/new/", "/transfers/resigned/"):
        assert staff.get(url).status_code == 403
    # A manager without departments sees nobody: the handover is outside their scope.
    manager = console(users[Role.MANAGER])
    assert manager.get("/transfers/").status_code == 200
    out = manager.post(
        "/transfers/new/",
        {"handover": a, "takeover": userids[1], "customers": [ext], "step": "confirm"},
    )
    assert out.status_code == 403 and Transfer.objects.count() == 0


def test_console_resigned_staff_reassigned(corp, sim_corp, users, userids):
    gone, b, c = userids[0], userids[1], userids[2]
    customers = [add_customer(sim_corp, gone, f"离职客户{n}") for n in range(3)]
    sim_corp.post(f"/members/{gone}/leave")
    sim_corp.wait_for_callbacks()
    page = console(users[Role.CORP_ADMIN])
    html = page.get("/transfers/resigned/").content.decode()
    assert f'id="resigned-{gone}"' in html and "离职客户2" in html
    nobody = page.post("/transfers/resigned/", {"handover": gone, "customers": customers})
    assert nobody.status_code == 400 and Transfer.objects.count() == 0
    none_ticked = page.post("/transfers/resigned/", {"handover": gone, "takeovers": [b, c]})
    assert none_ticked.status_code == 400 and Transfer.objects.count() == 0  # not "everyone"
    assert "请至少选择一位客户" in none_ticked.content.decode()
    answer = page.post(
        "/transfers/resigned/", {"handover": gone, "customers": customers, "takeovers": [b, c]}
    )
    assert answer.status_code == 302
    assert sorted(
        Transfer.objects.filter(kind=TransferKind.RESIGNED).values_list(
            "takeover__userid", flat=True
        )
    ) == sorted([b, c])
    assert TransferItem.objects.filter(status=ItemStatus.WAITING).count() == 3
    assert "离职客户2" not in page.get("/transfers/resigned/").content.decode()


def test_api(corp, sim_corp, users, userids):
    a, b = userids[0], userids[1]
    ext = add_customer(sim_corp, a)
    api = Api(make_token(corp, users[Role.OPERATIONS]))
    body = {"handover": a, "takeover": b, "external_userids": [ext, "wm_unknown"]}
    check = api.post("/transfers/preflight", body)
    assert check.status_code == 200, check.content
    assert check.json()["ready"] == [ext]
    assert check.json()["held"][0]["reason"] == "not_follower"
    assert Transfer.objects.count() == 0

    # Bad input: a clear error and nothing written or sent.
    for bad, status in [
        ({**body, "takeover": "nobody"}, 400),
        ({**body, "takeover": a}, 400),
        ({**body, "message": "长" * 201}, 422),
        ({**body, "external_userids": []}, 422),
        ({**body, "external_userids": ["wm_unknown"]}, 400),
    ]:
        answer = api.post("/transfers", bad)
        assert answer.status_code == status, (bad, answer.content)
        assert answer.json()["code"] in ("invalid", "validation_error")
    assert Transfer.objects.count() == 0 and sim_corp.get("/transfers") == []

    started = api.post("/transfers", {**body, "message": "您好"})
    assert started.status_code == 201, started.content
    data = started.json()
    assert data["counts"] == {"waiting": 1} and data["held"][0]["external_userid"] == "wm_unknown"
    assert data["items"][0]["status"] == "waiting"
    listed = api.get("/transfers").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == data["id"]
    advance(sim_corp, DAY + 60)
    refreshed = api.post(f"/transfers/{data['id']}/refresh")
    assert refreshed.status_code == 200 and refreshed.json()["counts"] == {"done": 1}
    assert api.get(f"/transfers/{data['id']}").json()["items"][0]["status"] == "done"

    # Read-only tokens, staff, and another corp's transfers.
    reader = Api(make_token(corp, users[Role.OPERATIONS], scopes="read"))
    assert reader.post("/transfers", body).status_code == 403
    staff = Api(make_token(corp, users[Role.STAFF]))
    assert staff.get("/transfers").status_code == 403
    assert staff.post("/transfers/preflight", body).status_code == 403
    other = Corp.objects.create(corpid="wwOther", name="别家", secret="s")
    someone = Staff.objects.create(corp=other, userid="x")
    theirs = Transfer.objects.create(
        corp=other,
        kind=TransferKind.ONJOB,
        handover=someone,
        takeover=someone,
        created_at=started_at(data),
    )
    assert api.get(f"/transfers/{theirs.pk}").status_code == 404
    assert api.post(f"/transfers/{theirs.pk}/refresh").status_code == 404
    assert [t["id"] for t in api.get("/transfers").json()["items"]] == [data["id"]]


def started_at(data: dict):
    from django.utils.dateparse import parse_datetime

    return parse_datetime(data["created_at"])


def test_api_resigned(corp, sim_corp, users, userids):
    gone, b = userids[0], userids[1]
    ext = add_customer(sim_corp, gone)
    sim_corp.post(f"/members/{gone}/leave")
    sim_corp.wait_for_callbacks()
    api = Api(make_token(corp, users[Role.CORP_ADMIN]))
    listed = api.get("/transfers/unassigned", handover=gone)
    assert listed.status_code == 200
    assert ext in [u["external_userid"] for u in listed.json()]
    bad = api.post("/transfers/resigned", {"handover": gone, "takeovers": [gone]})
    assert bad.status_code == 400 and Transfer.objects.count() == 0
    answer = api.post("/transfers/resigned", {"handover": gone, "takeovers": [b]})
    assert answer.status_code == 201, answer.content
    assert ext in [i["external_userid"] for i in answer.json()[0]["items"]]
    assert ext not in [u["external_userid"] for u in api.get("/transfers/unassigned").json()]
