"""Console pages: moment tasks (list, new, detail with each staff member's status and the
comments and likes; refresh now; stop)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.console.decorators import console_view
from qike.moments import services
from qike.moments.models import InteractionKind, Moment, MomentStatus
from qike.org.access import Access
from qike.org.models import Department, Staff, StaffStatus
from qike.tags.models import Tag, TagType
from qike.wecom.errors import WeComError

PAGE_SIZE = 50
PICK_ITEMS = 200  # library items offered on the new-moment page


@require_GET
@console_view
def moment_list(request: HttpRequest, access: Access) -> HttpResponse:
    moments = list(services.moments_in_scope(access)[:PAGE_SIZE])
    counts = services.counts(moments)
    for moment in moments:
        moment.counts = counts[moment.pk]
    return render(request, "moments/list.html", {"moments": moments})


def _library_items(access: Access) -> list:
    try:
        from qike.engagement.models import ContentItem
    except ImportError:
        return []
    return list(
        ContentItem.objects.filter(corp=access.corp, kind__in=services.KINDS).order_by(
            "kind", "-updated_at"
        )[:PICK_ITEMS]
    )


def _form(request: HttpRequest, access: Access, problem: str = "", chosen: dict | None = None):
    corp = access.corp
    return render(
        request,
        "moments/new.html",
        {
            "staff": Staff.objects.filter(corp=corp, status=StaffStatus.ACTIVE).order_by(
                "name", "userid"
            ),
            "departments": Department.objects.filter(corp=corp).order_by("path"),
            "tags": Tag.objects.filter(corp=corp, type=TagType.CORP)
            .select_related("group")
            .order_by("-group__order", "group__wecom_id", "-order", "wecom_id"),
            "items": _library_items(access),
            "chosen": chosen or {},
            "problem": problem,
        },
        status=400 if problem else 200,
    )


@require_http_methods(["GET", "POST"])
@console_view
def moment_new(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_moments(access)
    if request.method == "GET":
        return _form(request, access)
    chosen = {
        "text": request.POST.get("text", ""),
        "item_ids": request.POST.getlist("items"),
        "userids": request.POST.getlist("staff"),
        "department_ids": request.POST.getlist("departments"),
        "tag_ids": request.POST.getlist("tags"),
    }
    try:
        moment = services.create_moment(access=access, **chosen)
    except ValidationError as exc:
        return _form(request, access, " ".join(exc.messages), chosen)
    except WeComError as exc:
        return _form(request, access, _("WeCom refused: %(error)s") % {"error": exc.errmsg}, chosen)
    messages.success(request, _("Moment task created: WeCom is preparing it for the staff."))
    return redirect("console:moment", pk=moment.pk)


@require_GET
@console_view
def moment_detail(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    moment = services.get_moment(access, pk)
    senders = list(moment.senders.select_related("staff"))
    interactions = list(moment.interactions.select_related("sender__staff", "customer"))
    tag_names = dict(
        Tag.objects.filter(corp=access.corp, wecom_id__in=moment.tag_ids).values_list(
            "wecom_id", "name"
        )
    )
    return render(
        request,
        "moments/detail.html",
        {
            "moment": moment,
            "tag_names": [tag_names.get(t, t) for t in moment.tag_ids],
            "senders": senders,
            "comments": [i for i in interactions if i.kind == InteractionKind.COMMENT],
            "likes": [i for i in interactions if i.kind == InteractionKind.LIKE],
            "counts": services.counts([moment])[moment.pk],
            "may_cancel": moment.status == MomentStatus.ACTIVE
            and not (senders and all(s.published for s in senders)),
        },
    )


@require_POST
@console_view
def moment_refresh(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    moment: Moment = services.get_moment(access, pk)
    try:
        changes = services.refresh_now(access=access, moment=moment)
        messages.success(
            request,
            _("Checked with WeCom: %(p)d newly published, %(i)d new comments or likes.")
            % {"p": len(changes.published), "i": changes.interactions},
        )
    except WeComError as exc:
        messages.error(request, _("WeCom refused: %(error)s") % {"error": exc.errmsg})
    return redirect("console:moment", pk=moment.pk)


@require_POST
@console_view
def moment_cancel(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    moment: Moment = services.get_moment(access, pk)
    try:
        services.cancel(access=access, moment=moment)
        messages.success(
            request, _("Moment stopped: staff who have not published cannot any more.")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except WeComError as exc:
        messages.error(request, _("WeCom refused: %(error)s") % {"error": exc.errmsg})
    return redirect("console:moment", pk=moment.pk)
