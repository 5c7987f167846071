"""Console pages: the segment list (counts load per row), the editor with a live count and preview
(htmx posts the form as rules change), and delete. Everyone who sees customers may open a segment
and see its count and members within their own scope; corp admins and operations edit."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.console.decorators import console_view
from qike.org.access import Access
from qike.segments import services
from qike.segments.forms import SegmentForm
from qike.segments.models import Segment
from qike.segments.rules import SegmentRules

PREVIEW_SIZE = 20


@require_GET
@console_view
def segment_list(request: HttpRequest, access: Access) -> HttpResponse:
    return render(
        request,
        "segments/list.html",
        {"segments": services.segments(access=access), "may_manage": services.may_manage(access)},
    )


@require_GET
@console_view
def segment_count(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    """One row's live count (the list loads them one by one, so a slow one holds up nothing)."""
    segment = services.get_segment(access=access, pk=pk)
    counted = services.count(corp=access.corp, rules=segment.segment_rules, access=access)
    return render(request, "segments/_count.html", {"count": counted})


def _save(access: Access, form: SegmentForm, segment: Segment | None) -> Segment:
    data = form.cleaned_data
    values = {
        "access": access,
        "name": data["name"],
        "description": data["description"],
        "owner_userid": data["owner"],
        "rules": form.rules,
    }
    if segment is None:
        return services.create_segment(**values)
    return services.update_segment(segment=segment, **values)


def _editor(
    request: HttpRequest, access: Access, segment: Segment | None, form: SegmentForm, status=200
) -> HttpResponse:
    context = {
        "form": form,
        "segment": segment,
        "may_manage": services.may_manage(access),
        **_preview_context(access, form),
    }
    return render(request, "segments/edit.html", context, status=status)


def _preview_context(access: Access, form: SegmentForm) -> dict:
    """The count and newest members for the form's rules (a new, empty form: no rules yet)."""
    if not form.is_bound:
        rules = SegmentRules()
    elif form.is_valid() and form.rules is not None:
        rules = form.rules
    else:
        problems = [m for errors in form.errors.values() for m in errors]
        return {"problems": problems or [_("Check the rules.")]}
    return {
        "count": services.count(corp=access.corp, rules=rules, access=access),
        "members": services.preview(
            corp=access.corp, rules=rules, access=access, limit=PREVIEW_SIZE
        ),
    }


@require_http_methods(["GET", "POST"])
@console_view
def segment_new(request: HttpRequest, access: Access) -> HttpResponse:
    services.segments(access=access)  # may see customers at all
    if request.method == "GET":
        return _editor(request, access, None, SegmentForm(access=access))
    form = SegmentForm(request.POST, access=access)
    if form.is_valid() and form.require_name():
        try:
            segment = _save(access, form, None)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Segment saved."))
            return redirect("console:segment", pk=segment.pk)
    return _editor(request, access, None, form, status=400)


@require_http_methods(["GET", "POST"])
@console_view
def segment_edit(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    segment = services.get_segment(access=access, pk=pk)
    if request.method == "GET":
        form = SegmentForm(_as_data(access, segment), access=access, segment=segment)
        return _editor(request, access, segment, form)
    form = SegmentForm(request.POST, access=access, segment=segment)
    if form.is_valid() and form.require_name():
        try:
            _save(access, form, segment)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Segment saved."))
            return redirect("console:segment", pk=segment.pk)
    return _editor(request, access, segment, form, status=400)


def _as_data(access: Access, segment: Segment):
    """The saved segment as bound form data, so the page opens with its count and preview."""
    from django.http import QueryDict

    initial = SegmentForm(access=access, segment=segment).initial
    data = QueryDict(mutable=True)
    for key, value in initial.items():
        if isinstance(value, list):
            data.setlist(key, [str(v) for v in value])
        elif isinstance(value, bool):
            if value:
                data[key] = "on"
        elif value is not None:
            data[key] = str(value)
    return data


def _add_errors(form: SegmentForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, problems in exc.message_dict.items():
            for problem in problems:
                form.add_error(field if field in form.fields else None, problem)
    else:
        for problem in exc.messages:
            form.add_error(None, problem)


@require_POST
@console_view
def segment_preview(request: HttpRequest, access: Access) -> HttpResponse:
    """The editor's live count and members for the rules as they stand in the form (htmx)."""
    services.segments(access=access)
    form = SegmentForm(request.POST, access=access)
    form.is_valid()
    status = 200 if form.is_valid() else 400
    # htmx swaps only 2xx answers by default; the problems are content here, so answer 200.
    if request.headers.get("HX-Request"):
        status = 200
    return render(request, "segments/_preview.html", _preview_context(access, form), status=status)


@require_POST
@console_view
def segment_delete(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    segment = services.get_segment(access=access, pk=pk)
    services.delete_segment(access=access, segment=segment)
    messages.success(request, _("Segment deleted."))
    return redirect(reverse("console:segments"))
