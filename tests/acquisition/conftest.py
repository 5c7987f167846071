"""A seeded wecomsim corp connected to Qike, synced, with console users in every role."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from qike.core import clock
from qike.core.services import client_for
from qike.org.access import access_for
from qike.org.models import Membership, Role, Staff, StaffStatus
from qike.sync.full import full_sync


@pytest.fixture
def corp(qike_corp):
    full_sync(qike_corp)
    return qike_corp


@pytest.fixture
def users(corp) -> dict[str, User]:
    made = {}
    for role in (Role.CORP_ADMIN, Role.OPERATIONS, Role.MANAGER, Role.STAFF):
        user = User.objects.create_user(f"u-{role}", password="pw")
        staff = Staff.objects.filter(corp=corp).first() if role == Role.STAFF else None
        Membership.objects.create(user=user, corp=corp, role=role, staff=staff)
        made[role] = user
    return made


@pytest.fixture
def admin(corp, users):
    return access_for(users[Role.CORP_ADMIN], corp)


@pytest.fixture
def userids(corp) -> list[str]:
    return sorted(
        Staff.objects.filter(corp=corp, status=StaffStatus.ACTIVE).values_list("userid", flat=True)
    )


def way_users(corp, code) -> list[str]:
    """The member list WeCom (wecomsim) has for the code right now."""
    with client_for(corp) as client:
        return sorted(client.get_contact_way(code.config_id)["user"])


def scan(sim_corp, code, name: str = "扫码客户") -> dict:
    answer = sim_corp.post(
        "/customers/scan", config_id=code.config_id, customer={"name": name}, auto_accept=True
    )
    sim_corp.wait_for_callbacks()
    return answer


def advance(sim, seconds: float) -> None:
    """Move Qike's clock and wecomsim's together."""
    clock.advance(seconds)
    answer = httpx.post(f"{sim.url}/sim/clock/advance", json={"seconds": seconds}, timeout=10)
    assert answer.status_code == 200, answer.text


def advance_to(sim, weekday: int, hour: int) -> None:
    """Move both clocks forward to the next `weekday` (0 = Monday) at `hour`:00 Shanghai time."""
    local = timezone.localtime(clock.now())
    target = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    target += dt.timedelta(days=(weekday - local.weekday()) % 7)
    if target <= local:
        target += dt.timedelta(days=7)
    advance(sim, (target - local).total_seconds())
