"""Tag changes through the API go to WeCom first (here wecomsim, over HTTP) and come back in
Qike's copy; WeCom's refusals come back as 502 with WeCom's errcode."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from qike.customers.models import FollowRelation, RelationStatus, TimelineEntry, TimelineKind
from qike.org.models import Membership, Role
from qike.sync.full import full_sync
from qike.tags.models import Tag, TagGroup
from tests.api.conftest import Api, make_token

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def api(qike_corp) -> Api:
    full_sync(qike_corp)
    admin = User.objects.create_user("admin", password="pw")
    Membership.objects.create(user=admin, corp=qike_corp, role=Role.CORP_ADMIN)
    return Api(make_token(qike_corp, admin))


def sim_groups(sim_corp) -> dict[str, dict]:
    return {g["group_id"]: g for g in sim_corp.snapshot()["tag_groups"]}


def sim_tags_on(sim_corp, relation: FollowRelation) -> set[str]:
    for customer in sim_corp.snapshot()["customers"]:
        if customer["external_userid"] == relation.customer.external_userid:
            for follow in customer["follow_users"]:
                if follow["userid"] == relation.staff.userid:
                    return set(follow.get("tag_ids") or [])
    raise AssertionError("relation not in wecomsim")


def test_create_add_rename_reorder_and_delete_round_trip(api, sim_corp, qike_corp):
    created = api.post("/tag-groups", {"name": "API 分组", "tags": ["甲", "乙"], "order": 3})
    assert created.status_code == 201, created.content
    group = created.json()
    gid = group["id"]
    assert {t["name"] for t in group["tags"]} == {"甲", "乙"}
    assert {t["name"] for t in sim_groups(sim_corp)[gid]["tags"]} == {"甲", "乙"}

    added = api.post(f"/tag-groups/{gid}/tags", {"names": ["丙"]})
    assert added.status_code == 201, added.content
    assert {t["name"] for t in added.json()["tags"]} == {"甲", "乙", "丙"}
    assert len(sim_groups(sim_corp)[gid]["tags"]) == 3

    first = next(t for t in added.json()["tags"] if t["name"] == "甲")
    renamed = api.patch(f"/tags/{first['id']}", {"name": "甲级", "order": 9})
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["name"] == "甲级" and renamed.json()["order"] == 9
    in_sim = {t["id"]: t for t in sim_groups(sim_corp)[gid]["tags"]}
    assert in_sim[first["id"]]["name"] == "甲级" and in_sim[first["id"]]["order"] == 9

    regrouped = api.patch(f"/tag-groups/{gid}", {"name": "API 分组二", "order": 7})
    assert regrouped.status_code == 200, regrouped.content
    assert sim_groups(sim_corp)[gid]["group_name"] == "API 分组二"
    assert sim_groups(sim_corp)[gid]["order"] == 7

    second = next(t for t in added.json()["tags"] if t["name"] == "乙")
    assert api.delete(f"/tags/{second['id']}").status_code == 204
    assert second["id"] not in {t["id"] for t in sim_groups(sim_corp)[gid]["tags"]}
    assert not Tag.objects.filter(corp=qike_corp, wecom_id=second["id"]).exists()

    assert api.delete(f"/tag-groups/{gid}").status_code == 204
    assert gid not in sim_groups(sim_corp)
    assert not TagGroup.objects.filter(corp=qike_corp, wecom_id=gid).exists()
    assert api.get(f"/tag-groups/{gid}").status_code == 404


def test_mark_and_unmark_a_customer_round_trip(api, sim_corp, qike_corp):
    group = api.post("/tag-groups", {"name": "意向", "tags": ["高", "低"]}).json()
    high, low = (next(t["id"] for t in group["tags"] if t["name"] == n) for n in ("高", "低"))
    relation = (
        FollowRelation.objects.filter(corp=qike_corp, status=RelationStatus.ACTIVE)
        .select_related("customer", "staff")
        .first()
    )

    marked = api.post(f"/relations/{relation.pk}/tags", {"add": [high, low]})
    assert marked.status_code == 200, marked.content
    assert {high, low} <= {t["id"] for t in marked.json()["tags"]}
    assert {high, low} <= sim_tags_on(sim_corp, relation)

    unmarked = api.post(f"/relations/{relation.pk}/tags", {"remove": [low]})
    assert unmarked.status_code == 200, unmarked.content
    assert low not in {t["id"] for t in unmarked.json()["tags"]}
    assert low not in sim_tags_on(sim_corp, relation) and high in sim_tags_on(sim_corp, relation)
    assert api.get("/tags/" + high).json()["usage"] >= 1

    entry = TimelineEntry.objects.filter(
        customer=relation.customer, kind=TimelineKind.TAGS_CHANGED
    ).first()
    assert entry is not None and entry.actor == "admin"

    nothing = api.post(f"/relations/{relation.pk}/tags", {"remove": [low]})
    assert nothing.status_code == 400 and nothing.json()["code"] == "invalid"
    both = api.post(f"/relations/{relation.pk}/tags", {"add": [low], "remove": [low]})
    assert both.status_code == 400


def test_a_seeded_tag_is_refused_by_wecom_with_its_errcode(api, sim_corp, qike_corp):
    seeded = Tag.objects.filter(corp=qike_corp, type=1).first()
    assert seeded is not None, "the seeded corp has tags"
    response = api.patch(f"/tags/{seeded.wecom_id}", {"name": "改不了"})
    assert response.status_code == 502
    body = response.json()
    assert body["code"] == "wecom_error"
    assert body["details"]["errcode"] == 301002 and body["details"]["errmsg"]
    assert "301002" in body["message"]
    seeded.refresh_from_db()
    assert seeded.name != "改不了"
    assert api.delete(f"/tags/{seeded.wecom_id}").json()["details"]["errcode"] == 301002
    assert Tag.objects.filter(pk=seeded.pk).exists()


def test_bad_tag_input_is_refused_before_wecom(api, sim_corp, qike_corp):
    existing = TagGroup.objects.filter(corp=qike_corp).first()
    before = sim_groups(sim_corp)
    duplicate = api.post("/tag-groups", {"name": existing.name, "tags": ["x"]})
    assert duplicate.status_code == 400 and existing.name in duplicate.json()["message"]
    blank = api.post("/tag-groups", {"name": "  ", "tags": ["x"]})
    assert blank.status_code == 400
    too_long = api.post("/tag-groups", {"name": "名" * 31, "tags": ["x"]})
    assert too_long.status_code == 400
    neither = api.patch(f"/tag-groups/{existing.wecom_id}", {})
    assert neither.status_code == 400
    assert sim_groups(sim_corp) == before
