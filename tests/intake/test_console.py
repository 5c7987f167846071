"""The events page: the intake event store, filtered, one event's XML, and replay."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qike.core import clock
from qike.intake import registry
from qike.intake.models import CallbackEvent, EventStatus
from tests.console.world import World, build_world

pytestmark = pytest.mark.django_db

XML = (
    "<xml><ToUserName>{corpid}</ToUserName><FromUserName>sys</FromUserName>"
    "<CreateTime>1700000000</CreateTime><MsgType>event</MsgType><Event>console_test</Event>"
    "<ChangeType>{change}</ChangeType><Marker>{marker}</Marker></xml>"
)


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def as_user(client, world):
    def login(key: str):
        client.force_login(world.users[key])
        return client

    return login


def event(corp, marker: str, *, change: str = "boom", status=EventStatus.DONE, **values):
    return CallbackEvent.objects.create(
        corp=corp,
        dedupe_key=marker,
        kind=f"console_test/{change}",
        payload=XML.format(corpid=corp.corpid, change=change, marker=marker),
        status=status,
        **values,
    )


@pytest.fixture
def events(world):
    failed = event(
        world.corp,
        "failed-one",
        status=EventStatus.FAILED,
        attempts=4,
        last_error="RuntimeError: downstream unavailable",
    )
    done = event(world.corp, "done-one", change="fine", attempts=1)
    theirs = event(world.other, "theirs", status=EventStatus.FAILED)
    return {"failed": failed, "done": done, "theirs": theirs}


@pytest.fixture
def handler():
    calls = []

    @registry.handles("console_test/boom")
    def handle(*, corp, event):
        calls.append(corp.corpid)

    yield calls
    registry._handlers.pop("console_test/boom", None)


def _listed(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-event="(\d+)"', html)}


def test_the_list_shows_status_kind_attempts_and_error(as_user, events):
    html = as_user("admin").get("/events/").content.decode()
    assert _listed(html) == {events["failed"].pk, events["done"].pk}
    assert "console_test/boom" in html and "downstream unavailable" in html
    assert 'data-status-count="failed"' in html


def test_filters(as_user, events):
    client = as_user("ops")
    assert _listed(client.get("/events/?status=failed").content.decode()) == {events["failed"].pk}
    assert _listed(client.get("/events/?kind=console_test/fine").content.decode()) == {
        events["done"].pk
    }
    tomorrow = (clock.now() + dt.timedelta(days=2)).date().isoformat()
    assert _listed(client.get(f"/events/?received_from={tomorrow}").content.decode()) == set()


def test_bad_filters_are_explained(as_user, events):
    client = as_user("admin")
    response = client.get("/events/?received_from=2024-05-02&received_to=2024-05-01")
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    response = client.get("/events/?received_from=not-a-date&status=nonsense")
    assert response.status_code == 400
    response = client.get("/events/?cursor=garbage")
    assert response.status_code == 400
    assert _listed(response.content.decode()) == {events["failed"].pk, events["done"].pk}


def test_one_events_decrypted_xml(as_user, events):
    html = as_user("admin").get(f"/events/{events['failed'].pk}/").content.decode()
    assert "&lt;Marker&gt;failed-one&lt;/Marker&gt;" in html
    assert "downstream unavailable" in html


def test_replaying_a_failed_event_runs_it_again(as_user, events, handler):
    client = as_user("admin")
    response = client.post(f"/events/{events['failed'].pk}/replay/")
    assert response.status_code == 302
    row = CallbackEvent.objects.get(pk=events["failed"].pk)
    assert (row.status, row.attempts, row.last_error) == (EventStatus.DONE, 5, "")
    assert handler == ["wwconsole"]
    assert 'class="alert success"' in client.get(response["Location"]).content.decode()


def test_replaying_all_failed_events(as_user, events, handler):
    response = as_user("admin").post("/events/replay-failed/")
    assert response.status_code == 302
    assert CallbackEvent.objects.get(pk=events["failed"].pk).status == EventStatus.DONE
    # another corp's failed event is not touched
    assert CallbackEvent.objects.get(pk=events["theirs"].pk).status == EventStatus.FAILED


def test_another_corps_event_is_not_found(as_user, events):
    client = as_user("admin")
    assert client.get(f"/events/{events['theirs'].pk}/").status_code == 404
    assert client.post(f"/events/{events['theirs'].pk}/replay/").status_code == 404


def test_operations_may_look_but_not_replay(as_user, events):
    client = as_user("ops")
    assert client.get(f"/events/{events['failed'].pk}/").status_code == 200
    assert 'id="replay"' not in client.get(f"/events/{events['failed'].pk}/").content.decode()
    assert client.post(f"/events/{events['failed'].pk}/replay/").status_code == 403
    assert client.post("/events/replay-failed/").status_code == 403
    assert CallbackEvent.objects.get(pk=events["failed"].pk).attempts == 4


@pytest.mark.parametrize("key", ["manager", "seller"])
def test_managers_and_staff_see_no_events(as_user, events, key):
    client = as_user(key)
    assert client.get("/events/").status_code == 403
    assert client.get(f"/events/{events['failed'].pk}/").status_code == 403
    assert 'href="/events/"' not in client.get("/tags/").content.decode()


def test_the_list_costs_the_same_number_of_queries_however_many_events(as_user, world, events):
    client = as_user("admin")
    client.get("/events/")
    with CaptureQueriesContext(connection) as small:
        client.get("/events/")
    for index in range(30):
        event(world.corp, f"more-{index}", change=f"kind{index % 3}")
    with CaptureQueriesContext(connection) as big:
        client.get("/events/")
    assert len(big) == len(small)
