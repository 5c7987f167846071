"""The console's small corp (tests.console.world) with more relations for segment rules:

active, not half-added by default — (c1,sales) (c2,north) (c3,service) (c4,service) (c6,boss)
(c2,service); c5 is half-added by north; (c4,sales) deleted by the customer; (c1,service) deleted by
the staff member. c3 carries a personal tag; c6 opened a link two days ago; (c2,north) is in the
stage 意向客户."""

from __future__ import annotations

import datetime as dt

import pytest

from qike.api import services as api_services
from qike.core import clock
from qike.customers.models import Customer, RelationStatus, TimelineEntry, TimelineKind
from qike.lifecycle import services as lifecycle
from qike.lifecycle.models import Stage
from qike.org.access import access_for
from qike.tags.models import Tag, TagType
from tests.api.conftest import BASE, Api
from tests.console.world import World, build_world, follow


@pytest.fixture
def world(db) -> World:
    world = build_world()
    corp, staff, tags, now = world.corp, world.staff, world.tags, clock.now()
    tags["lost"] = Tag.objects.create(
        corp=corp, wecom_id="etLost", name="流失风险", type=TagType.PERSONAL
    )
    tags["foreign"] = Tag.objects.create(corp=world.other, wecom_id="etForeign", name="别家")
    c = world.customers
    for key, name in [("c5", "孙悟"), ("c6", "赵六")]:
        c[key] = Customer.objects.create(corp=corp, external_userid=f"wm{key}", name=name)
    rel = world.relations
    rel[("c3", "service")].tag_assignments.create(corp=corp, tag=tags["lost"])
    rel[("c5", "north")] = follow(corp, c["c5"], staff["north"], is_half=True)
    rel[("c6", "boss")] = follow(
        corp,
        c["c6"],
        staff["boss"],
        added_at=now - dt.timedelta(days=200),
        tags=(tags["vip"], tags["normal"]),
        state="lc-9",
    )
    rel[("c2", "service")] = follow(
        corp,
        c["c2"],
        staff["service"],
        added_at=now - dt.timedelta(days=40),
        tags=(tags["vip"], tags["normal"]),
    )
    rel[("c1", "service")] = follow(
        corp,
        c["c1"],
        staff["service"],
        added_at=now - dt.timedelta(days=50),
        status=RelationStatus.DELETED_BY_STAFF,
    )
    TimelineEntry.objects.create(
        corp=corp,
        customer=c["c6"],
        kind=TimelineKind.LINK_OPENED,
        occurred_at=now - dt.timedelta(days=2),
    )
    admin = access_for(world.users["admin"], corp)
    keen = _stage(world, "意向客户")
    lifecycle.move(access=admin, relation=rel[("c2", "north")], stage=keen)
    return world


def _stage(world: World, name: str) -> Stage:
    lifecycle.ensure_pipeline(world.corp)
    return Stage.objects.get(corp=world.corp, name=name, retired_at__isnull=True)


@pytest.fixture
def stage():
    return _stage


def access(world: World, key: str):
    return access_for(world.users[key], world.other if key == "outsider" else world.corp)


class SegmentApi(Api):
    def put(self, path: str, body: dict):
        return self.client.put(
            f"{BASE}{path}", body, content_type="application/json", **self._headers()
        )


def api(world: World, key: str, scopes: str = "read") -> SegmentApi:
    corp = world.other if key == "outsider" else world.corp
    admin_user = world.users["outsider" if key == "outsider" else "admin"]
    _token, secret = api_services.create_token(
        access=access_for(admin_user, corp), user=world.users[key], name="t", scopes=scopes
    )
    return SegmentApi(secret)
