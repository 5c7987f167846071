"""A seeded wecomsim corp connected to Qike and synced, with console users in every role (the
staff user is the first member); and the console's small corp for page and API tests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from qike.core import clock
from qike.org.access import access_for
from qike.org.models import Membership, Role, Staff, StaffStatus
from qike.sync.full import full_sync
from tests.acquisition.conftest import advance
from tests.console.world import World, build_world


@pytest.fixture
def corp(qike_corp):
    full_sync(qike_corp)
    return qike_corp


@pytest.fixture
def userids(corp) -> list[str]:
    return sorted(
        Staff.objects.filter(corp=corp, status=StaffStatus.ACTIVE).values_list("userid", flat=True)
    )


@pytest.fixture
def users(corp, userids) -> dict[str, User]:
    made = {}
    for role in (Role.CORP_ADMIN, Role.OPERATIONS, Role.STAFF):
        user = User.objects.create_user(f"lc-{role}", password="pw")
        staff = Staff.objects.get(corp=corp, userid=userids[0]) if role == Role.STAFF else None
        Membership.objects.create(user=user, corp=corp, role=role, staff=staff)
        made[role] = user
    return made


@pytest.fixture
def admin(corp, users):
    return access_for(users[Role.CORP_ADMIN], corp)


@pytest.fixture
def seller(corp, users):
    return access_for(users[Role.STAFF], corp)


def advance_to(sim, hour: int, minute: int = 0) -> None:
    """Both clocks forward to the next hour:minute, Asia/Shanghai."""
    local = timezone.localtime(clock.now())
    target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= local:
        target += dt.timedelta(days=1)
    advance(sim, (target - local).total_seconds())


def add_customer(sim_corp, userid: str, name: str, **body) -> str:
    answer = sim_corp.post("/customers/add", userid=userid, customer={"name": name}, **body)
    sim_corp.wait_for_callbacks()
    return answer["external_userid"]


def texts(sim_corp, userid: str) -> list[str]:
    return [m["text"]["content"] for m in sim_corp.get("/app_messages", userid=userid)]


@pytest.fixture
def world(db) -> World:
    return build_world()
