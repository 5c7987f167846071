"""Stored events run again on demand; a failing handler leaves its error visible."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from qike.core.models import Corp
from qike.intake import registry
from qike.intake.models import CallbackEvent, EventStatus
from qike.intake.services import process_event, store_event
from qike.wecom.events import parse_event

pytestmark = pytest.mark.django_db(transaction=True)

XML = (
    "<xml><ToUserName>ww9</ToUserName><FromUserName>sys</FromUserName><CreateTime>1700000000</CreateTime>"
    "<MsgType>event</MsgType><Event>test_event</Event><ChangeType>boom</ChangeType></xml>"
)


@pytest.fixture
def corp():
    return Corp.objects.create(corpid="ww9", secret="s")


@pytest.fixture
def flaky_handler():
    calls = []

    @registry.handles("test_event/boom")
    def handler(*, corp, event):
        calls.append(event.kind)
        if len(calls) == 1:
            raise RuntimeError("downstream unavailable")

    yield calls
    registry._handlers.pop("test_event/boom", None)


def test_a_failed_event_keeps_its_error_and_replays_to_done(corp, flaky_handler):
    received = store_event(corp=corp, event=parse_event(XML.encode()))
    row = CallbackEvent.objects.get(pk=received.event.pk)
    assert row.status == EventStatus.FAILED
    assert "downstream unavailable" in row.last_error

    out = StringIO()
    call_command("replay", "--status", "failed", stdout=out, stderr=StringIO())
    row.refresh_from_db()
    assert row.status == EventStatus.DONE
    assert row.attempts == 2
    assert flaky_handler == ["test_event/boom", "test_event/boom"]


def test_an_event_without_a_handler_is_kept_as_ignored(corp):
    xml = XML.replace("test_event", "unheard_of")
    received = store_event(corp=corp, event=parse_event(xml.encode()))
    assert CallbackEvent.objects.get(pk=received.event.pk).status == EventStatus.IGNORED


def test_done_events_are_not_run_twice_unless_forced(corp, flaky_handler):
    received = store_event(corp=corp, event=parse_event(XML.encode()))
    process_event(event_id=received.event.pk, force=True)
    process_event(event_id=received.event.pk)
    assert len(flaky_handler) == 2


def test_replay_needs_a_choice_and_known_ids():
    with pytest.raises(CommandError, match="filter"):
        call_command("replay", stdout=StringIO())
    with pytest.raises(CommandError, match="no such events"):
        call_command("replay", "999", stdout=StringIO())
