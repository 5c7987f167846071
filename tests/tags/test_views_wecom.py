"""Tag changes made on the tag page go to WeCom (here wecomsim, over HTTP) and come back; WeCom's
refusals are shown on the page with its errcode and errmsg."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from qike.org.models import Membership, Role
from qike.sync.full import full_sync
from qike.tags.models import Tag, TagGroup

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_client(client, qike_corp):
    full_sync(qike_corp)
    admin = User.objects.create_user("admin", password="pw")
    Membership.objects.create(user=admin, corp=qike_corp, role=Role.CORP_ADMIN)
    client.force_login(admin)
    return client


def sim_groups(sim_corp) -> dict[str, dict]:
    return {g["group_name"]: g for g in sim_corp.snapshot()["tag_groups"]}


def test_create_rename_reorder_and_delete_round_trip(admin_client, sim_corp, qike_corp):
    response = admin_client.post(
        "/tags/groups/", {"name": "意向程度", "order": "5", "tags": "高意向\n中意向，低意向"}
    )
    assert response.status_code == 302, response.content.decode()
    in_sim = sim_groups(sim_corp)["意向程度"]
    assert {t["name"] for t in in_sim["tags"]} == {"高意向", "中意向", "低意向"}
    page = admin_client.get("/tags/").content.decode()
    assert "意向程度" in page and "高意向" in page
    group = TagGroup.objects.get(corp=qike_corp, name="意向程度")

    assert (
        admin_client.post(f"/tags/groups/{group.pk}/tags/", {"names": "待跟进"}).status_code == 302
    )
    assert "待跟进" in {t["name"] for t in sim_groups(sim_corp)["意向程度"]["tags"]}

    high = Tag.objects.get(corp=qike_corp, name="高意向")
    assert admin_client.post(f"/tags/tag/{high.pk}/rename/", {"name": "强意向"}).status_code == 302
    assert admin_client.post(f"/tags/tag/{high.pk}/order/", {"order": "99"}).status_code == 302
    sim_tag = next(t for t in sim_groups(sim_corp)["意向程度"]["tags"] if t["id"] == high.wecom_id)
    assert (sim_tag["name"], sim_tag["order"]) == ("强意向", 99)
    high.refresh_from_db()
    assert (high.name, high.order) == ("强意向", 99)
    # larger order first, as WeCom shows them
    page = admin_client.get("/tags/").content.decode()
    assert page.index("强意向") < page.index("中意向")

    assert (
        admin_client.post(f"/tags/group/{group.pk}/rename/", {"name": "购买意向"}).status_code
        == 302
    )
    assert "购买意向" in sim_groups(sim_corp)

    low = Tag.objects.get(corp=qike_corp, name="低意向")
    assert admin_client.post(f"/tags/tag/{low.pk}/delete/").status_code == 302
    assert "低意向" not in {t["name"] for t in sim_groups(sim_corp)["购买意向"]["tags"]}
    assert not Tag.objects.filter(pk=low.pk).exists()

    assert admin_client.post(f"/tags/group/{group.pk}/delete/").status_code == 302
    assert "购买意向" not in sim_groups(sim_corp)
    assert not TagGroup.objects.filter(pk=group.pk).exists()


def test_wecoms_refusal_is_shown_with_errcode_and_errmsg(admin_client, sim_corp, qike_corp):
    # Seeded tags were made in WeCom's admin console: apps may not edit them (301002).
    seeded = Tag.objects.filter(corp=qike_corp).first()
    assert seeded is not None
    old_name = seeded.name
    response = admin_client.post(f"/tags/tag/{seeded.pk}/rename/", {"name": "改不了"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "301002" in html
    assert "apps may edit or delete only the tags they created" in html
    seeded.refresh_from_db()
    assert seeded.name == old_name
    assert "改不了" not in {t["name"] for g in sim_groups(sim_corp).values() for t in g["tags"]}

    response = admin_client.post(f"/tags/tag/{seeded.pk}/delete/")
    assert response.status_code == 400 and "301002" in response.content.decode()
    assert Tag.objects.filter(pk=seeded.pk).exists()
