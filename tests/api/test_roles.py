"""What each role sees and may do through the API: the same rules as the console (Access)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ALL_CUSTOMERS = ["wm_east", "wm_lost", "wm_market", "wm_sales", "wm_shared"]


def customers(api) -> list[str]:
    return sorted(c["external_userid"] for c in api.get("/customers").json()["items"])


def forbidden(response) -> bool:
    return response.status_code == 403 and response.json()["code"] == "forbidden"


@pytest.mark.parametrize("role", ["admin", "ops", "root"])
def test_corp_wide_roles_see_every_customer_member_and_department(world, api_as, role):
    api = api_as(role, scopes="read")
    assert customers(api) == ALL_CUSTOMERS
    assert api.get("/relations").json()["total"] == 6
    assert api.get("/staff").json()["total"] == 4
    assert api.get("/departments").json()["total"] == 4
    assert api.get("/events").json()["total"] == 2
    assert api.get("/tags/etVIP").json()["usage"] == 2


def test_operations_may_not_replay_events(world, api_as):
    ops = api_as("ops")
    assert forbidden(ops.post(f"/events/{world.events['failed'].pk}/replay"))
    world.events["failed"].refresh_from_db()
    assert world.events["failed"].attempts == 1


def test_a_manager_sees_their_department_subtree_only(world, api_as):
    manager = api_as("manager")  # manages 销售部 (2), which holds 华东组 (3)
    assert customers(manager) == ["wm_east", "wm_lost", "wm_sales", "wm_shared"]
    shared = manager.get("/customers/wm_shared").json()
    assert [r["staff"]["userid"] for r in shared["relations"]] == ["east"]
    assert forbidden(manager.get("/customers/wm_market"))
    assert forbidden(manager.get(f"/relations/{world.relations[('wm_market', 'market')].pk}"))
    assert manager.get("/customers", staff="market").json()["items"] == []

    assert [s["userid"] for s in manager.get("/staff").json()["items"]] == ["east", "sales"]
    assert forbidden(manager.get("/staff/market"))
    assert [d["id"] for d in manager.get("/departments").json()["items"]] == [2, 3]
    (root,) = manager.get("/departments/tree").json()
    assert root["name"] == "销售部" and [c["name"] for c in root["children"]] == ["华东组"]
    assert forbidden(manager.get("/departments/4"))
    assert forbidden(manager.get("/staff", department=4))

    # Usage counts what the manager can see: VIP is on east's wm_east (seen) and market's wm_shared.
    assert manager.get("/tags/etVIP").json()["usage"] == 1


def test_a_manager_may_not_touch_events_or_the_tag_library(world, api_as):
    manager = api_as("manager")
    assert forbidden(manager.get("/events"))
    assert forbidden(manager.get(f"/events/{world.events['failed'].pk}"))
    assert forbidden(manager.post("/tag-groups", {"name": "经理的分组", "tags": ["甲"]}))
    assert forbidden(manager.patch("/tags/etVIP", {"name": "大客户"}))
    assert forbidden(manager.delete("/tag-groups/etGROUP"))
    relation = world.relations[("wm_market", "market")]
    assert forbidden(manager.post(f"/relations/{relation.pk}/tags", {"add": ["etNEW"]}))


def test_staff_see_their_own_customers_only(world, api_as):
    staff = api_as("staff")  # east
    assert customers(staff) == ["wm_east", "wm_lost", "wm_shared"]
    assert {r["staff"]["userid"] for r in staff.get("/relations").json()["items"]} == {"east"}
    assert forbidden(staff.get("/customers/wm_sales"))
    assert forbidden(staff.get(f"/relations/{world.relations[('wm_shared', 'market')].pk}"))
    assert staff.get("/customers/wm_shared").json()["relations"][0]["staff"]["userid"] == "east"
    assert [
        (t["name"], t["usage"]) for t in staff.get("/tag-groups").json()["items"][0]["tags"]
    ] == [
        ("VIP", 1),
        ("新客", 1),
    ]


def test_staff_may_not_read_the_organisation_or_events(world, api_as):
    staff = api_as("staff")
    for path in ("/staff", "/staff/east", "/departments", "/departments/tree", "/events"):
        assert forbidden(staff.get(path)), path
    relation = world.relations[("wm_sales", "sales")]
    assert forbidden(staff.post(f"/relations/{relation.pk}/tags", {"add": ["etNEW"]}))
    assert forbidden(staff.post("/tag-groups", {"name": "我的分组", "tags": ["甲"]}))


def test_a_role_change_applies_to_existing_tokens_at_once(world, api_as):
    from qike.org.models import Membership, Role

    api = api_as("ops", scopes="read")
    assert api.get("/events").status_code == 200
    Membership.objects.filter(user=world.users["ops"]).update(
        role=Role.STAFF, staff=world.relations[("wm_sales", "sales")].staff
    )
    assert forbidden(api.get("/events"))
    assert customers(api) == ["wm_sales"]
