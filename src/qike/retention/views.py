"""Console pages: lost customers (with reasons), churn stats, the shared pool, settings."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.console.decorators import console_view
from qike.core.pagination import BadCursor, newest_first
from qike.org.access import Access
from qike.org.models import Role, Staff, StaffStatus
from qike.retention import services
from qike.retention.forms import SettingsForm, initial_for
from qike.retention.models import LostKind

PAGE_SIZE = 50


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _staff_choices(access: Access):
    return Staff.objects.filter(access.staff_filter(), corp=access.corp).order_by("name", "userid")


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


def _problem(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


@require_GET
@console_view
def lost_list(request: HttpRequest, access: Access) -> HttpResponse:
    won = request.GET.get("won_back", "")
    chosen = {
        "staff": request.GET.get("staff", ""),
        "start": request.GET.get("start", ""),
        "end": request.GET.get("end", ""),
        "reason": request.GET.get("reason", ""),
        "won_back": won if won in ("yes", "no") else "",
        "kind": request.GET.get("kind", "") if request.GET.get("kind") in LostKind else "",
    }
    rows = services.filter_lost(
        services.lost_in_scope(access).select_related("customer", "staff"),
        staff=chosen["staff"],
        start=_date(chosen["start"]),
        end=_date(chosen["end"]),
        reason=chosen["reason"],
        won_back={"yes": True, "no": False}.get(chosen["won_back"]),
        kind=chosen["kind"],
    )
    try:
        page = newest_first(
            rows, field="lost_at", cursor=request.GET.get("cursor", ""), size=PAGE_SIZE
        )
    except BadCursor:
        raise Http404 from None
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "retention/lost.html",
        {
            "rows": page.items,
            "next_cursor": page.next_cursor,
            "query": query.urlencode(),
            "chosen": chosen,
            "kinds": LostKind.choices,
            "reasons": services.settings_for(access.corp).reasons,
            "staff": _staff_choices(access),
        },
    )


@require_POST
@console_view
def lost_reason(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    lost = services.get_lost(access, pk)
    try:
        services.set_reason(
            access=access,
            lost=lost,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("Reason saved."))
    except ValidationError as exc:
        _problem(request, exc)
    return _back(request, "console:lost_customers")


@require_GET
@console_view
def stats(request: HttpRequest, access: Access) -> HttpResponse:
    start, end = services.default_range()
    start = _date(request.GET.get("start", "")) or start
    end = _date(request.GET.get("end", "")) or end
    problem = ""
    try:
        tables = services.churn_stats(access=access, start=start, end=end)
    except ValidationError as exc:
        problem, tables = " ".join(exc.messages), {}
    return render(
        request,
        "retention/stats.html",
        {
            "start": start,
            "end": end,
            "problem": problem,
            "tables": [
                (_("By staff member"), tables.get("staff", [])),
                (_("By channel"), tables.get("channel", [])),
                (_("By stage"), tables.get("stage", [])),
            ],
            "total": (tables.get("total") or [None])[0],
        },
        status=400 if problem else 200,
    )


@require_GET
@console_view
def pool(request: HttpRequest, access: Access) -> HttpResponse:
    entries = services.pool_in_corp(access).select_related("customer", "from_staff")
    try:
        page = newest_first(
            entries, field="pooled_at", cursor=request.GET.get("cursor", ""), size=PAGE_SIZE
        )
    except BadCursor:
        raise Http404 from None
    assigns = access.corp_wide or access.role == Role.MANAGER
    return render(
        request,
        "retention/pool.html",
        {
            "entries": page.items,
            "next_cursor": page.next_cursor,
            "left": services.claims_left(access),
            "limit": services.settings_for(access.corp).claim_limit,
            "mine": services.owned_by(access).select_related("customer")[:PAGE_SIZE],
            "assignees": _staff_choices(access).filter(status=StaffStatus.ACTIVE)
            if assigns
            else [],
        },
    )


@require_POST
@console_view
def pool_claim(request: HttpRequest, access: Access, customer_id: int) -> HttpResponse:
    try:
        claim = services.claim(
            access=access, customer_id=customer_id, userid=request.POST.get("staff", "")
        )
        messages.success(request, _("Claimed."))
        if claim.transfer_note:
            messages.warning(request, claim.transfer_note)
    except ValidationError as exc:
        _problem(request, exc)
    return redirect("console:pool")


@require_POST
@console_view
def pool_give_back(request: HttpRequest, access: Access, customer_id: int) -> HttpResponse:
    try:
        services.give_back(access=access, customer_id=customer_id)
        messages.success(request, _("Given back to the shared pool."))
    except ValidationError as exc:
        _problem(request, exc)
    return _back(request, "console:pool")


@require_http_methods(["GET", "POST"])
@console_view
def settings_page(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_manage_settings(access)
    conf = services.settings_for(access.corp)
    form = SettingsForm(request.POST or None, initial=initial_for(conf))
    problem = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_settings(
                access=access,
                alert_staff=data["alert_staff"],
                alert_manager=data["alert_manager"],
                delete_limit=data["delete_limit"],
                reasons=form.reason_list(),
                pool_idle_days=data["pool_idle_days"],
                claim_limit=data["claim_limit"],
            )
            messages.success(request, _("Settings saved."))
            return redirect("console:retention_settings")
        except ValidationError as exc:
            problem = " ".join(exc.messages)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "retention/settings.html", {"form": form, "problem": problem}, status=status
    )
