"""Console pages for acquisition links (获客助手). Thin: links.py changes, these pages read."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.acquisition import links, services
from qike.acquisition.link_forms import LinkForm, PricingForm, link_initial
from qike.acquisition.models import (
    AcquisitionLink,
    LinkAdd,
    LinkDailyStat,
    LinkSettings,
    QuotaAlert,
)
from qike.console.decorators import console_view
from qike.core import clock
from qike.org.access import Access
from qike.tags.views import describe_wecom_error
from qike.wecom.errors import WeComError

CHART_DAYS = 14


def yuan(fen: int | None) -> str:
    return f"¥{(fen or 0) / 100:.2f}"


def _link(access: Access, pk: int) -> AcquisitionLink:
    link = AcquisitionLink.objects.filter(corp=access.corp, pk=pk, deleted_at__isnull=True).first()
    if link is None:
        raise Http404
    return link


def _adds(access: Access) -> QuerySet[LinkAdd]:
    return LinkAdd.objects.filter(access.staff_filter("staff__"), corp=access.corp)


def _balance(access: Access, request: HttpRequest) -> LinkSettings:
    """The live balance from WeCom; the last known one when WeCom cannot answer."""
    try:
        return links.refresh_balance(corp=access.corp)
    except WeComError as exc:
        messages.warning(request, describe_wecom_error(exc))
        return links.settings_for(access.corp)


@require_GET
@console_view
def link_list(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_view(access)
    settings = _balance(access, request)
    in_scope = Q(adds__in=_adds(access))
    rows = (
        AcquisitionLink.objects.filter(corp=access.corp, deleted_at__isnull=True)
        .annotate(
            add_count=Count("adds", filter=in_scope),
            cost=Sum("adds__cost_fen", filter=in_scope),
            channel_count=Count("channels", distinct=True),
        )
        .order_by("-created_at")
    )
    total = links.costs(_adds(access))
    pricing = PricingForm(
        initial={"free_adds": settings.free_adds, "price_yuan": settings.price_fen / 100}
    )
    return render(
        request,
        "acquisition/links.html",
        {
            "rows": [(link, yuan(link.cost)) for link in rows],
            "settings": settings,
            "price": yuan(settings.price_fen),
            "free_left": max(settings.free_adds - settings.adds_counted, 0),
            "total": total,
            "total_cost": yuan(total.cost_fen),
            "alerts": QuotaAlert.objects.filter(corp=access.corp, dismissed_at__isnull=True),
            "pricing": pricing,
            "may_manage": services.may_manage(access),
        },
    )


def _form_page(
    request: HttpRequest, form: LinkForm, link: AcquisitionLink | None, problem: str
) -> HttpResponse:
    return render(
        request,
        "acquisition/link_form.html",
        {"form": form, "link": link, "problem": problem},
        status=400 if form.is_bound else 200,
    )


def _save(request: HttpRequest, access: Access, link: AcquisitionLink | None) -> HttpResponse:
    form = LinkForm(request.POST, corp=access.corp)
    problem = ""
    if form.is_valid():
        try:
            if link is None:
                link = links.create_link(access=access, spec=form.spec())
                messages.success(
                    request, _("Link %(name)s created in WeCom.") % {"name": link.name}
                )
            else:
                link = links.update_link(access=access, link=link, spec=form.spec())
                messages.success(request, _("Saved %(name)s in WeCom.") % {"name": link.name})
            return redirect("console:acquisition_link", pk=link.pk)
        except ValidationError as exc:
            problem = " ".join(exc.messages)
        except WeComError as exc:
            problem = describe_wecom_error(exc)
    return _form_page(request, form, link, problem)


@require_http_methods(["GET", "POST"])
@console_view
def link_new(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_manage(access)
    if request.method == "POST":
        return _save(request, access, None)
    return _form_page(request, LinkForm(corp=access.corp), None, "")


@require_http_methods(["GET", "POST"])
@console_view
def link_edit(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.require_manage(access)
    link = _link(access, pk)
    if request.method == "POST":
        return _save(request, access, link)
    return _form_page(request, LinkForm(initial=link_initial(link), corp=access.corp), link, "")


def _days(link: AcquisitionLink, access: Access) -> list[dict]:
    """The last CHART_DAYS days: WeCom's clicks and new customers, and Qike's attributed adds."""
    today = timezone.localdate(clock.now())
    first = today - dt.timedelta(days=CHART_DAYS - 1)
    wecom = {s.day: s for s in LinkDailyStat.objects.filter(link=link, day__gte=first)}
    ours: dict[dt.date, list[int]] = {}
    for added_at, cost in _adds(access).filter(link=link).values_list("added_at", "cost_fen"):
        day = timezone.localdate(added_at)
        if day >= first:
            counted = ours.setdefault(day, [0, 0])
            counted[0] += 1
            counted[1] += cost
    rows = []
    for back in range(CHART_DAYS):
        day = today - dt.timedelta(days=back)
        stat = wecom.get(day)
        adds, cost = ours.get(day, [0, 0])
        rows.append(
            {
                "day": day,
                "clicks": stat.clicks if stat else None,
                "new_customers": stat.new_customers if stat else None,
                "adds": adds,
                "cost": yuan(cost),
            }
        )
    return rows


@require_GET
@console_view
def link_detail(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.require_view(access)
    link = _link(access, pk)
    adds = _adds(access).filter(link=link)
    in_scope = Q(adds__in=adds)
    channels = link.channels.annotate(
        add_count=Count("adds", filter=in_scope), cost=Sum("adds__cost_fen", filter=in_scope)
    )
    bare = links.costs(adds.filter(channel__isnull=True))
    total = links.costs(adds)
    recent = adds.select_related("relation__customer", "staff", "channel").order_by("-added_at")
    return render(
        request,
        "acquisition/link_detail.html",
        {
            "link": link,
            "total": total,
            "total_cost": yuan(total.cost_fen),
            "bare": bare,
            "bare_cost": yuan(bare.cost_fen),
            "bare_url": link.url_for(link.state),
            "channels": [(c, yuan(c.cost)) for c in channels],
            "days": _days(link, access),
            "recent": [(add, yuan(add.cost_fen)) for add in recent[:100]],
            "tags": link.tags.all(),
            "may_manage": services.may_manage(access),
        },
    )


@require_POST
@console_view
def link_delete(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.require_manage(access)
    link = _link(access, pk)
    try:
        links.delete_link(access=access, link=link)
    except (WeComError, ValidationError) as exc:
        text = describe_wecom_error(exc) if isinstance(exc, WeComError) else " ".join(exc.messages)
        messages.error(request, text)
        return redirect("console:acquisition_link", pk=link.pk)
    messages.success(request, _("Deleted %(name)s in WeCom.") % {"name": link.name})
    return redirect("console:acquisition_links")


@require_POST
@console_view
def link_refresh(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    """Fetch WeCom's figures and customer list for this link now instead of waiting for the job."""
    services.require_view(access)
    link = _link(access, pk)
    try:
        links.sync_stats(link_pk=link.pk, days=CHART_DAYS)
        found = links.poll_customers(link_pk=link.pk)
        messages.success(
            request, _("Figures updated; %(n)d new customers attributed.") % {"n": found}
        )
    except WeComError as exc:
        messages.error(request, describe_wecom_error(exc))
    return redirect("console:acquisition_link", pk=link.pk)


@require_POST
@console_view
def link_pricing(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_manage(access)
    form = PricingForm(request.POST)
    if not form.is_valid():
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, " ".join(problems))
        return redirect("console:acquisition_links")
    try:
        links.update_pricing(
            access=access, free_adds=form.cleaned_data["free_adds"], price_fen=form.price_fen()
        )
        messages.success(request, _("Pricing saved."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("console:acquisition_links")


@require_POST
@console_view
def link_alerts_dismiss(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_manage(access)
    links.dismiss_alerts(access=access)
    return redirect("console:acquisition_links")
