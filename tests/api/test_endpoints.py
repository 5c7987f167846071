"""Every read endpoint's happy path, the customer filters, pagination and the error format."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from qike.core import clock
from qike.customers.models import Customer, FollowRelation, RelationStatus
from qike.intake.models import EventStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(world, api_as):
    return api_as("admin")


def ids(page: dict) -> list[str]:
    return sorted(c["external_userid"] for c in page["items"])


def test_customers_list_each_with_its_relations_and_tags(admin):
    page = admin.get("/customers").json()
    assert ids(page) == ["wm_east", "wm_lost", "wm_market", "wm_sales", "wm_shared"]
    assert page["total"] == 5 and page["total_capped"] is False and page["next_cursor"] == ""
    shared = next(c for c in page["items"] if c["external_userid"] == "wm_shared")
    assert {r["staff"]["userid"]: [t["name"] for t in r["tags"]] for r in shared["relations"]} == {
        "east": ["新客"],
        "market": ["VIP"],
    }


def test_phone_numbers_are_masked_in_lists_and_whole_on_one_customer(admin, world):
    listed = admin.get("/relations", q="老客户").json()["items"][0]
    assert listed["remark_mobiles"] == ["138****5678"]
    one = admin.get("/customers/wm_east").json()
    assert one["relations"][0]["remark_mobiles"] == ["13812345678"]
    relation = admin.get(f"/relations/{world.relations[('wm_east', 'east')].pk}").json()
    assert relation["remark_mobiles"] == ["13812345678"]
    assert relation["customer"]["name"] == "华东客户"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"staff": "market"}, ["wm_market", "wm_shared"]),
        ({"staff": ["market", "sales"]}, ["wm_market", "wm_sales", "wm_shared"]),
        ({"department": 2}, ["wm_east", "wm_lost", "wm_sales", "wm_shared"]),  # 销售部 + 华东组
        ({"department": 3}, ["wm_east", "wm_lost", "wm_shared"]),
        ({"tags": "etVIP"}, ["wm_east", "wm_shared"]),
        ({"tags": ["etVIP", "etNEW"], "tag_mode": "any"}, ["wm_east", "wm_market", "wm_shared"]),
        ({"tags": ["etVIP", "etNEW"], "tag_mode": "all"}, []),  # no single relation has both
        ({"tags": "etVIP", "tag_mode": "none", "staff": "east"}, ["wm_lost", "wm_shared"]),
        ({"add_way": 3}, ["wm_market"]),
        ({"state": "spring"}, ["wm_east"]),
        ({"status": "deleted_by_customer"}, ["wm_lost"]),
        ({"q": "共同"}, ["wm_shared"]),
        ({"q": "老客"}, ["wm_east"]),
    ],
)
def test_customer_filters(admin, params, expected):
    response = admin.get("/customers", **params)
    assert response.status_code == 200, response.content
    assert ids(response.json()) == expected


def test_added_date_filters_are_inclusive_days(admin):
    today = clock.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    two_days_ago = (today - dt.timedelta(days=2)).isoformat()
    recent = admin.get("/relations", added_from=two_days_ago).json()
    assert {(r["customer"]["external_userid"], r["staff"]["userid"]) for r in recent["items"]} == {
        ("wm_east", "east"),
        ("wm_sales", "sales"),
    }
    older = admin.get("/relations", added_to=two_days_ago).json()
    assert older["total"] == 5  # everything but yesterday's


def test_relations_page_through_with_a_cursor_and_keep_the_total(admin):
    first = admin.get("/relations", size=4).json()
    assert len(first["items"]) == 4 and first["total"] == 6 and first["next_cursor"]
    second = admin.get("/relations", size=4, cursor=first["next_cursor"]).json()
    assert len(second["items"]) == 2 and second["next_cursor"] == ""
    seen = [r["id"] for r in first["items"] + second["items"]]
    assert len(set(seen)) == 6
    added = [r["added_at"] for r in first["items"] + second["items"]]
    assert added == sorted(added, reverse=True)


def test_customers_page_through_with_a_cursor(admin):
    first = admin.get("/customers", size=3).json()
    second = admin.get("/customers", size=3, cursor=first["next_cursor"]).json()
    assert len(first["items"]) == 3 and len(second["items"]) == 2
    assert set(ids(first)).isdisjoint(ids(second))


def test_totals_say_when_they_are_capped(admin, world, monkeypatch):
    import qike.customers.queries as queries

    real = queries.count_capped
    monkeypatch.setattr("qike.api.pagination.count_capped", lambda qs: real(qs, cap=2))
    page = admin.get("/relations").json()
    assert page["total"] == 2 and page["total_capped"] is True
    assert len(page["items"]) == 6


@pytest.mark.parametrize("cursor", ["not-a-cursor", "WzEsMl0", "e30", "!!!"])
def test_a_bad_cursor_is_400(admin, cursor):
    for path in ("/customers", "/relations", "/events"):
        response = admin.get(path, cursor=cursor)
        assert response.status_code == 400
        assert response.json()["code"] == "bad_cursor"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"size": 0}, "size"),
        ({"size": 1000}, "size"),
        ({"tag_mode": "some"}, "tag_mode"),
        ({"added_from": "yesterday"}, "added_from"),
        ({"department": "sales"}, "department"),
        ({"status": "gone"}, "status"),
        ({"added_from": "2025-02-01", "added_to": "2025-01-01"}, ""),
    ],
)
def test_bad_parameters_are_422_naming_the_field(admin, params, field):
    response = admin.get("/customers", **params)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["message"]
    assert body["details"]["errors"]


def test_a_bad_json_body_is_400_and_a_wrong_one_422(admin):
    raw = admin.client.post(
        "/api/v1/tag-groups",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {admin.token}",
    )
    assert raw.status_code == 400 and raw.json()["code"] == "bad_request"
    wrong = admin.post("/tag-groups", {"name": "x", "tags": []})
    assert wrong.status_code == 422 and "tags" in wrong.json()["message"]


def test_huge_ids_are_not_found_or_refused_never_a_crash(admin):
    assert admin.get(f"/relations/{2**63 - 1}").status_code == 404
    assert admin.get(f"/relations/{2**70}").status_code == 422
    assert admin.get("/customers", department=2**70).status_code == 422


def test_text_that_no_database_stores_is_refused(admin):
    response = admin.get("/customers", q="a\x00b")
    assert response.status_code == 422


def test_customer_detail_and_missing_customer(admin):
    customer = admin.get("/customers/wm_shared").json()
    assert customer["name"] == "共同客户"
    assert {r["staff"]["userid"] for r in customer["relations"]} == {"east", "market"}
    missing = admin.get("/customers/wm_nobody")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_tag_groups_with_usage_counts_and_one_tag(admin):
    page = admin.get("/tag-groups").json()
    assert page["total"] == 1 and page["page"] == 1
    group = page["items"][0]
    assert group["name"] == "客户等级"
    assert [(t["name"], t["usage"]) for t in group["tags"]] == [("VIP", 2), ("新客", 2)]
    assert admin.get("/tag-groups/etGROUP").json()["id"] == "etGROUP"
    tag = admin.get("/tags/etNEW").json()
    assert tag["group_name"] == "客户等级" and tag["usage"] == 2
    assert admin.get("/tags/etNOPE").status_code == 404


def test_usage_counts_only_active_relations(admin, world):
    FollowRelation.objects.filter(pk=world.relations[("wm_east", "east")].pk).update(
        status=RelationStatus.DELETED_BY_STAFF
    )
    assert admin.get("/tags/etVIP").json()["usage"] == 1


def test_staff_with_customer_counts(admin):
    page = admin.get("/staff").json()
    counts = {s["userid"]: s["customer_count"] for s in page["items"]}
    assert counts == {"east": 2, "gone": 0, "market": 2, "sales": 1}  # wm_lost is not counted
    assert admin.get("/staff", department=2).json()["total"] == 2
    assert [s["userid"] for s in admin.get("/staff", status=5).json()["items"]] == ["gone"]
    assert [s["userid"] for s in admin.get("/staff", q="市场").json()["items"]] == ["market"]
    sales = admin.get("/staff/sales").json()
    assert sales["departments"] == [{"id": 2, "name": "销售部", "is_leader": True}]
    assert admin.get("/staff/nobody").status_code == 404


def test_small_lists_page_by_number(admin):
    first = admin.get("/staff", size=3).json()
    second = admin.get("/staff", size=3, page=2).json()
    assert first["total"] == second["total"] == 4
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    assert admin.get("/staff", page=9).json()["items"] == []


def test_departments_flat_and_as_a_tree(admin):
    flat = admin.get("/departments").json()
    assert [(d["id"], d["path"], d["staff_count"]) for d in flat["items"]] == [
        (1, [1], 0),
        (2, [1, 2], 1),
        (3, [1, 2, 3], 1),
        (4, [1, 4], 1),  # the member who left is not counted
    ]
    (root,) = admin.get("/departments/tree").json()
    assert root["name"] == "总部"
    assert sorted(c["name"] for c in root["children"]) == ["市场部", "销售部"]
    sales = next(c for c in root["children"] if c["id"] == 2)
    assert [c["name"] for c in sales["children"]] == ["华东组"]
    assert admin.get("/departments/3").json()["parent_id"] == 2
    assert admin.get("/departments/99").status_code == 404


def test_events_list_filter_and_get(admin, world):
    page = admin.get("/events").json()
    assert page["total"] == 2 and "payload" not in page["items"][0]
    failed = admin.get("/events", status="failed").json()["items"]
    assert [e["id"] for e in failed] == [world.events["failed"].pk]
    assert failed[0]["last_error"].startswith("OperationalError")
    by_kind = admin.get("/events", kind="change_external_contact/edit_external_contact").json()
    assert [e["id"] for e in by_kind["items"]] == [world.events["done"].pk]
    one = admin.get(f"/events/{world.events['failed'].pk}").json()
    assert "del_external_contact" in one["payload"]
    assert admin.get("/events/999999").status_code == 404


def test_replaying_a_failed_event_applies_it(admin, world):
    event = world.events["failed"]
    response = admin.post(f"/events/{event.pk}/replay")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == EventStatus.DONE and body["attempts"] == 2 and body["last_error"] == ""
    relation = FollowRelation.objects.get(pk=world.relations[("wm_east", "east")].pk)
    assert relation.status == RelationStatus.DELETED_BY_STAFF


def test_unknown_paths_under_api_answer_in_the_error_format(admin):
    response = admin.get("/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_messages_follow_the_request_language(world, api_as):
    api = api_as("admin")
    english = api.get("/customers", size=0).json()["message"]
    chinese = (
        Client()
        .get(
            "/api/v1/customers",
            {"size": 0},
            HTTP_AUTHORIZATION=f"Bearer {api.token}",
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
        .json()["message"]
    )
    assert english.startswith("The request is not valid")
    assert chinese != english and "请求" in chinese


def test_openapi_document_and_docs_page(world):
    client = Client()
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "Qike API"
    assert schema["info"]["version"]
    for path in ("/api/v1/customers", "/api/v1/relations/{relation_id}/tags", "/api/v1/events"):
        assert path in schema["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"swagger-ui-bundle.js" in docs.content and b"cdn" not in docs.content.lower()
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert client.get("/api/docs/assets/..%2Fsettings.py").status_code == 404


def test_no_customer_rows_are_written_by_reads(admin):
    before = Customer.objects.count()
    admin.get("/customers")
    admin.get("/relations")
    assert Customer.objects.count() == before


def _more_customers(world, count: int, batch: int) -> None:
    staff = [r.staff for r in world.relations.values()][:2]
    tag = world.relations[("wm_east", "east")].tag_assignments.first().tag
    for n in range(count):
        customer = Customer.objects.create(corp=world.corp, external_userid=f"wm_more{batch}_{n}")
        for member in staff:
            relation = FollowRelation.objects.create(
                corp=world.corp, customer=customer, staff=member, added_at=clock.now()
            )
            relation.tag_assignments.create(corp=world.corp, tag=tag)


@pytest.mark.parametrize("path", ["/customers", "/relations", "/staff", "/tag-groups", "/events"])
def test_list_queries_do_not_grow_with_the_rows(world, api_as, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = api_as("manager")
    admin = api_as("admin")
    api.get("/token"), admin.get("/token")  # record last use now, not inside the measured calls
    counts = []
    for batch in range(2):
        with CaptureQueriesContext(connection) as manager_queries:
            api.get(path)
        with CaptureQueriesContext(connection) as admin_queries:
            admin.get(path)
        counts.append((len(manager_queries), len(admin_queries)))
        _more_customers(world, 8, batch)
    assert counts[0] == counts[1], counts


def test_a_wrong_method_is_405_in_the_error_format(admin):
    response = admin.client.put(
        "/api/v1/customers", {}, content_type="application/json", **admin._headers()
    )
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response.json()["details"]["allowed"] == ["GET"]
    assert response["Allow"] == "GET"


@pytest.mark.parametrize("role", ["ops", "staff"])
def test_only_corp_admins_get_whole_phone_numbers(api_as, world, role):
    """The console's rule: phone numbers are personal data, whole only for corp admins."""
    client = api_as(role)
    relation = client.get(f"/relations/{world.relations[('wm_east', 'east')].pk}").json()
    assert relation["remark_mobiles"] == ["138****5678"]
    one = client.get("/customers/wm_east").json()
    assert one["relations"][0]["remark_mobiles"] == ["138****5678"]
