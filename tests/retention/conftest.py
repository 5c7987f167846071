"""A synced wecomsim corp with a member, their manager (leader of the member's main department) and
console users in every role (tests/acquisition/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from qike.customers.models import Customer, FollowRelation, RelationStatus
from qike.org.models import Department, Staff, StaffDepartment, StaffStatus
from tests.acquisition.conftest import admin, advance, corp, users  # noqa: F401


@dataclass
class Team:
    member: Staff
    manager: Staff
    customer: Customer


def make_leader(sim_corp, staff: Staff, department: Department, *, leads: bool = True) -> None:
    """The WeCom admin moves `staff` into `department` only, as its leader or not; Qike learns
    it from the update_user callback."""
    sim_corp.post(
        f"/members/{staff.userid}/move",
        department=[department.wecom_id],
        is_leader_in_dept=[1 if leads else 0],
    )


@pytest.fixture
def team(corp, sim_corp) -> Team:  # noqa: F811
    relation = (
        FollowRelation.objects.filter(
            corp=corp,
            status=RelationStatus.ACTIVE,
            is_half=False,
            staff__status=StaffStatus.ACTIVE,
            staff__main_department__isnull=False,
        )
        .select_related("staff", "customer")
        .order_by("pk")
        .first()
    )
    member = relation.staff
    department = Department.objects.get(corp=corp, wecom_id=member.main_department)
    manager = (
        Staff.objects.filter(corp=corp, status=StaffStatus.ACTIVE).exclude(pk=member.pk).first()
    )
    # The seed makes a few random leaders: only ours leads the member's department here.
    others = StaffDepartment.objects.filter(corp=corp, department=department, is_leader=True)
    for other in others.exclude(staff=manager).select_related("staff"):
        make_leader(sim_corp, other.staff, department, leads=False)
    make_leader(sim_corp, manager, department)
    sim_corp.wait_for_callbacks()
    assert list(
        StaffDepartment.objects.filter(
            corp=corp, department=department, is_leader=True
        ).values_list("staff", flat=True)
    ) == [manager.pk]
    return Team(member, manager, relation.customer)


def texts(sim_corp, userid: str) -> list[str]:
    """The app messages wecomsim delivered to a member."""
    return [m["text"]["content"] for m in sim_corp.get("/app_messages", userid=userid)]


def customer_deletes(sim_corp, external_userid: str, userid: str) -> None:
    sim_corp.post(f"/customers/{external_userid}/delete_member", userid=userid)
    sim_corp.wait_for_callbacks()


def staff_deletes(sim_corp, userid: str, external_userid: str) -> None:
    sim_corp.post(f"/members/{userid}/delete_customer", external_userid=external_userid)
    sim_corp.wait_for_callbacks()


def add_customer(sim_corp, userid: str, name: str) -> str:
    answer = sim_corp.post("/customers/add", userid=userid, customer={"name": name}, add_way=2)
    return answer["external_userid"]
