"""Console pages and the REST API for lost customers, churn stats, the pool and the settings:
what each role may see and do, another corp's rows out of reach, bad input refused with nothing
written, audit rows for reasons and settings."""

from __future__ import annotations

import pytest
from django.test import Client

from qike.api import services as api_services
from qike.audit.models import AuditEntry
from qike.core.models import Corp
from qike.customers.models import Customer, FollowRelation
from qike.org.access import access_for
from qike.org.models import Membership, Role, Staff
from qike.retention import services
from qike.retention.models import LostCustomer, PoolEntry, PoolStatus, RetentionSettings
from qike.retention.tasks import return_to_pool_job
from tests.acquisition.conftest import advance
from tests.api.conftest import BASE, Api
from tests.retention.conftest import customer_deletes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lost(corp, team, users, sim_corp) -> LostCustomer:
    """The member's customer deleted them; the staff user is that member."""
    Membership.objects.filter(user=users[Role.STAFF]).update(staff=team.member)
    customer_deletes(sim_corp, team.customer.external_userid, team.member.userid)
    return LostCustomer.objects.get(customer=team.customer)


@pytest.fixture
def stranger() -> Customer:
    other = Corp.objects.create(corpid="wwstranger", name="别家")
    member = Staff.objects.create(corp=other, userid="s1")
    customer = Customer.objects.create(corp=other, external_userid="wm-stranger")
    relation = FollowRelation.objects.create(corp=other, customer=customer, staff=member)
    LostCustomer.objects.create(
        corp=other,
        relation=relation,
        customer=customer,
        staff=member,
        kind="deleted_by_customer",
        lost_at=relation.added_at,
    )
    PoolEntry.objects.create(
        corp=other,
        customer=customer,
        status=PoolStatus.IN_POOL,
        reason="no_follower",
        pooled_at=relation.added_at,
    )
    return customer


def _api(corp, users, role: str, scopes: str = "read write") -> Api:
    admin = access_for(users[Role.CORP_ADMIN], corp)
    _token, secret = api_services.create_token(
        access=admin, user=users[role], name=f"t-{role}", scopes=scopes
    )
    return Api(secret)


def test_lost_customers_page_reasons_and_roles(corp, users, team, lost, stranger):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(users[Role.CORP_ADMIN])
    page = client.get("/lost-customers/").content.decode()
    assert f'id="lost-{lost.pk}"' in page and "价格原因" in page
    filtered = client.get("/lost-customers/", {"won_back": "yes"}).content.decode()
    assert f'id="lost-{lost.pk}"' not in filtered
    assert (
        f'id="lost-{lost.pk}"' in client.get("/lost-customers/", {"reason": "-"}).content.decode()
    )

    answer = client.post(
        f"/lost-customers/{lost.pk}/reason/", {"reason": "价格原因", "note": "嫌贵"}
    )
    assert answer.status_code == 302
    lost.refresh_from_db()
    assert (lost.reason, lost.reason_note) == ("价格原因", "嫌贵")
    row = AuditEntry.objects.get(action="retention.reason")
    assert row.after == {"reason": "价格原因", "note": "嫌贵"} and row.via == "console"
    assert row.before == {"reason": "", "note": ""}

    # A reason the corp does not offer: refused, nothing written.
    client.post(f"/lost-customers/{lost.pk}/reason/", {"reason": "乱写", "note": "x"}, follow=True)
    lost.refresh_from_db()
    assert (
        lost.reason == "价格原因"
        and AuditEntry.objects.filter(action="retention.reason").count() == 1
    )
    # Another corp's record: not found.
    other = LostCustomer.objects.get(corp__corpid="wwstranger")
    assert client.post(f"/lost-customers/{other.pk}/reason/", {"reason": ""}).status_code == 404

    stats = client.get("/churn-stats/").content.decode()
    assert "1 lost (0 deleted by staff), 0 won back." in stats

    client.force_login(users[Role.STAFF])  # the member themselves
    assert f'id="lost-{lost.pk}"' in client.get("/lost-customers/").content.decode()
    client.force_login(users[Role.MANAGER])  # leads no department: sees no one's
    assert f'id="lost-{lost.pk}"' not in client.get("/lost-customers/").content.decode()
    assert client.post(f"/lost-customers/{lost.pk}/reason/", {"reason": ""}).status_code == 403


