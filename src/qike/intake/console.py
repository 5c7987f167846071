"""Console pages over the intake event store: what WeCom sent, what became of it, and replay.

(The WeCom callback itself is `intake.views`.)"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from qike.console.decorators import console_view
from qike.core.pagination import BadCursor, newest_first
from qike.intake import services
from qike.intake.models import CallbackEvent, EventStatus
from qike.org.access import Access, Action

PAGE_SIZE = 50
# Replaying runs the handlers inside the request; more than this at once belongs to the CLI
# (`qike replay`), which has no request timeout.
REPLAY_BATCH = 100


class EventFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *EventStatus.choices],
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)
    received_from = forms.DateField(label=gettext_lazy("Received from"), required=False)
    received_to = forms.DateField(label=gettext_lazy("Received to"), required=False)

    def __init__(self, data, *, kinds: list[str]) -> None:
        super().__init__(data)
        self.fields["kind"].choices = [("", _("Any kind")), *[(k, k) for k in kinds]]

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("received_from"), cleaned.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", _("The end date is before the start date."))
        return cleaned


def _events(access: Access) -> QuerySet[CallbackEvent]:
    access.require(Action.VIEW_EVENTS)
    return CallbackEvent.objects.filter(corp=access.corp)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def filter_events(events: QuerySet[CallbackEvent], data: dict) -> QuerySet[CallbackEvent]:
    if data.get("status"):
        events = events.filter(status=data["status"])
    if data.get("kind"):
        events = events.filter(kind=data["kind"])
    if data.get("received_from"):
        events = events.filter(received_at__gte=_day_start(data["received_from"]))
    if data.get("received_to"):
        events = events.filter(
            received_at__lt=_day_start(data["received_to"] + dt.timedelta(days=1))
        )
    return events


def _status_counts(events: QuerySet[CallbackEvent]) -> list[dict]:
    counts = dict(
        events.order_by().values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return [
        {"value": value, "label": label, "count": counts.get(value, 0)}
        for value, label in EventStatus.choices
    ]


@require_GET
@console_view
def event_list(request: HttpRequest, access: Access) -> HttpResponse:
    events = _events(access)
    kinds = list(events.order_by("kind").values_list("kind", flat=True).distinct())
    form = EventFilterForm(request.GET or None, kinds=kinds)
    status = 200
    filtered = events
    if form.is_bound:
        if form.is_valid():
            filtered = filter_events(events, form.cleaned_data)
        else:
            status = 400
            filtered = events.none()
    try:
        page = newest_first(
            filtered, field="received_at", cursor=request.GET.get("cursor", ""), size=PAGE_SIZE
        )
    except BadCursor as exc:
        messages.error(request, str(exc))
        page = newest_first(filtered, field="received_at", size=PAGE_SIZE)
        status = 400
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "intake/events.html",
        {
            "form": form,
            "page": page,
            "status_counts": _status_counts(events),
            "query": query.urlencode(),
            "may_replay": access.can(Action.REPLAY_EVENTS),
            "replay_batch": REPLAY_BATCH,
        },
        status=status,
    )


def _event(access: Access, pk: int) -> CallbackEvent:
    event = _events(access).filter(pk=pk).first()
    if event is None:
        raise Http404
    return event


@require_GET
@console_view
def event_detail(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    return render(
        request,
        "intake/event_detail.html",
        {"event": _event(access, pk), "may_replay": access.can(Action.REPLAY_EVENTS)},
    )


@require_POST
@console_view
def event_replay(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    access.require(Action.REPLAY_EVENTS)
    event = _event(access, pk)
    (result,) = services.replay(CallbackEvent.objects.filter(pk=event.pk))
    if result.status == EventStatus.FAILED:
        messages.error(
            request,
            _("Replayed event #%(id)s; it failed again: %(error)s")
            % {"id": result.pk, "error": result.last_error},
        )
    else:
        messages.success(
            request,
            _("Replayed event #%(id)s: %(status)s.")
            % {"id": result.pk, "status": result.get_status_display()},
        )
    return redirect("console:event_detail", pk=event.pk)


@require_POST
@console_view
def event_replay_failed(request: HttpRequest, access: Access) -> HttpResponse:
    """Replay the oldest failed events (a batch at a time)."""
    access.require(Action.REPLAY_EVENTS)
    failed = _events(access).filter(status=EventStatus.FAILED)
    ids = list(failed.order_by("received_at", "id").values_list("pk", flat=True)[:REPLAY_BATCH])
    if not ids:
        messages.info(request, _("No failed events to replay."))
        return redirect("console:events")
    results = services.replay(CallbackEvent.objects.filter(pk__in=ids))
    still_failed = sum(1 for r in results if r.status == EventStatus.FAILED)
    messages.success(
        request,
        ngettext(
            "Replayed %(count)d event; %(failed)d failed again.",
            "Replayed %(count)d events; %(failed)d failed again.",
            len(results),
        )
        % {"count": len(results), "failed": still_failed},
    )
    return redirect(f"{reverse('console:events')}?status={EventStatus.FAILED}")
