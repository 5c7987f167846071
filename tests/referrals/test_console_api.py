"""Referrals in the console and the REST API: who may do what, data scopes, another corp's rows,
bad input."""

from __future__ import annotations

import pytest

from qike.core.models import Corp
from qike.customers.models import Customer, FollowRelation, RelationStatus
from qike.org.access import access_for
from qike.org.models import Department, Membership, Role, Staff, StaffDepartment
from qike.referrals import services
from qike.referrals.models import Campaign, ReferralCode, RewardTask
from qike.referrals.services import CampaignSpec
from tests.api.conftest import Api, make_token
from tests.referrals.conftest import referrer, scan, today

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _customers_of(corp, userid: str) -> list[FollowRelation]:
    return list(
        FollowRelation.objects.filter(
            corp=corp, staff__userid=userid, status=RelationStatus.ACTIVE, is_half=False
        ).select_related("customer", "staff")
    )


@pytest.fixture
def two_members(corp, users, userids) -> tuple[str, str]:
    """(mine, other): the staff user's member and another, each with a confirmed customer; the
    manager manages a department holding `mine` but not `other`."""
    mine = Membership.objects.get(user=users[Role.STAFF]).staff
    if not _customers_of(corp, mine.userid):
        mine = next(
            Staff.objects.get(corp=corp, userid=u) for u in userids if _customers_of(corp, u)
        )
        Membership.objects.filter(user=users[Role.STAFF]).update(staff=mine)
    department = (
        Department.objects.filter(corp=corp, staffdepartment__staff=mine).order_by("-path").first()
    )
    Membership.objects.get(user=users[Role.MANAGER]).departments.set([department])
    inside = set(
        StaffDepartment.objects.filter(
            corp=corp, department__path__startswith=department.path
        ).values_list("staff__userid", flat=True)
    )
    other = next(u for u in userids if u not in inside and _customers_of(corp, u))
    return mine.userid, other


@pytest.fixture
def other_corp():
    """Another tenant with its own campaign, customer and relation (no WeCom behind it)."""
    corp = Corp.objects.create(
        corpid="wwOTHER", name="别家", secret="s", api_base_url="http://127.0.0.1:9"
    )
    staff = Staff.objects.create(corp=corp, userid="b_staff", name="别家员工")
    customer = Customer.objects.create(corp=corp, external_userid="b_wm", name="别家客户")
    relation = FollowRelation.objects.create(corp=corp, customer=customer, staff=staff)
    campaign = Campaign.objects.create(corp=corp, name="别家活动", starts_on=today())
    return {"corp": corp, "relation": relation, "campaign": campaign}


def test_console_roles_scopes_and_tenancy(
    client, corp, users, admin, campaign, two_members, other_corp
):
    mine, other = two_members
    own_code, _ = services.ensure_code(
        access=admin, campaign=campaign, relation=referrer(corp, mine)
    )
    other_code, _ = services.ensure_code(
        access=admin, campaign=campaign, relation=referrer(corp, other)
    )
    detail = f"/referrals/{campaign.pk}/"

    for role in (Role.CORP_ADMIN, Role.OPERATIONS):
        client.force_login(users[role])
        assert client.get("/referrals/").status_code == 200
        assert client.get("/referrals/new/").status_code == 200
        assert client.get(f"{detail}edit/").status_code == 200
        page = client.get(detail).content.decode()
        assert f'id="code-{own_code.pk}"' in page and f'id="code-{other_code.pk}"' in page

    client.force_login(users[Role.STAFF])
    assert client.get("/referrals/").status_code == 200
    assert client.get("/referrals/new/").status_code == 403
    assert client.post(f"{detail}edit/", {"name": "x"}).status_code == 403
    assert client.post(f"{detail}codes/bulk/", {"staff": [mine]}).status_code == 403
    page = client.get(detail).content.decode()
    assert f'id="code-{own_code.pk}"' in page and f'id="code-{other_code.pk}"' not in page
    # Staff generate codes for their own customers only.
    fresh = _customers_of(corp, mine)[-1]
    ReferralCode.objects.filter(customer=fresh.customer, staff=fresh.staff).delete()
    found = client.get(detail, {"q": fresh.customer.name}).content.decode()
    assert f'id="relation-{fresh.pk}"' in found
    assert client.post(f"{detail}codes/", {"relation": fresh.pk}).status_code == 302
    assert ReferralCode.objects.filter(campaign=campaign, customer=fresh.customer).exists()
    theirs = _customers_of(corp, other)[-1]
    assert client.post(f"{detail}codes/", {"relation": theirs.pk}).status_code == 403
    assert (
        f'id="relation-{theirs.pk}"'
        not in client.get(detail, {"q": theirs.customer.name}).content.decode()
    )
    # Another corp's rows are not found.
    assert (
        client.post(f"{detail}codes/", {"relation": other_corp["relation"].pk}).status_code == 404
    )
    assert client.get(f"/referrals/{other_corp['campaign'].pk}/").status_code == 404

    client.force_login(users[Role.MANAGER])
    page = client.get(detail).content.decode()
    assert f'id="code-{own_code.pk}"' in page and f'id="code-{other_code.pk}"' not in page
    assert client.get("/referrals/new/").status_code == 403


