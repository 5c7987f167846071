"""Tag editing on the customer page goes to WeCom (wecomsim) first and shows WeCom's answer."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from qike.customers.models import FollowRelation, RelationStatus, TimelineEntry, TimelineKind
from qike.org.access import access_for
from qike.sync.full import full_sync
from qike.tags import services as tags
from qike.tags.models import TagAssignment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tagged(qike_corp, client):
    """The synced corp, a tag group created through Qike (apps may only mark tags that exist;
    seeded tags belong to no app), a super admin logged in, and one active relation."""
    full_sync(qike_corp)
    admin = User.objects.create_superuser("root", password="pw")
    group = tags.create_group(
        access=access_for(admin, qike_corp), name="意向等级", tag_names=["高意向", "低意向"]
    )
    client.force_login(admin)
    relation = (
        FollowRelation.objects.filter(corp=qike_corp, status=RelationStatus.ACTIVE)
        .select_related("customer", "staff")
        .first()
    )
    return relation, {t.name: t for t in group.tags.all()}


def _sim_tags(sim_corp, relation) -> set[str]:
    for customer in sim_corp.snapshot()["customers"]:
        if customer["external_userid"] == relation.customer.external_userid:
            for follow in customer["follow_users"]:
                if follow["userid"] == relation.staff.userid:
                    return set(follow.get("tag_ids") or [])
    raise AssertionError("relation not in wecomsim")


def _post(client, relation, tag_ids: list[str], htmx: bool = True):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(
        reverse("console:customer_relation_tags", args=[relation.pk]), {"tags": tag_ids}, **headers
    )


def test_saving_tags_marks_them_in_wecom_and_shows_them(client, sim_corp, tagged):
    relation, by_name = tagged
    kept = list(
        TagAssignment.objects.filter(relation=relation, tag__type=1).values_list(
            "tag__wecom_id", flat=True
        )
    )
    answer = _post(client, relation, [*kept, by_name["高意向"].wecom_id])
    assert answer.status_code == 200
    body = answer.content.decode()
    assert "已保存到企业微信" in body and "高意向" in body
    assert by_name["高意向"].wecom_id in _sim_tags(sim_corp, relation)
    assert TimelineEntry.objects.filter(
        customer=relation.customer, kind=TimelineKind.TAGS_CHANGED
    ).exists()

    # Unticking it removes it in WeCom too.
    _post(client, relation, kept)
    assert by_name["高意向"].wecom_id not in _sim_tags(sim_corp, relation)


def test_wecoms_refusal_is_shown_and_nothing_changes(client, sim, sim_corp, tagged):
    relation, by_name = tagged
    sim_corp.control.post(
        "/sim/faults", json={"path": "externalcontact/mark_tag", "errcode": 40068, "times": 1}
    ).raise_for_status()
    answer = _post(client, relation, [by_name["低意向"].wecom_id])
    assert answer.status_code == 200
    body = answer.content.decode()
    assert "企业微信拒绝了此次修改" in body and "40068" in body
    assert not TagAssignment.objects.filter(relation=relation, tag=by_name["低意向"]).exists()
    assert by_name["低意向"].wecom_id not in _sim_tags(sim_corp, relation)


def test_an_unknown_tag_or_no_change_gets_a_clear_message(client, tagged):
    relation, _by_name = tagged
    unknown = _post(client, relation, ["etNoSuchTag"])
    assert "etNoSuchTag" in unknown.content.decode()
    current = list(
        TagAssignment.objects.filter(relation=relation, tag__type=1).values_list(
            "tag__wecom_id", flat=True
        )
    )
    same = _post(client, relation, current)
    assert (
        "没有要修改的内容" in same.content.decode() or "Nothing to change" in same.content.decode()
    )


def test_without_htmx_the_result_comes_back_as_a_message(client, tagged):
    relation, by_name = tagged
    answer = _post(client, relation, [by_name["高意向"].wecom_id], htmx=False)
    assert answer.status_code == 302
    page = client.get(answer["Location"])
    assert "已保存到企业微信" in page.content.decode()
