"""A token belongs to one corp: another corp's objects do not exist for it (404), even for a
superuser's token."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["admin", "root"])
def api(request, world, api_as):
    return api_as(request.param)


def paths(other: dict) -> list[str]:
    return [
        f"/customers/{other['customer']}",
        f"/relations/{other['relation']}",
        f"/tags/{other['tag']}",
        f"/tag-groups/{other['group']}",
        f"/events/{other['event']}",
        f"/staff/{other['staff']}",
    ]


def test_another_corps_objects_are_not_found(world, api):
    for path in paths(world.other_objects):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


def test_another_corps_objects_cannot_be_changed(world, api):
    other = world.other_objects
    writes = [
        api.post(f"/events/{other['event']}/replay"),
        api.post(f"/relations/{other['relation']}/tags", {"add": ["etVIP"]}),
        api.patch(f"/tags/{other['tag']}", {"name": "改名"}),
        api.patch(f"/tag-groups/{other['group']}", {"order": 3}),
        api.delete(f"/tags/{other['tag']}"),
        api.delete(f"/tag-groups/{other['group']}"),
        api.post(f"/tag-groups/{other['group']}/tags", {"names": ["新"]}),
    ]
    assert [w.status_code for w in writes] == [404] * len(writes)
    from qike.intake.models import CallbackEvent
    from qike.tags.models import Tag

    assert CallbackEvent.objects.get(pk=other["event"]).attempts == 1
    assert Tag.objects.get(corp=world.other, wecom_id=other["tag"]).name == "VIP"


def test_marking_with_another_corps_tag_is_refused(world, api):
    relation = world.relations[("wm_east", "east")]
    response = api.post(f"/relations/{relation.pk}/tags", {"add": [world.other_objects["tag"]]})
    assert response.status_code == 404
    assert response.json()["details"] == {"tags": [world.other_objects["tag"]]}


def test_lists_hold_only_the_tokens_corp(world, api):
    customers = api.get("/customers").json()["items"]
    assert customers and not any(c["external_userid"].startswith("b_") for c in customers)
    assert all(not s["userid"].startswith("b_") for s in api.get("/staff").json()["items"])
    groups = api.get("/tag-groups").json()["items"]
    assert [g["id"] for g in groups] == ["etGROUP"]
    assert api.get("/events").json()["total"] == 2
    assert api.get("/customers", staff="b_east").json()["items"] == []
