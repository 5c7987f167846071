"""The keyed-hash index of remark mobiles stays equal to what the relations hold, whichever way a
remark mobile is written: WeCom data applied in bulk (sync, events), a relation saved by a service,
a WeCom client edit arriving as an event; and the migration's backfill / the rebuild command."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from qike.customers import services
from qike.customers.mobiles import is_mainland_mobile, mobile_hash, normalise_mobile
from qike.customers.models import FollowRelation, RelationMobile
from qike.org.models import Staff
from qike.sync.full import full_sync


def _follow(userid: str, mobiles: list[str]) -> dict:
    return {"userid": userid, "remark_mobiles": mobiles, "createtime": 1_700_000_000, "add_way": 2}


def _contact(ext: str, follows: list[dict]) -> services.Contact:
    return services.contact_from_get(
        {"external_contact": {"external_userid": ext, "name": "客户"}, "follow_user": follows}
    )


def _hashes(relation: FollowRelation) -> set[str]:
    return set(
        RelationMobile.objects.filter(relation=relation).values_list("mobile_hash", flat=True)
    )


def test_normalising_and_hashing():
    for spelling in ("13812345678", "+86 138-1234-5678", "0086 13812345678", "8613812345678"):
        assert normalise_mobile(spelling) == "13812345678"
        assert mobile_hash(spelling) == mobile_hash("13812345678")
    assert normalise_mobile(13812345678.0) == "13812345678"  # a spreadsheet number cell
    assert is_mainland_mobile("13812345678") and not is_mainland_mobile("1381234567")
    assert not is_mainland_mobile("12812345678")
    digest = mobile_hash("13812345678")
    assert len(digest) == 64 and "13812345678" not in digest
    assert mobile_hash("13812345679") != digest


@pytest.mark.django_db
def test_bulk_writes_and_saves_keep_the_index(settings):
    from qike.core.models import Corp

    corp = Corp.objects.create(corpid="wwindex", secret="s", api_base_url="http://127.0.0.1:9")
    Staff.objects.create(corp=corp, userid="zhang")
    Staff.objects.create(corp=corp, userid="li")
    services.apply_contacts(
        corp=corp,
        contacts=[_contact("wm1", [_follow("zhang", ["+86 13812345678"]), _follow("li", [])])],
    )
    zhang = FollowRelation.objects.get(corp=corp, staff__userid="zhang")
    li = FollowRelation.objects.get(corp=corp, staff__userid="li")
    assert _hashes(zhang) == {mobile_hash("13812345678")} and _hashes(li) == set()

    # WeCom says the member changed the number: the old hash goes, the new one comes.
    services.apply_contacts(
        corp=corp,
        contacts=[_contact("wm1", [_follow("zhang", ["13900000000", "13700000000"])])],
    )
    assert _hashes(zhang) == {mobile_hash("13900000000"), mobile_hash("13700000000")}

    # A service saving the relation (as lead conversion does) updates it too.
    li.remark_mobiles = ["13611112222"]
    li.save(update_fields=["remark_mobiles"])
    assert _hashes(li) == {mobile_hash("13611112222")}
    li.remark = "x"
    li.save(update_fields=["remark"])  # not touching the mobiles: index untouched
    assert _hashes(li) == {mobile_hash("13611112222")}

    # The index holds hashes only, never the number.
    with connection.cursor() as cursor:
        cursor.execute("SELECT mobile_hash FROM customers_relationmobile")
        assert all("1361111" not in row[0] for row in cursor.fetchall())

    # The rebuild command (after a key change) gives the same index.
    settings.SECRET_KEY = "another-secret-key-for-the-rebuild-test"
    call_command("index_remark_mobiles", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _hashes(li) == {mobile_hash("13611112222")}
    assert RelationMobile.objects.filter(corp=corp).count() == 3


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_sync_and_a_wecom_client_edit_update_the_index(qike_corp, sim_corp):
    userid = sim_corp.snapshot()["users"][0]["userid"]
    added = sim_corp.post("/customers/add", userid=userid, customer={"name": "赵六"}, add_way=2)
    ext = added["external_userid"]
    sim_corp.wait_for_callbacks()
    full_sync(qike_corp)
    relation = FollowRelation.objects.get(
        corp=qike_corp, customer__external_userid=ext, staff__userid=userid
    )
    assert _hashes(relation) == set()

    # The member types the phone into the customer's remark in the WeCom client.
    sim_corp.post(
        f"/members/{userid}/edit_customer",
        external_userid=ext,
        remark="赵六",
        remark_mobiles=["13512345678"],
    )
    sim_corp.wait_for_callbacks()
    assert _hashes(relation) == {mobile_hash("13512345678")}
    lookup = RelationMobile.objects.filter(
        corp=qike_corp, mobile_hash=mobile_hash("135 1234 5678")
    ).values_list("relation_id", flat=True)
    assert list(lookup) == [relation.pk]


@pytest.mark.django_db
def test_the_migration_backfills_relations_written_before_the_index():
    import importlib

    from django.apps import apps

    from qike.core.models import Corp
    from qike.customers.models import Customer

    corp = Corp.objects.create(corpid="wwbackfill", secret="s", api_base_url="http://127.0.0.1:9")
    staff = Staff.objects.create(corp=corp, userid="wang")
    customer = Customer.objects.create(corp=corp, external_userid="wmold")
    # bulk_create skips save(): this relation is what an older Qike left behind.
    [relation] = FollowRelation.objects.bulk_create(
        [
            FollowRelation(
                corp=corp, customer=customer, staff=staff, remark_mobiles=["138 0000 1111"]
            )
        ]
    )
    relation = FollowRelation.objects.get(corp=corp)
    assert _hashes(relation) == set()
    migration = importlib.import_module("qike.customers.migrations.0005_relationmobile")
    migration.backfill(apps, None)
    assert _hashes(relation) == {mobile_hash("13800001111")}
