"""The shared pool through wecomsim: customers nobody worked for the corp's days return to the pool
(each with a timeline entry) while a customer worked in WeCom stays; staff claim within the daily
limit (the 21st claim is refused); a claim of a customer followed by another member starts an
on-job transfer; a give-back returns the customer; audit rows for claims and give-backs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from qike.audit.models import AuditEntry
from qike.customers.models import Customer, TimelineEntry, TimelineKind
from qike.org.access import access_for
from qike.org.models import Membership, Role, Staff, StaffStatus
from qike.retention import services
from qike.retention.models import Claim, PoolEntry, PoolReason, PoolStatus
from qike.retention.tasks import return_to_pool_job
from qike.transfers.models import TransferItem
from tests.acquisition.conftest import advance
from tests.conftest import seed_sim_corp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DAY = 86400


@pytest.fixture
def sim_corp(sim) -> Iterator:
    corp = seed_sim_corp(sim, customers=30)
    yield corp
    corp.control.close()


def staff_access(corp, member: Staff, name: str = "seller"):
    user = User.objects.create_user(name, password="pw")
    Membership.objects.create(user=user, corp=corp, role=Role.STAFF, staff=member)
    return access_for(user, corp)


def pool_ids(corp) -> set[int]:
    return set(
        PoolEntry.objects.filter(corp=corp, status=PoolStatus.IN_POOL).values_list(
            "customer_id", flat=True
        )
    )


def pool_entries(customer: Customer) -> list[dict]:
    """Pool entries on the customer's timeline, newest first."""
    return [e.data for e in TimelineEntry.objects.filter(customer=customer, kind=TimelineKind.POOL)]


def test_customers_not_worked_for_n_days_return_to_the_pool(corp, team, sim, sim_corp):
    services.settings_for(corp)  # the rule starts counting now (30 days by default)
    return_to_pool_job.call_local()  # customers without an active follower only
    first = pool_ids(corp)
    assert team.customer.pk not in first
    assert all(
        PoolEntry.objects.get(customer_id=pk).reason == PoolReason.NO_FOLLOWER for pk in first
    )

    advance(sim, 29 * DAY)
    assert return_to_pool_job.call_local() == 0
    # The member edits the customer's remark in WeCom on day 29: that is work.
    sim_corp.post(
        f"/members/{team.member.userid}/edit_customer",
        external_userid=team.customer.external_userid,
        remark="老客户",
    )
    sim_corp.wait_for_callbacks()

    advance(sim, 2 * DAY)  # day 31
    returned = return_to_pool_job.call_local()
    assert returned > 0 and team.customer.pk not in pool_ids(corp)
    assert return_to_pool_job.call_local() == 0  # nothing twice
    idle = PoolEntry.objects.filter(corp=corp, reason=PoolReason.IDLE).select_related("customer")
    assert idle.count() == returned
    entry = idle.first()
    assert entry.from_staff is not None
    [data] = pool_entries(entry.customer)
    assert data["event"] == "returned"
    assert data["label"] == "Returned to the shared pool: not worked for 30 days"
    row = AuditEntry.objects.filter(corp=corp, action="retention.pool_return").last()
    assert row.via == "job" and row.after == {"count": returned}

    advance(sim, 29 * DAY)  # 30 days after the edit
    assert return_to_pool_job.call_local() == 1
    assert team.customer.pk in pool_ids(corp)


def test_claims_stop_at_the_daily_limit_and_give_back_returns(corp, team, sim, sim_corp):
    services.settings_for(corp)
    advance(sim, 31 * DAY)
    return_to_pool_job.call_local()
    claimer = team.manager  # an active member
    access = staff_access(corp, claimer)
    in_pool = sorted(pool_ids(corp))
    assert len(in_pool) >= 21
    assert services.claims_left(access) == 20

    for customer_id in in_pool[:20]:
        services.claim(access=access, customer_id=customer_id)
    assert services.claims_left(access) == 0
    with pytest.raises(ValidationError) as refused:
        services.claim(access=access, customer_id=in_pool[20])
    assert "claimed 20 customers today, the daily limit" in refused.value.messages[0]
    assert PoolEntry.objects.get(customer_id=in_pool[20]).status == PoolStatus.IN_POOL
    assert Claim.objects.filter(staff=claimer).count() == 20

    entry = PoolEntry.objects.select_related("customer").get(customer_id=in_pool[0])
    assert entry.status == PoolStatus.CLAIMED and entry.owner == claimer
    claimed = pool_entries(entry.customer)[0]
    assert claimed["event"] == "claimed" and "Claimed from the shared pool by" in claimed["label"]
    assert AuditEntry.objects.filter(corp=corp, action="retention.claim").count() == 20

    # A claimed customer is not someone else's to claim.
    other = Staff.objects.filter(corp=corp, status=StaffStatus.ACTIVE).exclude(pk=claimer.pk)
    second = staff_access(corp, other.first(), "other-seller")
    with pytest.raises(ValidationError, match="no longer in the shared pool"):
        services.claim(access=second, customer_id=in_pool[0])

    # The next day the member may claim again; giving back puts the customer in the pool.
    advance(sim, DAY)
    assert services.claims_left(access) == 20
    services.give_back(access=access, customer_id=in_pool[0])
    entry.refresh_from_db()
    assert entry.status == PoolStatus.IN_POOL and entry.reason == PoolReason.GIVEN_BACK
    assert entry.from_staff == claimer and entry.owner is None
    assert pool_entries(entry.customer)[0]["event"] == "given_back"
    assert AuditEntry.objects.filter(corp=corp, action="retention.give_back").count() == 1
    with pytest.raises(ValidationError, match="already in the shared pool"):
        services.give_back(access=access, customer_id=in_pool[0])


def test_claiming_a_customer_another_member_follows_starts_an_onjob_transfer(
    corp, team, sim, sim_corp
):
    services.settings_for(corp)
    advance(sim, 31 * DAY)
    return_to_pool_job.call_local()
    assert team.customer.pk in pool_ids(corp)  # followed by the member, who let them idle
    followers = team.customer.relations.values("staff_id")
    taker = Staff.objects.filter(corp=corp, status=StaffStatus.ACTIVE).exclude(pk__in=followers)
    taker = taker.first()
    made = services.claim(access=staff_access(corp, taker), customer_id=team.customer.pk)
    assert made.transfer_id is not None and made.transfer_note == ""
    item = TransferItem.objects.select_related("transfer").get(transfer_id=made.transfer_id)
    assert item.external_userid == team.customer.external_userid
    assert item.transfer.takeover == taker
    assert item.transfer.handover.relations.filter(customer=team.customer).exists()
