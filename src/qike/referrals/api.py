"""REST endpoints under /api/v1/: referral campaigns, codes, referrals, the leaderboard and reward
tasks."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from qike.api.auth import access_of, read_auth, write_auth
from qike.api.pagination import cursor_page
from qike.api.schemas import CursorQuery, errors
from qike.core import clock
from qike.customers.models import FollowRelation
from qike.customers.queries import CustomerFilter
from qike.org.access import Access
from qike.referrals import services
from qike.referrals.models import Campaign, ReferralCode, RewardTask
from qike.referrals.schemas import (
    BulkIn,
    BulkOut,
    CampaignIn,
    CampaignOut,
    CodeIn,
    CodeOut,
    CodePage,
    LeaderboardOut,
    ReferralPage,
    RewardOut,
    RewardPage,
)
from qike.referrals.services import CampaignSpec

router = Router(tags=["referrals"], auth=read_auth)
WRITE_ERRORS = errors(400, 403, 404, 502)


class ReferralFilterQuery(Schema):
    campaign: int | None = Field(None, description="Campaign id.")
    staff: str = Field("", max_length=64, description="WeCom UserID of the member added.")
    counted: bool | None = Field(None, description="true: new customers who count for rewards.")


class RewardFilterQuery(Schema):
    campaign: int | None = Field(None, description="Campaign id.")
    status: str = Field("", pattern="^(|open|done)$", description="open or done; empty: both.")
    staff: str = Field("", max_length=64, description="WeCom UserID of the member who owes it.")


class PeriodQuery(Schema):
    period: str = Field("all", pattern="^(week|month|all)$", description="week, month or all.")


# --- campaigns -------------------------------------------------------------------------------


def _campaign_data(campaign: Campaign) -> dict:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "status": campaign.status_on(clock.now()),
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "intro": campaign.intro,
        "tags": sorted(t.wecom_id for t in campaign.tags.all()),
        "welcome_message_id": campaign.welcome_message_id,
        "skip_verify": campaign.skip_verify,
        "reward_every": campaign.reward_every,
        "reward_text": campaign.reward_text,
        "created_at": campaign.created_at,
    }


def _spec(payload: CampaignIn) -> CampaignSpec:
    return CampaignSpec(
        name=payload.name,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        intro=payload.intro,
        tag_ids=tuple(payload.tags),
        welcome_message_id=payload.welcome_message_id,
        skip_verify=payload.skip_verify,
        reward_every=payload.reward_every,
        reward_text=payload.reward_text,
    )


def _find(access: Access, pk: int) -> Campaign:
    services.require_view(access)
    campaign = Campaign.objects.filter(corp=access.corp, pk=pk).select_related("corp").first()
    if campaign is None:
        raise Http404
    return campaign


@router.get(
    "/referral-campaigns",
    response={200: list[CampaignOut], **errors(403)},
    summary="List referral campaigns",
)
def list_campaigns(request: HttpRequest) -> list[dict]:
    access = access_of(request)
    services.require_view(access)
    campaigns = Campaign.objects.filter(corp=access.corp).prefetch_related("tags")
    return [_campaign_data(c) for c in campaigns]


@router.post(
    "/referral-campaigns",
    auth=write_auth,
    response={201: CampaignOut, **WRITE_ERRORS},
    summary="Create a referral campaign",
)
def create_campaign(request: HttpRequest, payload: CampaignIn) -> Status:
    campaign = services.save_campaign(access=access_of(request), spec=_spec(payload))
    return Status(201, _campaign_data(campaign))


@router.get(
    "/referral-campaigns/{campaign_id}",
    response={200: CampaignOut, **errors(403, 404)},
    summary="Get a referral campaign",
)
def get_campaign(request: HttpRequest, campaign_id: int) -> dict:
    return _campaign_data(_find(access_of(request), campaign_id))


@router.put(
    "/referral-campaigns/{campaign_id}",
    auth=write_auth,
    response={200: CampaignOut, **WRITE_ERRORS},
    summary="Replace a referral campaign's settings",
)
def update_campaign(request: HttpRequest, campaign_id: int, payload: CampaignIn) -> dict:
    access = access_of(request)
    campaign = services.save_campaign(
        access=access, spec=_spec(payload), campaign=_find(access, campaign_id)
    )
    return _campaign_data(campaign)


# --- codes -----------------------------------------------------------------------------------


def _code_data(request: HttpRequest, code: ReferralCode) -> dict:
    return {
        "id": code.pk,
        "campaign_id": code.campaign_id,
        "external_userid": code.customer.external_userid,
        "referrer_name": code.customer.name,
        "staff": code.staff.userid,
        "state": code.state,
        "config_id": code.config_id,
        "qr_code": code.qr_code,
        "share_url": request.build_absolute_uri(
            reverse("referrals_public:share", args=[code.corp.corpid, code.token])
        ),
        "counted": code.counted,  # annotated by _codes
        "way_deleted": code.way_deleted_at is not None,
        "created_at": code.created_at,
    }


def _codes(access: Access):
    return (
        services.codes_in_scope(access)
        .select_related("customer", "staff", "corp")
        .annotate(counted=Count("referrals", filter=Q(referrals__counted=True)))
    )


@router.get(
    "/referral-campaigns/{campaign_id}/codes",
    response={200: CodePage, **errors(400, 403, 404)},
    summary="List a campaign's referral codes",
)
def list_codes(request: HttpRequest, campaign_id: int, page: Query[CursorQuery]) -> dict:
    """Codes of referrers followed by staff you may see, newest first."""
    access = access_of(request)
    campaign = _find(access, campaign_id)
    result = cursor_page(_codes(access).filter(campaign=campaign), field="created_at", params=page)
    result["items"] = [_code_data(request, code) for code in result["items"]]
    return result


@router.post(
    "/referral-campaigns/{campaign_id}/codes",
    auth=write_auth,
    response={200: CodeOut, 201: CodeOut, **WRITE_ERRORS},
    summary="Get or generate a customer's referral code",
)
def ensure_code(request: HttpRequest, campaign_id: int, payload: CodeIn) -> Status:
    """The referrer's code in this campaign: 201 when made now (a contact way in WeCom for the
    staff member, state `rf-<id>`), 200 when it existed. One code per customer and member."""
    access = access_of(request)
    campaign = _find(access, campaign_id)
    relation = (
        FollowRelation.objects.filter(
            corp=access.corp,
            customer__external_userid=payload.external_userid,
            staff__userid=payload.userid,
        )
        .select_related("customer", "staff")
        .first()
    )
    if relation is None:
        raise Http404
    code, created = services.ensure_code(access=access, campaign=campaign, relation=relation)
    return Status(201 if created else 200, _code_data(request, _codes(access).get(pk=code.pk)))


@router.post(
    "/referral-campaigns/{campaign_id}/codes/bulk",
    auth=write_auth,
    response={200: BulkOut, **WRITE_ERRORS},
    summary="Generate codes for many customers",
)
def bulk_codes(request: HttpRequest, campaign_id: int, payload: BulkIn) -> dict:
    """For confirmed, active customers with any of `tags` and/or of `staff` (at most 200 at a
    time). Corp admins and operations."""
    access = access_of(request)
    campaign = _find(access, campaign_id)
    if not payload.tags and not payload.staff:
        raise ValidationError(_("Choose at least one tag or staff member."))
    result = services.bulk_codes(
        access=access,
        campaign=campaign,
        filters=CustomerFilter(tags=list(payload.tags), staff=list(payload.staff)),
    )
    return {"created": result.created, "existing": result.existing, "failed": result.failed}


@router.get(
    "/referral-codes/{code_id}",
    response={200: CodeOut, **errors(403, 404)},
    summary="Get a referral code",
)
def get_code(request: HttpRequest, code_id: int) -> dict:
    access = access_of(request)
    services.require_view(access)
    if not ReferralCode.objects.filter(corp=access.corp, pk=code_id).exists():
        raise Http404
    code = _codes(access).filter(pk=code_id).first()
    if code is None:
        raise PermissionDenied(_("This code belongs to a staff member outside your scope."))
    return _code_data(request, code)


# --- referrals and the leaderboard -----------------------------------------------------------


def _referral_data(referral) -> dict:
    return {
        "id": referral.pk,
        "campaign_id": referral.campaign_id,
        "code_id": referral.code_id,
        "referrer": referral.referrer.external_userid,
        "referred": referral.referred.external_userid,
        "referred_name": referral.referred.name,
        "staff": referral.staff.userid,
        "referred_at": referral.referred_at,
        "is_new": referral.is_new,
        "counted": referral.counted,
    }


@router.get(
    "/referrals", response={200: ReferralPage, **errors(400, 403)}, summary="List referrals"
)
def list_referrals(
    request: HttpRequest, filters: Query[ReferralFilterQuery], page: Query[CursorQuery]
) -> dict:
    """Who brought whom, newest first, for staff you may see."""
    access = access_of(request)
    referrals = services.referrals_in_scope(access).select_related("referrer", "referred", "staff")
    if filters.campaign is not None:
        referrals = referrals.filter(campaign_id=filters.campaign)
    if filters.staff:
        referrals = referrals.filter(staff__userid=filters.staff)
    if filters.counted is not None:
        referrals = referrals.filter(counted=filters.counted)
    result = cursor_page(referrals, field="referred_at", params=page)
    result["items"] = [_referral_data(r) for r in result["items"]]
    return result


@router.get(
    "/referral-campaigns/{campaign_id}/leaderboard",
    response={200: LeaderboardOut, **errors(403, 404)},
    summary="Top referrers and per-staff totals",
)
def leaderboard(request: HttpRequest, campaign_id: int, query: Query[PeriodQuery]) -> dict:
    """New customers referred this week (from Monday), this month or all time, Asia/Shanghai;
    only referrals to staff you may see."""
    access = access_of(request)
    campaign = _find(access, campaign_id)
    ranks = services.leaderboard(access=access, campaign=campaign, period=query.period, limit=50)
    totals = services.staff_totals(access=access, campaign=campaign, period=query.period)
    return {
        "period": query.period,
        "since": services.period_start(query.period),
        "referrers": [
            {
                "rank": r.rank,
                "code_id": r.code_id,
                "referrer": r.referrer.external_userid,
                "referrer_name": r.referrer.name,
                "staff": r.staff_userid,
                "staff_name": r.staff_name,
                "referrals": r.referrals,
            }
            for r in ranks
        ],
        "staff": [
            {
                "staff": row["staff__userid"],
                "staff_name": row["staff__name"],
                "referrals": row["referrals"],
                "referrers": row["referrers"],
            }
            for row in totals
        ],
    }


# --- rewards ---------------------------------------------------------------------------------


def _reward_data(task: RewardTask) -> dict:
    return {
        "id": task.pk,
        "campaign_id": task.campaign_id,
        "code_id": task.code_id,
        "referrer": task.referrer.external_userid,
        "referrer_name": task.referrer.name,
        "staff": task.staff.userid,
        "milestone": task.milestone,
        "reward_text": task.reward_text,
        "status": task.status,
        "created_at": task.created_at,
        "notified_at": task.notified_at,
        "notify_error": task.notify_error,
        "done_at": task.done_at,
        "done_by": task.done_by,
    }


@router.get(
    "/reward-tasks", response={200: RewardPage, **errors(400, 403)}, summary="List reward tasks"
)
def list_rewards(
    request: HttpRequest, filters: Query[RewardFilterQuery], page: Query[CursorQuery]
) -> dict:
    access = access_of(request)
    rewards = services.rewards_in_scope(access).select_related("referrer", "staff")
    if filters.campaign is not None:
        rewards = rewards.filter(campaign_id=filters.campaign)
    if filters.status:
        rewards = rewards.filter(status=filters.status)
    if filters.staff:
        rewards = rewards.filter(staff__userid=filters.staff)
    result = cursor_page(rewards, field="created_at", params=page)
    result["items"] = [_reward_data(t) for t in result["items"]]
    return result


@router.post(
    "/reward-tasks/{task_id}/done",
    auth=write_auth,
    response={200: RewardOut, **WRITE_ERRORS},
    summary="Mark a reward as given",
)
def reward_done(request: HttpRequest, task_id: int) -> dict:
    """Done, with who and when; marking it again changes nothing."""
    access = access_of(request)
    services.require_view(access)
    task = RewardTask.objects.filter(corp=access.corp, pk=task_id).first()
    if task is None:
        raise Http404
    task = services.mark_done(access=access, task=task)
    return _reward_data(RewardTask.objects.select_related("referrer", "staff").get(pk=task.pk))
