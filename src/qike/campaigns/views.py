"""Console pages of mass messages: the list (with the corp's limit policy), compose with a
pre-flight step, and the results page (counts over time, per staff member, per customer)."""

from __future__ import annotations

import datetime as dt
import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.campaigns import services
from qike.campaigns.models import DEFAULT_REMIND_AFTER, DeliveryStatus, FollowerRule, LimitRule
from qike.console.decorators import console_view
from qike.org.access import Access, Action
from qike.wecom.errors import WeComError

PAGE_SIZE = 50
CUSTOMERS_PAGE = 100


@require_GET
@console_view
def campaign_list(request: HttpRequest, access: Access) -> HttpResponse:
    campaigns = list(services.campaigns_in_scope(access)[:PAGE_SIZE])
    counts = services.status_counts(campaigns)
    for campaign in campaigns:
        campaign.counts = counts[campaign.pk]
    return render(
        request,
        "campaigns/list.html",
        {
            "campaigns": campaigns,
            "limit_rule": services.limit_rule_of(access.corp),
            "limit_rules": LimitRule.choices,
            "may_set_policy": access.can(Action.MANAGE_CORP),
        },
    )


@require_POST
@console_view
def campaign_policy(request: HttpRequest, access: Access) -> HttpResponse:
    try:
        services.set_policy(access=access, limit_rule=request.POST.get("limit_rule", ""))
        messages.success(request, _("Per-customer limit saved."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("console:campaigns")


def _items(access: Access) -> list:
    from qike.engagement import library

    return list(library.items(access.corp).order_by("-id")[:200])


def _segments(access: Access) -> list:
    from qike.segments.services import segments

    return list(segments(access=access).order_by("name"))


def _scheduled(raw: str) -> dt.datetime | None:
    """A datetime-local value, in the console's time zone (Asia/Shanghai by default)."""
    if not raw.strip():
        return None
    try:
        naive = dt.datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ValidationError(_("The send time is not a valid date and time.")) from exc
    if naive.tzinfo is not None:
        return naive
    return timezone.make_aware(naive, timezone.get_current_timezone())


def _remind_after(raw: str) -> list[str] | None:
    """ "2, 6, 20" (commas, 、 or spaces) as the service reads it; empty: the default schedule."""
    parts = [p for p in re.split(r"[,，、\s]+", raw.strip()) if p]
    return parts or None


def _draft(request: HttpRequest) -> services.Draft:
    post = request.POST
    segment = post.get("segment", "").strip()
    try:
        segment_id = int(segment) if segment else None
    except ValueError as exc:
        raise ValidationError(_("Unknown segment.")) from exc
    return services.Draft(
        title=post.get("title", ""),
        text=post.get("text", ""),
        item_ids=post.getlist("items"),
        segment_id=segment_id,
        external_userids=post.get("customers", "").split(),
        follower_rule=post.get("follower_rule", FollowerRule.FIRST),
        scheduled_at=_scheduled(post.get("scheduled_at", "")),
        auto_remind=post.get("auto_remind") == "on",
        remind_after=_remind_after(post.get("remind_after", "")),
    )


def _compose(request: HttpRequest, access: Access, **extra) -> HttpResponse:
    problem = extra.get("problem", "")
    return render(
        request,
        "campaigns/new.html",
        {
            "items": _items(access),
            "segments": _segments(access),
            "follower_rules": FollowerRule.choices,
            "form": request.POST if request.method == "POST" else {},
            "chosen_items": request.POST.getlist("items") if request.method == "POST" else [],
            "limit_rule": LimitRule(services.limit_rule_of(access.corp)).label,
            "default_remind_after": ", ".join(str(h) for h in DEFAULT_REMIND_AFTER),
            **extra,
        },
        status=400 if problem else 200,
    )


@require_http_methods(["GET", "POST"])
@console_view
def campaign_new(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_campaigns(access)
    if request.method == "GET":
        return _compose(request, access)
    try:
        draft = _draft(request)
        if request.POST.get("step") == "confirm":
            campaign = services.create(access=access, draft=draft)
            if campaign.scheduled_at:
                messages.success(request, _("Scheduled."))
            else:
                messages.success(request, _("Sent to WeCom: staff members now confirm it."))
            return redirect("console:campaign", pk=campaign.pk)
        check = services.preflight(access=access, draft=draft)
    except ValidationError as exc:
        return _compose(request, access, problem=" ".join(exc.messages))
    except WeComError as exc:
        return _compose(request, access, problem=_("WeCom refused: %(e)s") % {"e": exc.errmsg})
    summary, samples = check.summary(), check.sample_names(access.corp)
    skipped = [
        (services.SKIP_REASONS[reason], n, samples.get(reason, []))
        for reason, n in summary["skipped"].items()
    ]
    return _compose(request, access, check=summary, skipped=skipped)


@require_GET
@console_view
def campaign_detail(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    campaign = services.get_campaign(access, pk)
    counts = services.groups(services.counts(campaign))
    history = list(campaign.snapshots.all())
    top = max([1] + [s.sent + s.pending + s.skipped + s.failed + s.cancelled for s in history])
    for snap in history:
        snap.bars = [
            (name, getattr(snap, name), 100 * getattr(snap, name) / top)
            for name in ("sent", "pending", "skipped", "failed", "cancelled")
        ]
    status = request.GET.get("status", "")
    status = status if status in DeliveryStatus.values else ""
    page = Paginator(services.deliveries(campaign, status), CUSTOMERS_PAGE).get_page(
        request.GET.get("page")
    )
    skip_labels = {k: str(v) for k, v in services.SKIP_REASONS.items()}
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "counts": counts,
            "history": history,
            "staff": _with_labels(services.staff_rows(campaign)),
            "reminders": services.reminder_rows(campaign),
            "next_auto_remind_at": services.next_auto_remind_at(campaign),
            "remind_after": ", ".join(str(h) for h in campaign.remind_after or []),
            "page": page,
            "status": status,
            "statuses": DeliveryStatus.choices,
            "skip_labels": skip_labels,
            "skipped_plan": [
                (skip_labels.get(r, r), n) for r, n in (campaign.plan.get("skipped") or {}).items()
            ],
        },
    )


def _with_labels(rows: list[dict]) -> list[dict]:
    labels = dict(DeliveryStatus.choices)
    for row in rows:
        row["count_list"] = [(labels.get(s, s), n) for s, n in sorted(row["counts"].items())]
    return rows


@require_POST
@console_view
def campaign_remind(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    campaign = services.get_campaign(access, pk)
    try:
        done = services.remind(
            access=access, campaign=campaign, userid=request.POST.get("userid", "")
        )
        messages.success(request, _("Reminded %(n)d staff members.") % {"n": len(done.reminded)})
        if done.held:
            messages.warning(
                request,
                _("Not reminded (WeCom allows 3 reminders in 24 hours): %(who)s")
                % {"who": "、".join(sorted(done.held))},
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except WeComError as exc:
        messages.error(request, _("WeCom refused: %(e)s") % {"e": exc.errmsg})
    return redirect("console:campaign", pk=pk)


@require_POST
@console_view
def campaign_cancel(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    campaign = services.get_campaign(access, pk)
    try:
        services.cancel(access=access, campaign=campaign)
        messages.success(request, _("Cancelled: deliveries not sent yet will not go."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except WeComError as exc:
        messages.error(request, _("WeCom refused: %(e)s") % {"e": exc.errmsg})
    return redirect("console:campaign", pk=pk)


@require_POST
@console_view
def campaign_refresh(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    campaign = services.get_campaign(access, pk)
    try:
        changed = services.refresh_now(access=access, campaign=campaign)
        messages.success(
            request, _("Checked with WeCom: %(n)d changed.") % {"n": sum(changed.values())}
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except WeComError as exc:
        messages.error(request, _("WeCom refused: %(e)s") % {"e": exc.errmsg})
    return redirect("console:campaign", pk=pk)
