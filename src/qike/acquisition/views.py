"""Console pages for live codes and staff QR cards. Thin: services change, stats/pools read."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.acquisition import qr, services
from qike.acquisition.forms import LiveCodeForm, initial_for
from qike.acquisition.models import LiveCode, StaffCard
from qike.acquisition.stats import code_stats
from qike.console.decorators import console_view
from qike.org.access import Access
from qike.org.models import Staff, StaffStatus
from qike.tags.views import describe_wecom_error
from qike.wecom.errors import WeComError


def _code(access: Access, pk: int) -> LiveCode:
    """A live (not deleted) code of this corp; another corp's is not found, and a store's code
    is managed on its store's page."""
    code = LiveCode.objects.filter(
        corp=access.corp, pk=pk, deleted_at__isnull=True, store__isnull=True
    ).first()
    if code is None:
        raise Http404
    return code


@require_GET
@console_view
def live_codes(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_view(access)
    codes = (
        LiveCode.objects.filter(corp=access.corp, deleted_at__isnull=True, store__isnull=True)
        .annotate(add_count=Count("adds"))
        .order_by("channel_group", "-created_at")
    )
    return render(
        request,
        "acquisition/live_codes.html",
        {"codes": codes, "may_manage": services.may_manage(access)},
    )


def _form_page(
    request: HttpRequest, access: Access, form: LiveCodeForm, code: LiveCode | None, problem: str
) -> HttpResponse:
    return render(
        request,
        "acquisition/live_code_form.html",
        {"form": form, "code": code, "problem": problem},
        status=400 if form.is_bound else 200,
    )


def _save(request: HttpRequest, access: Access, code: LiveCode | None) -> HttpResponse:
    form = LiveCodeForm(request.POST, corp=access.corp)
    problem = ""
    if form.is_valid():
        try:
            if code is None:
                code = services.create_live_code(access=access, spec=form.spec())
                messages.success(
                    request, _("Live code %(name)s created in WeCom.") % {"name": code.name}
                )
            else:
                code = services.update_live_code(access=access, code=code, spec=form.spec())
                messages.success(request, _("Saved %(name)s in WeCom.") % {"name": code.name})
            return redirect("console:live_code", pk=code.pk)
        except ValidationError as exc:
            problem = " ".join(exc.messages)
        except WeComError as exc:
            problem = describe_wecom_error(exc)
    return _form_page(request, access, form, code, problem)


@require_http_methods(["GET", "POST"])
@console_view
def live_code_new(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_manage(access)
    if request.method == "POST":
        return _save(request, access, None)
    return _form_page(request, access, LiveCodeForm(corp=access.corp), None, "")


@require_http_methods(["GET", "POST"])
@console_view
def live_code_edit(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.require_manage(access)
    code = _code(access, pk)
    if request.method == "POST":
        return _save(request, access, code)
    form = LiveCodeForm(initial=initial_for(code), corp=access.corp)
    return _form_page(request, access, form, code, "")


def code_context(access: Access, code: LiveCode) -> dict:
    """What acquisition/_code_sections.html shows: settings, print sizes and figures."""
    stats = code_stats(access, code)
    chart = {"days": stats.days, "added": stats.adds_by_day, "lost": stats.losses_by_day}
    return {
        "code": code,
        "stats": stats,
        "chart": json.dumps(chart),
        "sizes": qr.SIZES_MM,
        "members_now": Staff.objects.filter(
            corp=access.corp, userid__in=code.current_userids
        ).order_by("name"),
        "shifts": code.schedules.prefetch_related("staff"),
        "tags": code.tags.all(),
    }


@require_GET
@console_view
def live_code_detail(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.require_view(access)
    code = _code(access, pk)
    return render(
        request,
        "acquisition/live_code_detail.html",
        {**code_context(access, code), "may_manage": services.may_manage(access)},
    )


@require_POST
@console_view
def live_code_delete(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.require_manage(access)
    code = _code(access, pk)
    try:
        services.delete_live_code(access=access, code=code)
    except WeComError as exc:
        messages.error(request, describe_wecom_error(exc))
        return redirect("console:live_code", pk=code.pk)
    messages.success(request, _("Deleted %(name)s in WeCom.") % {"name": code.name})
    return redirect("console:live_codes")


def _qr_response(content: str, filename: str, request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("format", "png")
    try:
        size = int(request.GET.get("size", qr.SIZES_MM[0]))
    except ValueError:
        size = -1
    if kind not in ("png", "svg") or size not in qr.SIZES_MM or not content:
        raise Http404
    body = qr.png(content, size) if kind == "png" else qr.svg(content, size)
    response = HttpResponse(body, content_type="image/png" if kind == "png" else "image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{size}mm.{kind}"'
    return response


@require_GET
@console_view
def live_code_qr(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.require_view(access)
    code = _code(access, pk)
    return _qr_response(code.qr_code, f"live-code-{code.pk}", request)


@require_http_methods(["GET", "POST"])
@console_view
def staff_cards(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_view(access)
    if request.method == "POST":
        services.require_manage(access)
        staff = Staff.objects.filter(corp=access.corp, pk=request.POST.get("staff")).first()
        if staff is None:
            raise Http404
        try:
            services.ensure_staff_card(access=access, staff=staff)
            messages.success(request, _("QR card of %(name)s created.") % {"name": staff.name})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except WeComError as exc:
            messages.error(request, describe_wecom_error(exc))
        return redirect("console:staff_cards")
    cards = {c.staff_id: c for c in StaffCard.objects.filter(corp=access.corp)}
    members = (
        Staff.objects.filter(access.staff_filter(), corp=access.corp)
        .exclude(status=StaffStatus.LEFT)
        .order_by("name", "userid")
    )
    rows = [(member, cards.get(member.pk)) for member in members]
    return render(
        request,
        "acquisition/staff_cards.html",
        {"rows": rows, "may_manage": services.may_manage(access), "sizes": qr.SIZES_MM},
    )


@require_GET
@console_view
def staff_card_qr(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.require_view(access)
    card = (
        StaffCard.objects.filter(corp=access.corp, pk=pk)
        .filter(access.staff_filter("staff__"))
        .first()
    )
    if card is None:
        raise Http404
    return _qr_response(card.qr_code, f"staff-card-{card.staff.userid}", request)
