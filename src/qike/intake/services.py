"""Storing WeCom callbacks durably and idempotently, and running their handlers."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet

from qike import jobs
from qike.core import clock
from qike.core.models import Corp
from qike.intake.models import CallbackEvent, EventStatus
from qike.intake.registry import handlers_for, urgent_handlers_for
from qike.wecom.events import Event, parse_event

log = logging.getLogger("qike.intake")

MAX_ERROR_LENGTH = 4000


@dataclass(frozen=True)
class Received:
    event: CallbackEvent
    created: bool


def store_event(*, corp: Corp, event: Event) -> Received:
    """Store a decrypted event once. A repeated delivery only counts itself and changes nothing else."""
    key = event.dedupe_key()
    try:
        with transaction.atomic():
            row = CallbackEvent.objects.create(
                corp=corp,
                dedupe_key=key,
                kind=event.kind,
                event_time=clock.from_timestamp(event.create_time),
                payload=event.xml.decode("utf-8"),
            )
            if urgent_handlers_for(event.kind):
                jobs.enqueue_on_commit(_urgent_event_job, row.pk)
            jobs.enqueue_on_commit(_process_event_job, row.pk)
            return Received(row, True)
    except IntegrityError:
        CallbackEvent.objects.filter(corp=corp, dedupe_key=key).update(
            deliveries=F("deliveries") + 1
        )
        row = CallbackEvent.objects.get(corp=corp, dedupe_key=key)
        log.info("intake.duplicate corp=%s event=%s kind=%s", corp.corpid, row.pk, row.kind)
        return Received(row, False)


def process_event(*, event_id: int, force: bool = False) -> CallbackEvent:
    """Run the registered handlers of one stored event. Handlers are idempotent, so running an
    event again (a retry, a replay) has the same effect as running it once."""
    row = CallbackEvent.objects.select_related("corp").get(pk=event_id)
    if row.status == EventStatus.DONE and not force:
        return row
    event = parse_event(row.payload.encode("utf-8"))
    handlers = handlers_for(event.kind) or handlers_for(event.event)
    attempts = row.attempts + 1
    if not handlers:
        _finish(row, status=EventStatus.IGNORED, attempts=attempts)
        return row
    try:
        for handler in handlers:
            handler(corp=row.corp, event=event)
    except Exception as exc:
        _finish(row, status=EventStatus.FAILED, attempts=attempts, error=_describe(exc))
        log.warning("intake.failed event=%s kind=%s error=%s", row.pk, row.kind, _describe(exc))
        raise
    _finish(row, status=EventStatus.DONE, attempts=attempts)
    return row


def _finish(row: CallbackEvent, *, status: str, attempts: int, error: str = "") -> None:
    row.status = status
    row.attempts = attempts
    row.last_error = error[:MAX_ERROR_LENGTH]
    row.processed_at = clock.now()
    row.save(update_fields=["status", "attempts", "last_error", "processed_at"])


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def replay(events: QuerySet[CallbackEvent]) -> list[CallbackEvent]:
    """Run chosen events again now, whatever their status; returns them with their new status."""
    results = []
    for event_id in events.order_by("received_at", "id").values_list("pk", flat=True):
        try:
            results.append(process_event(event_id=event_id, force=True))
        except Exception:  # recorded on the row by process_event
            results.append(CallbackEvent.objects.get(pk=event_id))
    return results


def run_urgent_handlers(*, event_id: int) -> None:
    """The time-critical part of an event, ahead of the rest; the event's status is left to the
    full run, which repeats these handlers harmlessly (they are idempotent)."""
    row = CallbackEvent.objects.select_related("corp").get(pk=event_id)
    event = parse_event(row.payload.encode("utf-8"))
    for handler in urgent_handlers_for(event.kind):
        handler(corp=row.corp, event=event)


@jobs.task(retries=3, retry_delay=5)
def _process_event_job(event_id: int) -> None:
    process_event(event_id=event_id)


# No retries: whatever fails here runs again moments later in the event's full run.
@jobs.task(retries=0, priority=jobs.URGENT_PRIORITY)
def _urgent_event_job(event_id: int) -> None:
    run_urgent_handlers(event_id=event_id)
