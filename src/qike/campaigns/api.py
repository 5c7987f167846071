"""REST endpoints under /api/v1/: mass messages (pre-flight, create, list, results, deliveries,
remind, cancel, refresh) and the corp's per-customer limit policy. Fixed paths come first."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from qike.api.auth import access_of, read_auth, write_auth
from qike.api.pagination import numbered_page
from qike.api.schemas import Id, PageMeta, PageQuery, errors
from qike.campaigns import services
from qike.campaigns.models import Campaign
from qike.campaigns.schemas import (
    CampaignDetailOut,
    CampaignIn,
    CampaignOut,
    DeliveryOut,
    PolicyIn,
    PolicyOut,
    PreflightOut,
    RemindedOut,
    RemindIn,
)

router = Router(tags=["campaigns"], auth=read_auth)
WRITE_ERRORS = errors(400, 403, 404, 502)


class CampaignPage(PageMeta):
    items: list[CampaignOut]


class DeliveryPage(PageMeta):
    items: list[DeliveryOut]


def _draft(payload: CampaignIn) -> services.Draft:
    return services.Draft(
        title=payload.title,
        text=payload.text,
        item_ids=payload.item_ids,
        segment_id=payload.segment_id,
        external_userids=payload.external_userids,
        follower_rule=payload.follower_rule,
        scheduled_at=payload.scheduled_at,
        auto_remind=payload.auto_remind,
        remind_after=payload.remind_after_hours,
    )


def _data(campaign: Campaign, counts: dict[str, int]) -> dict:
    return {
        "id": campaign.pk,
        "title": campaign.title,
        "text": campaign.text,
        "item_ids": campaign.item_ids,
        "segment_id": campaign.segment_id,
        "follower_rule": campaign.follower_rule,
        "limit_rule": campaign.limit_rule,
        "status": campaign.status,
        "scheduled_at": campaign.scheduled_at,
        "created_by": campaign.created_by,
        "created_at": campaign.created_at,
        "dispatched_at": campaign.dispatched_at,
        "cancelled_at": campaign.cancelled_at,
        "polled_at": campaign.polled_at,
        "error": campaign.error,
        "counts": counts,
        "auto_remind": campaign.auto_remind,
        "remind_after_hours": campaign.remind_after,
        "next_auto_remind_at": services.next_auto_remind_at(campaign),
    }


def _detail(campaign: Campaign) -> dict:
    campaign.refresh_from_db()
    return {
        **_data(campaign, services.groups(services.counts(campaign))),
        "progress": campaign.progress or None,
        "preflight": campaign.preflight,
        "plan": campaign.plan,
        "staff": [{**row, "counts": dict(row["counts"])} for row in services.staff_rows(campaign)],
        "reminders": services.reminder_rows(campaign),
        "history": list(
            campaign.snapshots.values("at", "sent", "pending", "skipped", "failed", "cancelled")
        ),
    }


def preflight_data(check: services.Preflight) -> dict:
    summary = check.summary()
    samples = check.samples()
    return {
        **{k: v for k, v in summary.items() if k != "skipped"},
        "skipped": [
            {
                "reason": reason,
                "message": str(services.SKIP_REASONS[reason]),
                "count": n,
                "examples": samples.get(reason, []),
            }
            for reason, n in summary["skipped"].items()
        ],
    }


@router.get("/campaigns", response={200: CampaignPage, **errors(403)}, summary="List mass messages")
def list_campaigns(request: HttpRequest, page: Query[PageQuery]) -> dict:
    result = numbered_page(services.campaigns_in_scope(access_of(request)), page)
    counts = services.status_counts(result["items"])
    result["items"] = [_data(c, counts[c.pk]) for c in result["items"]]
    return result


@router.get("/campaigns/policy", response={200: PolicyOut, **errors(403)}, summary="Limit policy")
def get_policy(request: HttpRequest) -> dict:
    access = access_of(request)
    services.require_campaigns(access)
    return {"limit_rule": services.limit_rule_of(access.corp)}


@router.put(
    "/campaigns/policy",
    auth=write_auth,
    response={200: PolicyOut, **WRITE_ERRORS},
    summary="Choose the per-customer limit (corp admins)",
)
def put_policy(request: HttpRequest, payload: PolicyIn) -> dict:
    policy = services.set_policy(access=access_of(request), limit_rule=payload.limit_rule)
    return {"limit_rule": policy.limit_rule}


@router.post(
    "/campaigns/preflight",
    auth=write_auth,
    response={200: PreflightOut, **WRITE_ERRORS},
    summary="Check a mass message without sending it",
)
def preflight(request: HttpRequest, payload: CampaignIn) -> dict:
    """How many customers would get it, through how many staff and calls, who is skipped and why."""
    return preflight_data(services.preflight(access=access_of(request), draft=_draft(payload)))


@router.post(
    "/campaigns",
    auth=write_auth,
    response={201: CampaignDetailOut, **WRITE_ERRORS},
    summary="Create a mass message (sent now or at scheduled_at)",
)
def create(request: HttpRequest, payload: CampaignIn) -> Status:
    campaign = services.create(access=access_of(request), draft=_draft(payload))
    return Status(201, _detail(campaign))


@router.get(
    "/campaigns/{campaign_id}",
    response={200: CampaignDetailOut, **errors(403, 404)},
    summary="A mass message with its results per staff member and over time",
)
def get_campaign(request: HttpRequest, campaign_id: Id) -> dict:
    return _detail(services.get_campaign(access_of(request), campaign_id))


@router.get(
    "/campaigns/{campaign_id}/deliveries",
    response={200: DeliveryPage, **errors(403, 404)},
    summary="Each customer's result",
)
def list_deliveries(
    request: HttpRequest, campaign_id: Id, page: Query[PageQuery], status: str = ""
) -> dict:
    campaign = services.get_campaign(access_of(request), campaign_id)
    result = numbered_page(services.deliveries(campaign, status), page)
    result["items"] = [
        {
            "external_userid": d.external_userid,
            "customer_name": d.customer.name if d.customer else "",
            "staff": d.staff.userid if d.staff else "",
            "status": d.status,
            "reason": d.reason,
            "send_time": d.send_time,
        }
        for d in result["items"]
    ]
    return result


@router.post(
    "/campaigns/{campaign_id}/remind",
    auth=write_auth,
    response={200: RemindedOut, **WRITE_ERRORS},
    summary="Remind staff who have not sent (at most 3 times in 24 hours)",
)
def remind(request: HttpRequest, campaign_id: Id, payload: RemindIn) -> dict:
    access = access_of(request)
    done = services.remind(
        access=access, campaign=services.get_campaign(access, campaign_id), userid=payload.userid
    )
    return {"reminded": done.reminded, "held": done.held}


@router.post(
    "/campaigns/{campaign_id}/cancel",
    auth=write_auth,
    response={200: CampaignDetailOut, **WRITE_ERRORS},
    summary="Cancel: unsent deliveries stop, sent ones stay",
)
def cancel(request: HttpRequest, campaign_id: Id) -> dict:
    access = access_of(request)
    campaign = services.cancel(access=access, campaign=services.get_campaign(access, campaign_id))
    return _detail(campaign)


@router.post(
    "/campaigns/{campaign_id}/refresh",
    auth=write_auth,
    response={200: CampaignDetailOut, **WRITE_ERRORS},
    summary="Ask WeCom for the results now",
)
def refresh(request: HttpRequest, campaign_id: Id) -> dict:
    access = access_of(request)
    campaign = services.get_campaign(access, campaign_id)
    services.refresh_now(access=access, campaign=campaign)
    return _detail(campaign)