def test_console_campaign_editor_and_bulk(client, corp, users, tag, two_members):
    mine, _other = two_members
    client.force_login(users[Role.OPERATIONS])
    form = {
        "name": "夏季老带新",
        "starts_on": "2026-06-01",
        "ends_on": "2026-05-01",
        "reward_every": "3",
        "reward_text": "送礼品",
        "tags": [tag.wecom_id],
        "skip_verify": "on",
    }
    bad = client.post("/referrals/new/", form, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert bad.status_code == 400 and "结束日期不能早于开始日期" in bad.content.decode()
    assert Campaign.objects.count() == 0
    form.update(starts_on=str(today()), ends_on="")
    response = client.post("/referrals/new/", form)
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert list(campaign.tags.all()) == [tag] and campaign.ends_on is None

    response = client.post(f"/referrals/{campaign.pk}/codes/bulk/", {"staff": [mine]})
    assert response.status_code == 302
    assert ReferralCode.objects.filter(campaign=campaign).count() == len(_customers_of(corp, mine))
    listing = client.get("/referrals/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f'id="campaign-{campaign.pk}"' in listing and "进行中" in listing


def test_api_campaigns_codes_referrals_leaderboard_and_rewards(
    corp, users, campaign, two_members, sim_corp, other_corp
):
    mine, other = two_members
    admin_api = Api(make_token(corp, users[Role.CORP_ADMIN]))
    staff_api = Api(make_token(corp, users[Role.STAFF]))
    reader = Api(make_token(corp, users[Role.CORP_ADMIN], "read"))

    body = {"name": "API 活动", "starts_on": str(today()), "reward_every": 1, "reward_text": "券"}
    assert reader.post("/referral-campaigns", body).json()["code"] == "insufficient_scope"
    assert staff_api.post("/referral-campaigns", body).status_code == 403
    bad = admin_api.post("/referral-campaigns", {**body, "reward_text": ""})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    created = admin_api.post("/referral-campaigns", {**body, "tags": []})
    assert created.status_code == 201, created.content
    api_campaign = created.json()
    assert api_campaign["status"] == "active" and Campaign.objects.filter(corp=corp).count() == 2
    changed = admin_api.client.put(
        f"/api/v1/referral-campaigns/{api_campaign['id']}",
        {**body, "name": "API 活动（改）"},
        content_type="application/json",
        **admin_api._headers(),
    )
    assert changed.status_code == 200 and changed.json()["name"] == "API 活动（改）"
    assert admin_api.get(f"/referral-campaigns/{other_corp['campaign'].pk}").status_code == 404
    assert {c["id"] for c in staff_api.get("/referral-campaigns").json()} == {
        campaign.pk,
        api_campaign["id"],
    }

    own = referrer(corp, mine)
    path = f"/referral-campaigns/{api_campaign['id']}/codes"
    first = staff_api.post(path, {"external_userid": own.customer.external_userid, "userid": mine})
    assert first.status_code == 201, first.content
    code = first.json()
    assert code["state"] == f"rf-{code['id']}" and code["share_url"].endswith("/")
    again = staff_api.post(path, {"external_userid": own.customer.external_userid, "userid": mine})
    assert again.status_code == 200 and again.json()["id"] == code["id"]
    theirs = referrer(corp, other)
    refused = staff_api.post(
        path, {"external_userid": theirs.customer.external_userid, "userid": other}
    )
    assert refused.status_code == 403
    assert staff_api.post(path, {"external_userid": "nobody", "userid": mine}).status_code == 404
    admin_api.post(path, {"external_userid": theirs.customer.external_userid, "userid": other})
    assert [c["id"] for c in staff_api.get(path).json()["items"]] == [code["id"]]
    assert len(admin_api.get(path).json()["items"]) == 2
    assert staff_api.post(f"{path}/bulk", {"staff": [mine]}).status_code == 403
    bulk = admin_api.post(f"{path}/bulk", {"staff": [mine]})
    assert bulk.status_code == 200 and bulk.json()["existing"] == 1

    scan(sim_corp, ReferralCode.objects.get(pk=code["id"]), "接口朋友")
    referrals = staff_api.get("/referrals", campaign=api_campaign["id"]).json()
    assert referrals["total"] == 1
    item = referrals["items"][0]
    assert (item["referrer"], item["staff"], item["counted"]) == (
        own.customer.external_userid,
        mine,
        True,
    )
    board = staff_api.get(f"/referral-campaigns/{api_campaign['id']}/leaderboard", period="week")
    assert board.status_code == 200
    assert [(r["rank"], r["referrer"], r["referrals"]) for r in board.json()["referrers"]] == [
        (1, own.customer.external_userid, 1)
    ]
    assert board.json()["staff"] == [
        {"staff": mine, "staff_name": own.staff.name, "referrals": 1, "referrers": 1}
    ]
    assert (
        staff_api.get(
            f"/referral-campaigns/{api_campaign['id']}/leaderboard", period="year"
        ).status_code
        == 422
    )

    (reward,) = staff_api.get("/reward-tasks", status="open").json()["items"]
    assert (reward["milestone"], reward["reward_text"], reward["staff"]) == (1, "券", mine)
    done = staff_api.post(f"/reward-tasks/{reward['id']}/done")
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert done.json()["done_by"] == "u-staff"
    assert staff_api.get("/reward-tasks", status="open").json()["items"] == []

    # Someone else's reward is forbidden to a staff member; another corp's is not found.
    task = RewardTask.objects.get()
    RewardTask.objects.filter(pk=task.pk).update(
        staff=Staff.objects.get(corp=corp, userid=other), status="open"
    )
    assert staff_api.post(f"/reward-tasks/{task.pk}/done").status_code == 403
    assert (
        Api(make_token(other_corp["corp"], _other_admin(other_corp["corp"])))
        .post(f"/reward-tasks/{task.pk}/done")
        .status_code
        == 404
    )


def _other_admin(corp):
    from django.contrib.auth.models import User

    user = User.objects.create_user("b-admin", password="pw")
    Membership.objects.create(user=user, corp=corp, role=Role.CORP_ADMIN)
    return user


def test_services_refuse_outside_scope_and_half_added_referrers(corp, users, campaign, two_members):
    from django.core.exceptions import PermissionDenied, ValidationError

    mine, other = two_members
    staff = access_for(users[Role.STAFF], corp)
    with pytest.raises(PermissionDenied):
        services.ensure_code(access=staff, campaign=campaign, relation=referrer(corp, other))
    with pytest.raises(PermissionDenied):
        services.save_campaign(
            access=staff, spec=CampaignSpec(name="x", starts_on=today(), reward_every=0)
        )
    relation = referrer(corp, mine)
    FollowRelation.objects.filter(pk=relation.pk).update(is_half=True)
    relation.refresh_from_db()
    with pytest.raises(ValidationError):
        services.ensure_code(access=staff, campaign=campaign, relation=relation)
    assert ReferralCode.objects.count() == 0