def test_settings_page_is_for_admins_and_checks_input(corp, users):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for role in (Role.OPERATIONS, Role.MANAGER, Role.STAFF):
        client.force_login(users[role])
        assert client.get("/retention-settings/").status_code == 403
    client.force_login(users[Role.CORP_ADMIN])
    assert client.get("/retention-settings/").status_code == 200
    good = {
        "alert_staff": "on",
        "delete_limit": "5",
        "reasons": "太贵\n没需要\n",
        "pool_idle_days": "14",
        "claim_limit": "8",
    }
    assert client.post("/retention-settings/", {**good, "claim_limit": "-1"}).status_code == 400
    assert not AuditEntry.objects.filter(action="retention.settings").exists()
    assert client.post("/retention-settings/", good).status_code == 302
    conf = RetentionSettings.objects.get(corp=corp)
    assert (conf.alert_manager, conf.delete_limit, conf.reasons) == (False, 5, ["太贵", "没需要"])
    assert (conf.pool_idle_days, conf.claim_limit) == (14, 8)
    row = AuditEntry.objects.get(action="retention.settings")
    assert row.after["claim_limit"] == 8 and row.before["claim_limit"] == 20


def test_pool_page_claims_and_tenancy(corp, users, team, lost, stranger, sim):
    services.settings_for(corp)
    advance(sim, 31 * 86400)  # nobody worked the customers for 30 days
    return_to_pool_job.call_local()
    entry = PoolEntry.objects.filter(corp=corp, status=PoolStatus.IN_POOL).first()
    assert entry is not None
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(users[Role.STAFF])
    page = client.get("/pool/").content.decode()
    assert f'id="pool-{entry.customer_id}"' in page and "20 of 20 claims left today" in page
    assert f'id="pool-{stranger.pk}"' not in page
    assert client.post(f"/pool/{stranger.pk}/claim/").status_code == 404
    assert client.post(f"/pool/{entry.customer_id}/claim/").status_code == 302
    entry.refresh_from_db()
    assert entry.status == PoolStatus.CLAIMED and entry.owner == team.member
    assert "19 of 20 claims left today" in client.get("/pool/").content.decode()
    assert client.post(f"/pool/{entry.customer_id}/give-back/").status_code == 302
    entry.refresh_from_db()
    assert entry.status == PoolStatus.IN_POOL


def test_api(corp, users, team, lost, stranger, sim):
    admin = _api(corp, users, Role.CORP_ADMIN)
    page = admin.get("/retention/lost-customers").json()
    assert page["total"] == 1 and page["items"][0]["kind"] == "deleted_by_customer"
    assert page["items"][0]["staff"] == team.member.userid and page["items"][0]["alert"] == "sent"
    assert admin.get("/retention/lost-customers", won_back="true").json()["total"] == 0
    answer = admin.post(
        f"/retention/lost-customers/{lost.pk}/reason", {"reason": "其他", "note": "搬家"}
    )
    assert answer.status_code == 200 and answer.json()["reason"] == "其他"
    bad = admin.post(f"/retention/lost-customers/{lost.pk}/reason", {"reason": "不存在"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    other = LostCustomer.objects.get(corp__corpid="wwstranger")
    assert admin.post(f"/retention/lost-customers/{other.pk}/reason", {}).status_code == 404
    stats = admin.get("/retention/churn-stats").json()
    assert stats["total"]["lost"] == 1 and stats["staff"][0]["key"] == team.member.userid
    assert (
        admin.get("/retention/churn-stats", start="2030-01-02", end="2030-01-01").status_code == 400
    )

    settings = admin.get("/retention/settings").json()
    assert settings["claim_limit"] == 20
    put = admin.client.put(
        f"{BASE}/retention/settings",
        {**settings, "claim_limit": 1},
        content_type="application/json",
        **admin._headers(),
    )
    assert put.status_code == 200 and put.json()["claim_limit"] == 1
    staff = _api(corp, users, Role.STAFF)
    assert staff.get("/retention/settings").status_code == 403
    reader = _api(corp, users, Role.CORP_ADMIN, scopes="read")
    assert reader.post(f"/retention/lost-customers/{lost.pk}/reason", {}).status_code == 403

    # Pool: claim one (the limit is now 1), the second is refused with a clear error.
    advance(sim, 31 * 86400)
    return_to_pool_job.call_local()
    pool = staff.get("/retention/pool").json()
    assert pool["claims_left"] == 1 and pool["total"] >= 1
    assert all(i["external_userid"] != "wm-stranger" for i in pool["items"])
    first = pool["items"][0]["external_userid"]
    claimed = staff.post(f"/retention/pool/{first}/claim", {})
    assert claimed.status_code == 200 and claimed.json()["staff"] == team.member.userid
    second = pool["items"][1]["external_userid"]
    refused = staff.post(f"/retention/pool/{second}/claim", {})
    assert refused.status_code == 400 and "daily limit" in refused.json()["message"]
    assert staff.post("/retention/pool/wm-stranger/claim", {}).status_code == 404
    assert staff.post(f"/retention/pool/{first}/give-back").status_code == 204
    assert services.claims_left(access_for(users[Role.STAFF], corp)) == 0
