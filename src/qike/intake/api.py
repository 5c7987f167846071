"""REST API: the intake event store (what WeCom sent, and what became of it), and replay."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from qike.api.auth import access_of, read_auth, write_auth
from qike.api.errors import ApiError
from qike.api.pagination import cursor_page
from qike.api.schemas import CursorQuery, Id, errors
from qike.intake import services
from qike.intake.models import CallbackEvent
from qike.intake.schemas import EventDetail, EventPage, EventQuery
from qike.org.access import Access, Action

router = Router(tags=["events"], auth=read_auth)

# The list leaves out the payload: it holds customers' details and can be large.
LIST_FIELDS = (
    "id",
    "kind",
    "status",
    "event_time",
    "received_at",
    "processed_at",
    "deliveries",
    "attempts",
    "last_error",
)


def events_in_corp(access: Access) -> QuerySet[CallbackEvent]:
    access.require(Action.VIEW_EVENTS)
    return CallbackEvent.objects.filter(corp=access.corp)


def find_event(access: Access, event_id: int) -> CallbackEvent:
    event = events_in_corp(access).filter(pk=event_id).first()
    if event is None:
        raise ApiError(404, "not_found", _("No event with id %(id)s.") % {"id": event_id})
    return event


@router.get("/events", response={200: EventPage, **errors(400, 403)}, summary="List events")
def list_events(request: HttpRequest, filters: Query[EventQuery], page: Query[CursorQuery]) -> dict:
    """Callbacks as received, newest first."""
    events = events_in_corp(access_of(request)).only(*LIST_FIELDS)
    if filters.status is not None:
        events = events.filter(status=filters.status)
    if filters.kind:
        events = events.filter(kind=filters.kind)
    return cursor_page(events, field="received_at", params=page)


@router.get(
    "/events/{event_id}", response={200: EventDetail, **errors(403, 404)}, summary="Get an event"
)
def event_detail(request: HttpRequest, event_id: Id) -> CallbackEvent:
    return find_event(access_of(request), event_id)


@router.post(
    "/events/{event_id}/replay",
    auth=write_auth,
    response={200: EventDetail, **errors(403, 404)},
    summary="Replay an event",
)
def replay_event(request: HttpRequest, event_id: Id) -> CallbackEvent:
    """Runs the event's handlers again now, whatever its status (handlers are idempotent), and
    answers the event with its new status and error."""
    access = access_of(request)
    access.require(Action.REPLAY_EVENTS)
    event = find_event(access, event_id)
    (replayed,) = services.replay(CallbackEvent.objects.filter(pk=event.pk))
    return replayed
