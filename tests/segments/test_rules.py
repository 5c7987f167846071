"""What a segment's rules mean: each rule's count checked against the customers worked out by hand
from the world in conftest.py; bad rules are refused with messages naming the rule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from qike.core import clock
from qike.customers.models import FollowRelation
from qike.segments import services
from qike.segments.rules import SegmentRules
from tests.console.world import follow
from tests.segments.conftest import access

pytestmark = pytest.mark.django_db


def _members(world, rules: dict, who: str = "admin") -> set[str]:
    parsed = services.parse_rules(corp=world.corp, data=rules)
    scope = access(world, who)
    found = services.audience(corp=world.corp, rules=parsed, access=scope)
    keys = {c.pk: k for k, c in world.customers.items()}
    members = {keys[pk] for pk in found.values_list("customer_id", flat=True)}
    assert services.count(corp=world.corp, rules=parsed, access=scope) == len(members)
    preview = services.preview(corp=world.corp, rules=parsed, access=scope, limit=50)
    assert {keys[m.customer_id] for m in preview} == members  # each customer once
    assert len(preview) == len(members)
    return members


def _day(days_ago: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days_ago)).isoformat()


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({}, {"c1", "c2", "c3", "c4", "c6"}),
        ({"tags_any": ["etVIP"]}, {"c1", "c2", "c4", "c6"}),
        ({"tags_any": ["etVIP", "etLost"]}, {"c1", "c2", "c3", "c4", "c6"}),
        ({"tags_all": ["etVIP", "etNormal"]}, {"c2", "c6"}),
        ({"tags_none": ["etVIP"]}, {"c2", "c3"}),  # c2 through north, who did not tag them
        ({"tags_all": ["etVIP"], "tags_none": ["etNormal"]}, {"c1", "c4"}),
        ({"tags_any": ["etLost"]}, {"c3"}),  # a personal tag
        ({"departments": [2]}, {"c1", "c2"}),  # 销售部 and its 华北销售
        ({"departments": [3]}, {"c2"}),
        ({"departments": [2], "staff": ["zhang.san"]}, {"c1", "c2", "c3", "c4"}),
        ({"staff": ["boss"]}, {"c6"}),
        ({"added_within_days": 7}, {"c1", "c2", "c3"}),
        ({"added_from": _day(15), "added_to": _day(4)}, {"c4"}),
        ({"added_from": _day(0)}, {"c2", "c3"}),
        ({"statuses": ["deleted_by_customer"]}, {"c4"}),
        ({"statuses": ["deleted_by_customer", "deleted_by_staff"]}, {"c1", "c4"}),
        ({"include_half": True}, {"c1", "c2", "c3", "c4", "c5", "c6"}),
        ({"states": ["spring-fair", "lc-9"]}, {"c1", "c6"}),
        ({"interacted_within_days": 7}, {"c1", "c2", "c3", "c6"}),  # c6 opened a link
        ({"inactive_for_days": 7}, {"c2", "c4"}),  # (c2, service): added 40 days ago
        ({"inactive_for_days": 7, "departments": [2]}, set()),
        ({"tags_any": ["etVIP"], "departments": [2], "added_within_days": 7}, {"c1"}),
    ],
)
def test_rule_counts(world, rules, expected):
    assert _members(world, rules) == expected


def test_lifecycle_stages(world, stage):
    keen, new = stage(world, "意向客户"), stage(world, "新客户")
    assert _members(world, {"stages": [keen.pk]}) == {"c2"}
    # The first stage holds every relation never moved, c2 among them through (c2, service).
    assert _members(world, {"stages": [new.pk]}) == {"c1", "c2", "c3", "c4", "c6"}
    assert _members(world, {"stages": [new.pk], "departments": [3]}) == set()


def test_scope_of_manager_and_seller(world):
    assert _members(world, {}, "manager") == {"c1", "c2"}
    assert _members(world, {"tags_any": ["etVIP"]}, "manager") == {"c1"}
    assert _members(world, {}, "seller") == {"c2"}


def test_deleted_tag_matches_nobody(world):
    rules = services.parse_rules(corp=world.corp, data={"tags_all": ["etVIP", "etNormal"]})
    world.tags["normal"].delete()
    assert services.count(corp=world.corp, rules=rules) == 0
    none = services.rules_from_dict({"tags_none": ["etNormal"]})
    assert services.count(corp=world.corp, rules=none) == 5


def test_audience_streams_what_mass_messages_need(world):
    rules = services.rules_from_dict({"tags_any": ["etVIP"]})
    rows = services.audience(corp=world.corp, rules=rules).values_list(
        "staff__userid", "customer__external_userid", "customer_id", "added_at"
    )
    got = {(userid, external) for userid, external, _pk, _at in rows.iterator(chunk_size=2)}
    assert got == {
        ("li.lei", "wmc1"),
        ("zhang.san", "wmc4"),
        ("boss", "wmc6"),
        ("zhang.san", "wmc2"),
    }
    assert not rows.query.order_by and not rows.query.distinct


def test_access_of_another_corp_is_refused(world):
    with pytest.raises(Http404):
        services.count(corp=world.corp, rules=SegmentRules(), access=access(world, "outsider"))


def test_a_role_without_customers_is_refused(world):
    from qike.org.access import Access

    with pytest.raises(PermissionDenied):
        services.count(corp=world.corp, rules=SegmentRules(), access=Access(world.corp, "none"))


def test_rules_round_trip():
    rules = services.rules_from_dict(
        {
            "tags_all": ["a", "b"],
            "tags_none": ["c"],
            "departments": ["3"],
            "added_from": "2024-01-01",
            "added_within_days": 90,
            "statuses": ["active", "deleted_by_staff"],
            "include_half": True,
        }
    )
    assert rules.departments == (3,)
    assert rules.added_from == dt.date(2024, 1, 1)
    assert services.rules_from_dict(rules.to_dict()) == rules
    assert SegmentRules().to_dict() == {}


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"tag_any": ["x"]}, "rules", "Unknown rule tag_any"),
        ({"tags_all": "x", "staff": [1]}, "staff", "list of text"),
        ({"departments": ["sales"]}, "departments", "whole numbers"),
        ({"added_from": "2024-13-01"}, "added_from", "YYYY-MM-DD"),
        ({"added_from": "2024-03-02", "added_to": "2024-03-01"}, "added_to", "before the start"),
        ({"added_within_days": 0}, "added_within_days", "from 1 to 3650"),
        ({"interacted_within_days": "soon"}, "interacted_within_days", "whole number"),
        ({"statuses": ["gone"]}, "statuses", "Unknown status gone"),
        ({"tags_all": ["a"], "tags_none": ["a"]}, "tags_none", "both wanted and excluded"),
        ({"interacted_within_days": 7, "inactive_for_days": 30}, "inactive_for_days", "cannot"),
        ({"include_half": "yes"}, "include_half", "true or false"),
        ({"tags_any": ["t"] * 1 + [str(i) for i in range(300)]}, "tags_any", "At most 200"),
    ],
)
def test_bad_rules_are_refused_clearly(data, field, words):
    with pytest.raises(ValidationError) as caught:
        services.rules_from_dict(data)
    assert words in " ".join(caught.value.message_dict[field])


def test_rules_may_only_name_the_corps_own_things(world, stage):
    with pytest.raises(ValidationError) as caught:
        services.parse_rules(
            corp=world.corp,
            data={
                "tags_any": ["etVIP", "etForeign"],
                "staff": ["bob"],
                "departments": [99],
                "stages": [999999],
            },
        )
    errors = caught.value.message_dict
    assert errors["tags_any"] == ["Unknown: etForeign."]
    assert errors["staff"] == ["Unknown: bob."]
    assert errors["departments"] == ["Unknown: 99."]
    assert errors["stages"] == ["Unknown: 999999."]
    assert FollowRelation.objects.filter(corp=world.corp).count() == 9  # nothing written


def test_preview_fills_its_page_when_one_customer_has_many_followers(world):
    """The newest rows all belong to one customer followed by many members: the preview still
    shows `limit` different customers."""
    from qike.org.models import Staff

    popular = world.customers["c1"]
    for n in range(10):
        member = Staff.objects.create(corp=world.corp, userid=f"extra{n}", name=f"同事{n}")
        follow(world.corp, popular, member, added_at=clock.now() + dt.timedelta(minutes=n + 1))
    rules = services.parse_rules(corp=world.corp, data={})
    shown = services.preview(corp=world.corp, rules=rules, limit=2)
    assert len(shown) == 2 and shown[0].customer_id == popular.pk
    assert shown[1].customer_id != popular.pk
