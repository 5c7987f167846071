"""Console pages: transfers (list, new on-job transfer with a pre-flight step, detail) and the
customers of staff who left (reassign in bulk)."""

from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.console.decorators import console_view
from qike.customers.forms import CustomerFilterForm
from qike.customers.models import RelationStatus
from qike.customers.queries import filter_relations
from qike.org.access import Access
from qike.org.models import Staff, StaffStatus
from qike.transfers import services
from qike.transfers.models import ItemStatus, Transfer
from qike.wecom.errors import WeComError

PAGE_SIZE = 50
PICK_LIMIT = 500  # customers listed to pick from on the new-transfer page


def _staff(access: Access, *statuses: int):
    return Staff.objects.filter(
        access.staff_filter(), corp=access.corp, status__in=statuses
    ).order_by("name", "userid")


@require_GET
@console_view
def transfer_list(request: HttpRequest, access: Access) -> HttpResponse:
    transfers = list(
        services.transfers_in_scope(access).select_related("handover", "takeover")[:PAGE_SIZE]
    )
    counts = services.status_counts(transfers)
    for transfer in transfers:
        transfer.counts = [
            (label, counts[transfer.pk].get(value, 0)) for value, label in ItemStatus.choices
        ]
    return render(
        request,
        "transfers/list.html",
        {"transfers": transfers, "statuses": ItemStatus.choices},
    )


def _picker(request: HttpRequest, access: Access, problem: str = "") -> HttpResponse:
    """Step 1: choose the handover, filter and tick their customers, the takeover, the message."""
    handover = request.GET.get("handover", "")
    data = request.GET.copy()
    data.setlist("staff", [handover] if handover else [])
    data["status"] = RelationStatus.ACTIVE
    filter_form = CustomerFilterForm(data, access=access)
    relations = []
    if handover and filter_form.is_valid():
        relations = list(
            filter_relations(access, filter_form.to_filter())
            .filter(is_half=False)
            .select_related("customer")
            .order_by("-added_at")[:PICK_LIMIT]
        )
    return render(
        request,
        "transfers/new.html",
        {
            "handovers": _staff(access, StaffStatus.ACTIVE, StaffStatus.DISABLED),
            "takeovers": _staff(access, StaffStatus.ACTIVE),
            "handover": handover,
            "filter_form": filter_form,
            "relations": relations,
            "limit": PICK_LIMIT,
            "problem": problem,
        },
        status=400 if problem else 200,
    )


def _chosen(request: HttpRequest) -> dict:
    return {
        "handover_userid": request.POST.get("handover", ""),
        "takeover_userid": request.POST.get("takeover", ""),
        "external_userids": request.POST.getlist("customers"),
    }


@require_http_methods(["GET", "POST"])
@console_view
def transfer_new(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_transfer(access)
    if request.method == "GET":
        return _picker(request, access)
    chosen = _chosen(request)
    message = request.POST.get("message", "")
    try:
        if request.POST.get("step") == "confirm":
            started = services.start_onjob(access=access, message=message, **chosen)
            messages.success(
                request,
                _("Transfer started: %(n)d customers are waiting for the takeover.")
                % {"n": started.transfer.items.filter(status=ItemStatus.WAITING).count()},
            )
            return redirect("console:transfer", pk=started.transfer.pk)
        check = services.preflight(access=access, **chosen)
    except ValidationError as exc:
        return _picker(request, access, " ".join(exc.messages))
    except WeComError as exc:
        return _picker(request, access, _("WeCom refused: %(error)s") % {"error": exc.errmsg})
    return render(
        request,
        "transfers/confirm.html",
        {
            "check": check,
            "message": message,
            "held": [
                (ext, check.names.get(ext, ext), services.HOLD_REASONS[reason])
                for ext, reason in check.held.items()
            ],
            "ready": [(ext, check.names.get(ext, ext)) for ext in check.ready],
        },
    )


@require_GET
@console_view
def transfer_detail(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    transfer = services.get_transfer(access, pk)
    items = transfer.items.select_related("customer")
    counts = services.status_counts([transfer])[transfer.pk]
    return render(
        request,
        "transfers/detail.html",
        {
            "transfer": transfer,
            "items": items,
            "counts": [(label, counts.get(value, 0)) for value, label in ItemStatus.choices],
        },
    )


@require_POST
@console_view
def transfer_refresh(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    transfer: Transfer = services.get_transfer(access, pk)
    try:
        changes = services.refresh_now(access=access, transfer=transfer)
        messages.success(request, _("Checked with WeCom: %(n)d changed.") % {"n": len(changes)})
    except WeComError as exc:
        messages.error(request, _("WeCom refused: %(error)s") % {"error": exc.errmsg})
    return redirect("console:transfer", pk=transfer.pk)


@require_http_methods(["GET", "POST"])
@console_view
def resigned(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_transfer(access)
    problem = ""
    if request.method == "POST":
        try:
            transfers = services.reassign_resigned(
                access=access,
                handover_userid=request.POST.get("handover", ""),
                takeover_userids=request.POST.getlist("takeovers"),
                # The form always sends its ticked boxes: none ticked is "choose some", never "all".
                external_userids=request.POST.getlist("customers"),
            )
            messages.success(
                request,
                _("Reassigned to %(n)d staff members; WeCom completes it in 24 hours.")
                % {"n": len(transfers)},
            )
            return redirect("console:transfers")
        except ValidationError as exc:
            problem = " ".join(exc.messages)
        except WeComError as exc:
            problem = _("WeCom refused: %(error)s") % {"error": exc.errmsg}
    try:
        rows = services.unassigned(access=access)
    except WeComError as exc:
        rows, problem = [], _("WeCom refused: %(error)s") % {"error": exc.errmsg}
    groups = [
        (staff, list(items))
        for staff, items in groupby(
            sorted(rows, key=lambda u: (u.handover_userid, u.external_userid)),
            key=lambda u: u.handover,
        )
    ]
    return render(
        request,
        "transfers/resigned.html",
        {
            "groups": groups,
            "takeovers": _staff(access, StaffStatus.ACTIVE),
            "problem": problem,
        },
        status=400 if problem and request.method == "POST" else 200,
    )
