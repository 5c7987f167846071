"""The audit trail in the console: read-only, for admins."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from qike.audit.queries import AuditFilter, entries_for, filter_entries, known_actions
from qike.console.decorators import console_view
from qike.core.pagination import BadCursor, newest_first
from qike.org.access import Access

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Action"), required=False)
    actor = forms.CharField(label=gettext_lazy("Who"), required=False, max_length=150)
    target = forms.CharField(label=gettext_lazy("Object"), required=False, max_length=255)
    date_from = forms.DateField(label=gettext_lazy("First day"), required=False)
    date_to = forms.DateField(label=gettext_lazy("Last day"), required=False)

    def __init__(self, data, *, actions: list[str]) -> None:
        super().__init__(data)
        apps = sorted({action.split(".", 1)[0] + "." for action in actions})
        self.fields["action"].choices = [
            ("", _("Any action")),
            *[(app, _("everything in %(app)s") % {"app": app.rstrip(".")}) for app in apps],
            *[(action, action) for action in actions],
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def to_filter(self) -> AuditFilter:
        data = self.cleaned_data
        return AuditFilter(
            action=data.get("action") or "",
            actor=(data.get("actor") or "").strip(),
            target=(data.get("target") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


@require_GET
@console_view
def audit_list(request: HttpRequest, access: Access) -> HttpResponse:
    entries = entries_for(access)
    form = AuditFilterForm(request.GET or None, actions=known_actions(entries))
    status, filtered = 200, entries
    if form.is_bound:
        if form.is_valid():
            filtered = filter_entries(entries, form.to_filter())
        else:
            status, filtered = 400, entries.none()
    try:
        page = newest_first(
            filtered, field="at", cursor=request.GET.get("cursor", ""), size=PAGE_SIZE
        )
    except BadCursor as exc:
        messages.error(request, str(exc))
        page, status = newest_first(filtered, field="at", size=PAGE_SIZE), 400
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "audit/entries.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=status,
    )
