"""Console pages: referral campaigns (corp admins and operations manage them), codes, referrals,
the leaderboard and reward tasks (everyone who works with customers, in their scope)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.console.decorators import console_view
from qike.core import clock
from qike.customers.models import RelationStatus
from qike.customers.queries import CustomerFilter, filter_relations, get_relation
from qike.org.access import Access
from qike.referrals import services
from qike.referrals.forms import BulkForm, CampaignForm, initial_for
from qike.referrals.models import Campaign, ReferralCode, RewardStatus, RewardTask
from qike.tags.views import describe_wecom_error
from qike.wecom.errors import WeComError

LIST_SIZE = 50
SEARCH_SIZE = 20


def _campaign(access: Access, pk: int) -> Campaign:
    campaign = Campaign.objects.filter(corp=access.corp, pk=pk).select_related("corp").first()
    if campaign is None:
        raise Http404
    return campaign


def share_url(request: HttpRequest, code: ReferralCode) -> str:
    return request.build_absolute_uri(
        reverse("referrals_public:share", args=[code.corp.corpid, code.token])
    )


@require_GET
@console_view
def campaign_list(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_view(access)
    in_scope = access.staff_filter("referrals__staff__")
    campaigns = Campaign.objects.filter(corp=access.corp).annotate(
        referral_count=Count("referrals", filter=in_scope, distinct=True),
        counted_count=Count(
            "referrals", filter=in_scope & Q(referrals__counted=True), distinct=True
        ),
    )
    now = clock.now()
    for campaign in campaigns:
        campaign.status = campaign.status_on(now)
    open_rewards = services.rewards_in_scope(access).filter(status=RewardStatus.OPEN).count()
    return render(
        request,
        "referrals/campaigns.html",
        {
            "campaigns": campaigns,
            "open_rewards": open_rewards,
            "may_manage": services.may_manage(access),
        },
    )


def _editor(request: HttpRequest, form: CampaignForm, campaign, problem: str) -> HttpResponse:
    return render(
        request,
        "referrals/campaign_edit.html",
        {"form": form, "campaign": campaign, "problem": problem},
        status=400 if form.is_bound else 200,
    )


def _save(request: HttpRequest, access: Access, campaign: Campaign | None) -> HttpResponse:
    form = CampaignForm(request.POST, corp=access.corp)
    problem = ""
    if form.is_valid():
        try:
            campaign = services.save_campaign(access=access, spec=form.spec(), campaign=campaign)
            messages.success(request, _("Saved %(name)s.") % {"name": campaign.name})
            return redirect("console:referral_campaign", pk=campaign.pk)
        except ValidationError as exc:
            problem = " ".join(exc.messages)
    return _editor(request, form, campaign, problem)


@require_http_methods(["GET", "POST"])
@console_view
def campaign_new(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_manage(access)
    if request.method == "POST":
        return _save(request, access, None)
    initial = {"starts_on": timezone.localtime(clock.now()).date()}
    return _editor(request, CampaignForm(initial=initial, corp=access.corp), None, "")


@require_http_methods(["GET", "POST"])
@console_view
def campaign_edit(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.require_manage(access)
    campaign = _campaign(access, pk)
    if request.method == "POST":
        return _save(request, access, campaign)
    form = CampaignForm(initial=initial_for(campaign), corp=access.corp)
    return _editor(request, form, campaign, "")


def _search(access: Access, campaign: Campaign, q: str) -> list:
    """Customers in scope matching `q` (name or remark) who may refer, with their code if any."""
    if not q:
        return []
    relations = (
        filter_relations(access, CustomerFilter(q=q))
        .filter(status=RelationStatus.ACTIVE, is_half=False)
        .select_related("customer", "staff")
        .order_by("customer__name", "pk")[:SEARCH_SIZE]
    )
    relations = list(relations)
    codes = {
        (c.customer_id, c.staff_id): c
        for c in ReferralCode.objects.filter(
            campaign=campaign, customer_id__in=[r.customer_id for r in relations]
        )
    }
    return [(r, codes.get((r.customer_id, r.staff_id))) for r in relations]


@require_GET
@console_view
def campaign_detail(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.require_view(access)
    campaign = _campaign(access, pk)
    period = request.GET.get("period", "all")
    if period not in services.PERIODS:
        period = "all"
    q = request.GET.get("q", "").strip()[:64]
    codes = list(
        services.codes_in_scope(access)
        .filter(campaign=campaign)
        .select_related("customer", "staff", "corp")
        .annotate(counted=Count("referrals", filter=Q(referrals__counted=True)))
        .order_by("-created_at", "-pk")[:LIST_SIZE]
    )
    for code in codes:
        code.share_url = share_url(request, code)
    referrals = (
        services.referrals_in_scope(access)
        .filter(campaign=campaign)
        .select_related("referrer", "referred", "staff")
        .order_by("-referred_at", "-pk")[:LIST_SIZE]
    )
    rewards = (
        services.rewards_in_scope(access)
        .filter(campaign=campaign)
        .select_related("referrer", "staff")
        .order_by("status", "-created_at")[:LIST_SIZE]
    )
    may_manage = services.may_manage(access)
    return render(
        request,
        "referrals/campaign_detail.html",
        {
            "campaign": campaign,
            "status": campaign.status_on(clock.now()),
            "figures": services.campaign_figures(access=access, campaign=campaign),
            "tags": campaign.tags.all(),
            "period": period,
            "periods": services.PERIODS,
            "ranks": services.leaderboard(access=access, campaign=campaign, period=period),
            "staff_totals": services.staff_totals(access=access, campaign=campaign, period=period),
            "codes": codes,
            "referrals": referrals,
            "rewards": rewards,
            "q": q,
            "found": _search(access, campaign, q),
            "may_manage": may_manage,
            "bulk_form": BulkForm(corp=access.corp) if may_manage else None,
        },
    )


@require_POST
@console_view
def code_new(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    """Generate (or show again) one customer's code."""
    campaign = _campaign(access, pk)
    relation_id = request.POST.get("relation", "")
    if not relation_id.isdigit():
        raise Http404
    relation = get_relation(access, int(relation_id))  # 404 other corp, 403 outside scope
    try:
        code, created = services.ensure_code(access=access, campaign=campaign, relation=relation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except WeComError as exc:
        messages.error(request, describe_wecom_error(exc))
    else:
        text = _("Code of %(name)s created: %(url)s") if created else _("Code of %(name)s: %(url)s")
        messages.success(
            request, text % {"name": relation.customer, "url": share_url(request, code)}
        )
    return redirect(reverse("console:referral_campaign", args=[campaign.pk]) + "#codes")


@require_POST
@console_view
def codes_bulk(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.require_manage(access)
    campaign = _campaign(access, pk)
    form = BulkForm(request.POST, corp=access.corp)
    if not form.is_valid():
        messages.error(request, " ".join(m for errs in form.errors.values() for m in errs))
        return redirect("console:referral_campaign", pk=campaign.pk)
    try:
        result = services.bulk_codes(access=access, campaign=campaign, filters=form.filters())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("console:referral_campaign", pk=campaign.pk)
    messages.success(
        request,
        _("%(created)d codes created, %(existing)d existed already.")
        % {"created": result.created, "existing": result.existing},
    )
    if result.failed:
        messages.error(
            request,
            _("Not generated: %(list)s") % {"list": "; ".join(result.failed[:20])},
        )
    return redirect(reverse("console:referral_campaign", args=[campaign.pk]) + "#codes")


@require_GET
@console_view
def reward_list(request: HttpRequest, access: Access) -> HttpResponse:
    status = request.GET.get("status", RewardStatus.OPEN)
    rewards = services.rewards_in_scope(access).select_related("referrer", "staff", "campaign")
    if status in RewardStatus.values:
        rewards = rewards.filter(status=status)
    else:
        status = ""
    return render(
        request,
        "referrals/rewards.html",
        {"rewards": rewards.order_by("-created_at", "-pk")[:200], "status": status},
    )


def _reward(access: Access, pk: int) -> RewardTask:
    task = RewardTask.objects.filter(corp=access.corp, pk=pk).first()
    if task is None:
        raise Http404
    return task


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("console:referral_rewards")


@require_POST
@console_view
def reward_done(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    task = services.mark_done(access=access, task=_reward(access, pk))
    messages.success(
        request,
        _("Reward for %(name)s marked done.") % {"name": services.display_name(task.referrer)},
    )
    return _back(request)


@require_POST
@console_view
def reward_notify(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    task = services.notify_again(access=access, task=_reward(access, pk))
    if task.notify_error:
        messages.error(request, _("Not sent: %(why)s") % {"why": task.notify_error})
    else:
        messages.success(request, _("The staff member has been told."))
    return _back(request)
