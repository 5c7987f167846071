"""Transfers end to end through wecomsim, moving its clock: an on-job transfer with one customer
refused, one over the takeover's limit and one taken over (tags re-applied in WeCom, leads and
movers following); the pre-flight holding back customers WeCom would refuse; a resignation whose
customers are shared out, taken over after 24 hours, and one who refuses; audit rows."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from qike.audit.models import AuditEntry
from qike.core.services import client_for
from qike.customers.models import FollowRelation, RelationStatus, TimelineEntry
from qike.leads.models import Lead, LeadForm
from qike.org.models import Staff, StaffStatus
from qike.tags.models import Tag, TagType
from qike.tags.services import mark_tags
from qike.transfers import services, tasks
from qike.transfers.models import ItemStatus, Transfer, TransferItem
from tests.transfers.conftest import DAY, add_customer, advance, customer_count, wecom_follow

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def statuses(transfer: Transfer) -> dict[str, str]:
    return dict(transfer.items.values_list("external_userid", "status"))


def relation(corp, external_userid: str, userid: str) -> FollowRelation:
    return FollowRelation.objects.get(
        corp=corp, customer__external_userid=external_userid, staff__userid=userid
    )


def transfer_timeline(corp, external_userid: str) -> list[str]:
    entries = TimelineEntry.objects.filter(
        corp=corp, customer__external_userid=external_userid, data__has_key="transfer"
    ).order_by("occurred_at", "pk")
    return [e.data["transfer"]["event"] for e in entries]


def test_onjob_refused_over_the_limit_and_taken_over(corp, sim_corp, admin, userids, moved):
    a, b = userids[0], userids[1]
    refusing, staying, full = (add_customer(sim_corp, a, n) for n in ("拒绝", "接替", "超限"))
    tag = Tag.objects.filter(corp=corp, type=TagType.CORP).order_by("pk").first()
    mark_tags(access=admin, relation=relation(corp, staying, a), add=[tag], remove=[])
    form = LeadForm.objects.create(corp=corp, name="官网", slug="web")
    lead = Lead.objects.create(
        corp=corp,
        form=form,
        staff=Staff.objects.get(corp=corp, userid=a),
        customer=relation(corp, staying, a).customer,
        relation=relation(corp, staying, a),
        created_at=relation(corp, staying, a).added_at,
    )

    check = services.preflight(
        access=admin,
        handover_userid=a,
        takeover_userid=b,
        external_userids=[refusing, staying, full],
    )
    assert check.ready == [refusing, staying, full] and check.held == {}
    started = services.start_onjob(
        access=admin,
        handover_userid=a,
        takeover_userid=b,
        external_userids=[refusing, staying, full],
        message="您好，接下来由我为您服务",
    )
    transfer = started.transfer
    assert set(statuses(transfer).values()) == {ItemStatus.WAITING}
    sent = sim_corp.get("/transfers")
    assert {t["external_userid"] for t in sent if t["status"] == 2} == {refusing, staying, full}
    assert sent[-1]["transfer_success_msg"] == "您好，接下来由我为您服务"
    audit = AuditEntry.objects.get(action="transfers.start")
    assert audit.after["handover"] == a and audit.after["takeover"] == b
    assert sorted(audit.after["customers"]) == sorted([refusing, staying, full])

    # The customer refuses in WeCom: transfer_fail settles the record at once.
    sim_corp.post("/transfers/refuse", external_userid=refusing, handover_userid=a)
    sim_corp.wait_for_callbacks()
    assert statuses(transfer)[refusing] == ItemStatus.REFUSED
    # b can take exactly one more customer: the first due takeover fills the place.
    sim_corp.post(f"/members/{b}/customer_limit", limit=customer_count(corp, b) + 1)

    advance(sim_corp, DAY + 60)
    tasks.refresh_transfers_job()
    assert statuses(transfer) == {
        refusing: ItemStatus.REFUSED,
        staying: ItemStatus.DONE,
        full: ItemStatus.LIMIT,
    }
    # Qike's relations follow WeCom's events; the tag is back on the new relation in WeCom.
    assert relation(corp, staying, a).status == RelationStatus.DELETED_BY_STAFF
    taken = relation(corp, staying, b)
    assert taken.status == RelationStatus.ACTIVE
    assert tag.wecom_id in wecom_follow(corp, staying, b)["tags"][0]["tag_id"]
    assert taken.tag_assignments.filter(tag=tag).exists()
    lead.refresh_from_db()
    assert lead.relation_id == taken.pk and lead.staff.userid == b
    assert moved == [(relation(corp, staying, a).pk, taken.pk)]
    assert relation(corp, full, a).status == RelationStatus.ACTIVE  # still a's
    assert transfer_timeline(corp, staying) == ["started", "done"]
    assert transfer_timeline(corp, refusing) == ["started", "refused"]
    assert transfer_timeline(corp, full) == ["started", "limit"]
    results = {}
    for entry in AuditEntry.objects.filter(action="transfers.result"):
        results.update(entry.after["results"])
    assert results == {refusing: "refused", staying: "done", full: "limit"}

    # Polling again changes nothing and moves nothing twice.
    assert services.refresh(corp=corp, transfer=transfer) == {}
    assert len(moved) == 1


def test_preflight_holds_back_what_wecom_would_refuse(corp, sim_corp, admin, userids):
    a, b, c = userids[0], userids[1], userids[2]
    twice, waiting, fine = (add_customer(sim_corp, a) for _ in range(3))
    outside = add_customer(sim_corp, c)
    shared = add_customer(sim_corp, a)
    sim_corp.post("/customers/add", userid=b, external_userid=shared)
    sim_corp.wait_for_callbacks()
    # Transferred twice within 90 days: a → b, then b → a.
    services.start_onjob(
        access=admin, handover_userid=a, takeover_userid=b, external_userids=[twice]
    )
    advance(sim_corp, DAY + 60)
    services.start_onjob(
        access=admin, handover_userid=b, takeover_userid=a, external_userids=[twice]
    )
    advance(sim_corp, DAY + 60)
    assert relation(corp, twice, a).status == RelationStatus.ACTIVE
    # Already waiting in a transfer to c.
    services.start_onjob(
        access=admin, handover_userid=a, takeover_userid=c, external_userids=[waiting]
    )

    check = services.preflight(
        access=admin,
        handover_userid=a,
        takeover_userid=b,
        external_userids=[twice, waiting, outside, shared, fine],
    )
    assert check.ready == [fine]
    assert check.held == {
        twice: services.TOO_OFTEN_REASON,
        waiting: services.IN_TRANSFER,
        outside: services.NOT_FOLLOWER,
        shared: services.TAKEOVER_FOLLOWS,
    }
    before = len(sim_corp.get("/transfers"))
    started = services.start_onjob(
        access=admin,
        handover_userid=a,
        takeover_userid=b,
        external_userids=[twice, waiting, fine],
    )
    assert statuses(started.transfer) == {fine: ItemStatus.WAITING}
    sent = sim_corp.get("/transfers")[before:]
    assert [t["external_userid"] for t in sent] == [fine]  # the held ones never reached WeCom
    assert AuditEntry.objects.filter(action="transfers.start").order_by("pk").last().after[
        "held"
    ] == {
        twice: "twice_in_90_days",
        waiting: "in_transfer",
    }
    # Nothing ready: refused before anything is written or sent.
    count = Transfer.objects.count()
    with pytest.raises(ValidationError):
        services.start_onjob(
            access=admin, handover_userid=a, takeover_userid=b, external_userids=[twice]
        )
    assert Transfer.objects.count() == count and len(sim_corp.get("/transfers")) == before + 1


def test_wecom_40128_is_remembered(corp, sim_corp, admin, userids):
    """Transfers made outside Qike count too: WeCom's 40128 is recorded and held back next time."""
    a, b = userids[0], userids[1]
    ext = add_customer(sim_corp, a)
    with client_for(corp) as client:
        for handover, takeover in ((a, b), (b, a)):
            answer = client.transfer_customer(
                handover_userid=handover, takeover_userid=takeover, external_userids=[ext]
            )
            assert answer == [{"external_userid": ext, "errcode": 0}]
            advance(sim_corp, DAY + 60)
    started = services.start_onjob(
        access=admin, handover_userid=a, takeover_userid=b, external_userids=[ext]
    )
    (item,) = started.transfer.items.all()
    assert (item.status, item.errcode) == (ItemStatus.FAILED, 40128)
    assert transfer_timeline(corp, ext) == ["failed"]
    check = services.preflight(
        access=admin, handover_userid=a, takeover_userid=b, external_userids=[ext]
    )
    assert check.held == {ext: services.TOO_OFTEN_REASON}


