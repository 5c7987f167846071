"""Live codes end to end: created in WeCom (wecomsim), scanned by customers, attributed, tagged,
and their member list steered by caps, shifts, backups and even spreading as both clocks move."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError

from qike.acquisition import services
from qike.acquisition.models import LiveCode, LiveCodeAdd
from qike.acquisition.services import LiveCodeSpec, ShiftSpec
from qike.core.services import client_for
from qike.customers.models import FollowRelation, TimelineEntry, TimelineKind
from qike.engagement.sources import source_for_state
from qike.org.models import Staff
from qike.tags.models import Tag
from tests.acquisition.conftest import advance, advance_to, scan, way_users

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_code_is_created_in_wecom_and_a_scan_is_attributed_tagged_and_on_the_timeline(
    corp, admin, userids, sim_corp
):
    tag = Tag.objects.filter(corp=corp, type=1).first()
    code = services.create_live_code(
        access=admin,
        spec=LiveCodeSpec(
            name="地铁海报",
            channel_group="线下",
            userids=tuple(userids[:2]),
            tag_ids=(tag.wecom_id,),
        ),
    )
    assert code.state == f"lc-{code.pk}"
    assert way_users(corp, code) == sorted(userids[:2])
    source = source_for_state(corp, code.state)
    assert (source.kind, source.object_id, source.tag_ids) == ("live_code", code.pk, (tag.pk,))

    answer = scan(sim_corp, code, "张三")
    relation = FollowRelation.objects.get(
        corp=corp,
        customer__external_userid=answer["external_userid"],
        staff__userid=answer["userid"],
    )
    assert relation.state == code.state
    assert LiveCodeAdd.objects.get(code=code).relation == relation
    entry = TimelineEntry.objects.get(customer=relation.customer, kind=TimelineKind.CHANNEL)
    assert entry.data["label"] == "地铁海报"
    customer = next(
        c
        for c in sim_corp.snapshot()["customers"]
        if c["external_userid"] == answer["external_userid"]
    )
    follow = next(f for f in customer["follow_users"] if f["userid"] == answer["userid"])
    assert tag.wecom_id in follow["tag_ids"]
    assert relation.tag_assignments.filter(tag=tag).exists()

    # The same event delivered again changes nothing.
    services.attribute_add(
        corp=corp,
        state=code.state,
        external_userid=answer["external_userid"],
        userid=answer["userid"],
        at=None,
    )
    assert LiveCodeAdd.objects.filter(code=code).count() == 1
    assert (
        TimelineEntry.objects.filter(customer=relation.customer, kind=TimelineKind.CHANNEL).count()
        == 1
    )


def test_capped_member_leaves_backup_takes_over_and_all_return_next_day(
    corp, admin, userids, sim_corp, sim
):
    pool, backup = userids[:2], userids[2]
    code = services.create_live_code(
        access=admin,
        spec=LiveCodeSpec(
            name="门口易拉宝",
            userids=tuple(pool),
            backup_userids=(backup,),
            daily_cap=1,
            spread_evenly=False,
        ),
    )
    assert way_users(corp, code) == sorted(pool)
    first = scan(sim_corp, code)["userid"]
    assert way_users(corp, code) == [u for u in sorted(pool) if u != first]
    second = scan(sim_corp, code)["userid"]
    assert second != first
    assert way_users(corp, code) == [backup]  # everyone capped: the backup takes over
    assert scan(sim_corp, code)["userid"] == backup
    assert way_users(corp, code) == [backup]  # backups have no cap

    advance(sim, 24 * 3600)
    assert services.refresh_all_pools() == 1
    assert way_users(corp, code) == sorted(pool)
    assert services.refresh_all_pools() == 0  # nothing changed: WeCom is not called again


def test_shifts_switch_pools_and_backups_cover_off_hours(corp, admin, userids, sim_corp, sim):
    day, night, backup = userids[0], userids[1], userids[2]
    advance_to(sim, weekday=0, hour=10)
    code = services.create_live_code(
        access=admin,
        spec=LiveCodeSpec(
            name="客服热线",
            backup_userids=(backup,),
            shifts=(
                ShiftSpec(weekdays=(0,), start=_t(9), end=_t(18), userids=(day,)),
                ShiftSpec(weekdays=(0,), start=_t(18), end=_t(23), userids=(night,)),
            ),
        ),
    )
    assert way_users(corp, code) == [day]
    advance(sim, 9 * 3600)  # Monday 19:00
    services.refresh_all_pools()
    assert way_users(corp, code) == [night]
    assert scan(sim_corp, code)["userid"] == night
    advance(sim, 6 * 3600)  # Tuesday 01:00: no shift
    services.refresh_all_pools()
    assert way_users(corp, code) == [backup]


def _t(hour: int):
    import datetime as dt

    return dt.time(hour, 0)


def test_concurrent_scans_spread_evenly(corp, admin, userids, sim_corp):
    """Scans arrive in bursts of WAVE at once; WeCom picks among the listed members before Qike
    hears of any of them. Qike lists only the least-loaded members, and a member leaves the list
    as soon as an add lifts them above the lowest load, so a member can gain at most WAVE adds
    over the lowest: the spread never exceeds WAVE (a random pick over 32 scans often would)."""
    pool = userids[:4]
    wave, waves = 4, 8
    code = services.create_live_code(
        access=admin, spec=LiveCodeSpec(name="直播间", userids=tuple(pool))
    )

    def one(n: int) -> dict:
        return sim_corp.post(
            "/customers/scan",
            config_id=code.config_id,
            customer={"name": f"客{n}"},
            auto_accept=True,
        )

    with ThreadPoolExecutor(max_workers=wave) as pool_threads:
        for w in range(waves):
            list(pool_threads.map(one, range(w * wave, (w + 1) * wave)))
            sim_corp.wait_for_callbacks()
    counts = {u: LiveCodeAdd.objects.filter(code=code, staff__userid=u).count() for u in pool}
    assert sum(counts.values()) == wave * waves
    assert max(counts.values()) - min(counts.values()) <= wave, counts


def test_bad_input_is_refused_and_writes_nothing(corp, admin, userids, sim_corp):
    def ways() -> int:
        with client_for(corp) as client:
            return len(client.list_contact_way(limit=1000)[0])

    in_wecom = ways()
    before = LiveCode.objects.count()
    many = [
        Staff.objects.create(corp=corp, userid=f"bulk{n:03d}", name=f"批量{n}").userid
        for n in range(101)
    ]
    with pytest.raises(ValidationError, match="at most 100"):
        services.create_live_code(access=admin, spec=LiveCodeSpec(name="太多", userids=tuple(many)))
    with pytest.raises(ValidationError, match="pool is empty"):
        services.create_live_code(access=admin, spec=LiveCodeSpec(name="空"))
    with pytest.raises(ValidationError, match="no active staff member"):
        services.create_live_code(access=admin, spec=LiveCodeSpec(name="无人", userids=("nobody",)))
    assert LiveCode.objects.count() == before
    assert ways() == in_wecom

    code = services.create_live_code(
        access=admin, spec=LiveCodeSpec(name="A", userids=(userids[0],))
    )
    # A code whose state was taken over by another (e.g. restored from a backup) cannot be made.
    LiveCode.objects.filter(pk=code.pk).update(state=f"lc-{code.pk + 1}")
    with pytest.raises(ValidationError, match="already used"):
        services.create_live_code(access=admin, spec=LiveCodeSpec(name="B", userids=(userids[0],)))
    assert LiveCode.objects.count() == before + 1

    services.delete_live_code(access=admin, code=code)
    with pytest.raises(ValidationError, match="deleted"):
        services.update_live_code(
            access=admin, code=code, spec=LiveCodeSpec(name="A2", userids=(userids[0],))
        )
    code.refresh_from_db()
    assert code.name == "A"


def test_staff_card_is_created_once_and_attributed(corp, admin, userids, sim_corp):
    staff = Staff.objects.get(corp=corp, userid=userids[0])
    card = services.ensure_staff_card(access=admin, staff=staff)
    assert services.ensure_staff_card(access=admin, staff=staff) == card
    assert card.state == f"sc-{card.pk}"
    source = source_for_state(corp, card.state)
    assert source.kind == "staff_card"
    answer = sim_corp.post(
        "/customers/scan", config_id=card.config_id, customer={"name": "名片客户"}, auto_accept=True
    )
    assert answer["userid"] == staff.userid