def test_resigned_customers_shared_out_taken_over_and_one_refuses(
    corp, sim_corp, admin, userids, moved
):
    gone, b, c = userids[0], userids[1], userids[2]
    customers = [add_customer(sim_corp, gone) for _ in range(3)]
    sim_corp.post(f"/members/{gone}/leave")
    sim_corp.wait_for_callbacks()
    assert Staff.objects.get(corp=corp, userid=gone).status == StaffStatus.LEFT
    listed = services.unassigned(access=admin, handover_userid=gone)
    mine = [u.external_userid for u in listed]
    assert set(customers) <= set(mine) and listed[0].left_at is not None

    with pytest.raises(ValidationError):  # b is not a departed member
        services.reassign_resigned(access=admin, handover_userid=b, takeover_userids=[c])
    transfers = services.reassign_resigned(
        access=admin, handover_userid=gone, takeover_userids=[b, c], external_userids=customers
    )
    assert [(t.takeover.userid, sorted(statuses(t))) for t in transfers] == [
        (b, sorted([customers[0], customers[2]])),
        (c, [customers[1]]),
    ]
    assert services.unassigned(access=admin, handover_userid=gone) == [
        u
        for u in services.unassigned(access=admin, handover_userid=gone)
        if u.external_userid not in customers
    ]
    sim_corp.post("/transfers/refuse", external_userid=customers[2], handover_userid=gone)
    advance(sim_corp, DAY + 60)
    tasks.refresh_transfers_job()
    assert statuses(transfers[0]) == {customers[0]: ItemStatus.DONE, customers[2]: "refused"}
    assert statuses(transfers[1]) == {customers[1]: ItemStatus.DONE}
    assert relation(corp, customers[0], b).status == RelationStatus.ACTIVE
    assert relation(corp, customers[1], c).status == RelationStatus.ACTIVE
    assert len(moved) == 2
    # The refused customer is unassigned again and can go to someone else.
    again = [u.external_userid for u in services.unassigned(access=admin, handover_userid=gone)]
    assert customers[2] in again and customers[0] not in again
    assert TransferItem.objects.filter(status=ItemStatus.WAITING).count() == 0
