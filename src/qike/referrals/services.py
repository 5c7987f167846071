"""Referral campaigns, codes, referrals and rewards: every change here, WeCom first, one
transaction each."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qike.core import clock, contact_ways
from qike.core.models import Corp
from qike.core.services import client_for
from qike.customers.models import (
    Customer,
    FollowRelation,
    RelationStatus,
    TimelineEntry,
    TimelineKind,
)
from qike.customers.queries import CustomerFilter, filter_relations, relations_in_scope
from qike.customers.services import add_timeline
from qike.engagement.models import WelcomeMessage
from qike.jobs import enqueue_on_commit
from qike.org.access import Access, Action
from qike.org.models import StaffStatus
from qike.referrals.models import (
    REFERRAL_STATE_PREFIX,
    Campaign,
    Referral,
    ReferralCode,
    RewardStatus,
    RewardTask,
)
from qike.tags import services as tag_services
from qike.tags.models import Tag, TagType
from qike.wecom.errors import WeComError

MAX_REWARD_EVERY = 1000
MAX_BULK = 200  # codes one bulk request may create (each is a WeCom call)
WAY_GRACE_DAYS = 7  # a finished campaign's contact ways are deleted this many days after its end
PERIODS = ("week", "month", "all")
REFERRER_TIMELINE_KIND = TimelineKind.REFERRAL  # the referrer's entry: "referred a friend"
# Timeline kinds that prove a customer knew the corp before an add.
_HISTORY_KINDS = (
    TimelineKind.ADDED,
    TimelineKind.HALF_ADDED,
    TimelineKind.FOUND_BY_SYNC,
    TimelineKind.DELETED_BY_CUSTOMER,
    TimelineKind.DELETED_BY_STAFF,
)


# --- who may ---------------------------------------------------------------------------------


def may_manage(access: Access) -> bool:
    """Campaigns and bulk codes: corp admins and operations."""
    return access.corp_wide and access.can(Action.MANAGE_TAGS)


def require_manage(access: Access) -> None:
    if not may_manage(access):
        raise PermissionDenied(_("Only corp admins and operations may manage referral campaigns."))


def require_view(access: Access) -> None:
    """Everyone who works with customers sees referrals, within their scope."""
    if not access.can(Action.VIEW_CUSTOMERS):
        raise PermissionDenied(_("Your role may not see referrals."))


def codes_in_scope(access: Access) -> QuerySet[ReferralCode]:
    require_view(access)
    return ReferralCode.objects.filter(access.staff_filter("staff__"), corp=access.corp)


def referrals_in_scope(access: Access) -> QuerySet[Referral]:
    require_view(access)
    return Referral.objects.filter(access.staff_filter("staff__"), corp=access.corp)


def rewards_in_scope(access: Access) -> QuerySet[RewardTask]:
    require_view(access)
    return RewardTask.objects.filter(access.staff_filter("staff__"), corp=access.corp)


def display_name(customer: Customer) -> str:
    """How a referrer is named to others: their WeChat nickname (never their ids)."""
    return customer.name or _("A friend")


# --- campaigns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignSpec:
    """What a user asks for. Tags by WeCom id."""

    name: str
    starts_on: dt.date
    ends_on: dt.date | None = None
    intro: str = ""
    tag_ids: tuple[str, ...] = ()
    welcome_message_id: int | None = None
    skip_verify: bool = True
    reward_every: int = 3
    reward_text: str = ""


def _checked(corp: Corp, spec: CampaignSpec) -> tuple[list[Tag], WelcomeMessage | None]:
    if not spec.name.strip():
        raise ValidationError(_("Give the campaign a name."))
    if len(spec.name.strip()) > 64:
        raise ValidationError(_("The name is at most 64 characters."))
    if spec.ends_on is not None and spec.ends_on < spec.starts_on:
        raise ValidationError(_("The last day cannot come before the first day."))
    if len(spec.intro.strip()) > 500:
        raise ValidationError(_("The share page text is at most 500 characters."))
    if not 0 <= spec.reward_every <= MAX_REWARD_EVERY:
        raise ValidationError(
            _("Reward every 1 to %(max)d new customers, or 0 for no reward.")
            % {"max": MAX_REWARD_EVERY}
        )
    if spec.reward_every and not spec.reward_text.strip():
        raise ValidationError(_("Say what the reward is, e.g. “send a coupon”."))
    if len(spec.reward_text.strip()) > 200:
        raise ValidationError(_("The reward is at most 200 characters."))
    wanted = set(spec.tag_ids)
    tags = list(Tag.objects.filter(corp=corp, type=TagType.CORP, wecom_id__in=wanted))
    if len(tags) != len(wanted):
        raise ValidationError(_("Tags must be existing corp tags."))
    welcome = None
    if spec.welcome_message_id is not None:
        welcome = WelcomeMessage.objects.filter(corp=corp, pk=spec.welcome_message_id).first()
        if welcome is None:
            raise ValidationError(_("That welcome message does not exist."))
    return tags, welcome


def save_campaign(
    *, access: Access, spec: CampaignSpec, campaign: Campaign | None = None
) -> Campaign:
    """Create or change a campaign; everything is checked before anything is written. A changed
    `skip_verify` applies to codes generated afterwards (WeCom keeps it per contact way)."""
    require_manage(access)
    if campaign is not None and campaign.corp_id != access.corp.pk:
        raise PermissionDenied
    tags, welcome = _checked(access.corp, spec)
    with transaction.atomic():
        if campaign is None:
            campaign = Campaign(corp=access.corp)
        campaign.name = spec.name.strip()
        campaign.intro = spec.intro.strip()
        campaign.starts_on, campaign.ends_on = spec.starts_on, spec.ends_on
        campaign.welcome_message = welcome
        campaign.skip_verify = spec.skip_verify
        campaign.reward_every = spec.reward_every
        campaign.reward_text = spec.reward_text.strip()
        campaign.save()
        campaign.tags.set(tags)
    return campaign


# --- codes -----------------------------------------------------------------------------------


def _require_can_refer(campaign: Campaign, relation: FollowRelation) -> None:
    if campaign.status_on(clock.now()) == "ended":
        raise ValidationError(_("This campaign has ended."))
    if relation.status != RelationStatus.ACTIVE or relation.is_half:
        raise ValidationError(
            _("Only a customer who is a confirmed friend of the staff member can refer others.")
        )
    if relation.staff.status != StaffStatus.ACTIVE:
        raise ValidationError(_("The staff member following this customer is not active."))


def _create_way(code: ReferralCode, campaign: Campaign) -> None:
    way = contact_ways.add_single_way(
        corp=campaign.corp,
        userid=code.staff.userid,
        state=code.state,
        remark=campaign.name,
        skip_verify=campaign.skip_verify,
    )
    code.config_id, code.qr_code = way.config_id, way.qr_code
    code.way_deleted_at = None


def ensure_code(
    *, access: Access, campaign: Campaign, relation: FollowRelation
) -> tuple[ReferralCode, bool]:
    """The referrer's code in this campaign, made in WeCom the first time it is asked for (True);
    asking again gives the same code. If WeCom refuses, nothing is kept."""
    require_view(access)
    if campaign.corp_id != access.corp.pk or relation.corp_id != access.corp.pk:
        raise PermissionDenied
    if not relations_in_scope(access).filter(pk=relation.pk).exists():
        raise PermissionDenied(_("This customer is outside your scope."))
    return _ensure_code(campaign, relation)


def _ensure_code(campaign: Campaign, relation: FollowRelation) -> tuple[ReferralCode, bool]:
    existing = ReferralCode.objects.filter(
        campaign=campaign, customer_id=relation.customer_id, staff_id=relation.staff_id
    ).first()
    if existing is not None and existing.way_deleted_at is None:
        return existing, False
    _require_can_refer(campaign, relation)
    with transaction.atomic():
        # One referrer, one code: the campaign's row lock serialises two clicks on "generate".
        campaign = Campaign.objects.select_for_update().select_related("corp").get(pk=campaign.pk)
        code = (
            ReferralCode.objects.select_for_update()
            .filter(campaign=campaign, customer_id=relation.customer_id, staff_id=relation.staff_id)
            .select_related("staff")
            .first()
        )
        if code is not None and code.way_deleted_at is None:
            return code, False
        created = code is None
        if created:
            code = ReferralCode.objects.create(
                corp=campaign.corp,
                campaign=campaign,
                customer_id=relation.customer_id,
                staff=relation.staff,
                token=secrets.token_urlsafe(16),
                created_at=clock.now(),
            )
            code.state = f"{REFERRAL_STATE_PREFIX}{code.pk}"
        _create_way(code, campaign)  # a campaign extended after its ways were cleaned up
        code.save()
    return code, created


@dataclass
class BulkResult:
    created: int = 0
    existing: int = 0
    failed: list[str] = field(default_factory=list)  # "name: why"


def bulk_codes(*, access: Access, campaign: Campaign, filters: CustomerFilter) -> BulkResult:
    """Codes for every confirmed, active customer relation the filters choose (e.g. a tag or a
    staff member). One refusal does not stop the others; each is reported."""
    require_manage(access)
    if campaign.corp_id != access.corp.pk:
        raise PermissionDenied
    if campaign.status_on(clock.now()) == "ended":
        raise ValidationError(_("This campaign has ended."))
    relations = (
        filter_relations(access, filters)
        .filter(status=RelationStatus.ACTIVE, is_half=False, staff__status=StaffStatus.ACTIVE)
        .select_related("customer", "staff")
        .order_by("pk")
    )
    chosen = list(relations[: MAX_BULK + 1])
    if not chosen:
        raise ValidationError(_("No customer matches."))
    if len(chosen) > MAX_BULK:
        raise ValidationError(
            _("More than %(max)d customers match: narrow the choice and generate in parts.")
            % {"max": MAX_BULK}
        )
    result = BulkResult()
    for relation in chosen:
        try:
            _code, created = _ensure_code(campaign, relation)
        except (ValidationError, WeComError) as exc:
            why = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            result.failed.append(f"{relation.customer}: {why}")
            continue
        if created:
            result.created += 1
        else:
            result.existing += 1
    return result


def expire_ways() -> int:
    """Delete the contact ways of campaigns that ended more than WAY_GRACE_DAYS ago (a corp may
    have at most 500,000). One corp's WeCom trouble does not stop the others."""
    last_day = timezone.localtime(clock.now()).date() - dt.timedelta(days=WAY_GRACE_DAYS + 1)
    waiting = ReferralCode.objects.filter(
        way_deleted_at__isnull=True, campaign__ends_on__lte=last_day
    ).exclude(config_id="")
    return contact_ways.delete_ways_of(ReferralCode, waiting.values_list("pk", flat=True))


# --- adds ------------------------------------------------------------------------------------


def _relation(corp: Corp, external_userid: str, userid: str) -> FollowRelation | None:
    return (
        FollowRelation.objects.filter(
            corp=corp, customer__external_userid=external_userid, staff__userid=userid
        )
        .select_related("customer", "staff")
        .first()
    )


def _code_for(corp: Corp, state: str) -> ReferralCode | None:
    if not state.startswith(REFERRAL_STATE_PREFIX):
        return None
    return (
        ReferralCode.objects.filter(corp=corp, state=state)
        .select_related("campaign", "customer", "staff")
        .first()
    )


def is_new_customer(corp: Corp, relation: FollowRelation, at: dt.datetime) -> bool:
    """Whether the customer knew nobody in the corp before this add: no relation with another
    member added earlier, and no earlier add, sync or loss on their timeline — except this very
    member's add entries, which belong to the add being judged (a half add and its confirmation).
    A re-add after a deletion is caught by the deletion's entry.

    Qike knows only what it has seen: WeCom lists a customer's current members, not past ones, so
    someone every member had deleted before Qike was connected passes as new."""
    others = (
        FollowRelation.objects.filter(corp=corp, customer_id=relation.customer_id, added_at__lt=at)
        .exclude(pk=relation.pk)
        .exists()
    )
    if others:
        return False
    history = (
        TimelineEntry.objects.filter(
            corp=corp,
            customer_id=relation.customer_id,
            kind__in=_HISTORY_KINDS,
            occurred_at__lt=at,
        )
        .exclude(
            staff_id=relation.staff_id,
            kind__in=(TimelineKind.ADDED, TimelineKind.HALF_ADDED),
        )
        .exists()
    )
    return not history


def record_referral(
    *, corp: Corp, state: str, external_userid: str, userid: str, at: dt.datetime | None
) -> Referral | None:
    """The add carrying a referral code's state: who brought whom, once per referred customer and
    campaign however often the event comes, on both customers' timelines; a reward task when the
    referrer's counted referrals reach a multiple of the campaign's N.

    Recorded at the first event, usually the half add (a way that skips verification), which
    carries the State. Whether real WeCom repeats the State on the confirmation is not documented
    (wecomsim does); the referral does not depend on it, the campaign's tags (which a half-added
    customer cannot take yet) do, as a live code's do."""
    code = _code_for(corp, state)
    relation = _relation(corp, external_userid, userid)
    if code is None or relation is None or relation.staff_id != code.staff_id:
        return None
    if relation.customer_id == code.customer_id:
        return None  # nobody refers themselves
    at = at or clock.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=code.campaign_id)
        done = Referral.objects.filter(campaign=campaign, referred_id=relation.customer_id).first()
        if done is not None:
            _rename_referred(done, relation.customer)
            return done
        is_new = is_new_customer(corp, relation, at)
        referral = Referral.objects.create(
            corp=corp,
            campaign=campaign,
            code=code,
            referrer_id=code.customer_id,
            referred_id=relation.customer_id,
            staff_id=relation.staff_id,
            relation=relation,
            referred_at=at,
            is_new=is_new,
            counted=is_new and campaign.status_on(at) == "active",
        )
        _add_timelines(referral, code, relation)
        if referral.counted:
            _maybe_reward(campaign, code)
    return referral


def _add_timelines(referral: Referral, code: ReferralCode, relation: FollowRelation) -> None:
    common = {
        "kind": "referral",
        "campaign": referral.campaign.name,
        "campaign_id": referral.campaign_id,
        "referral_id": referral.pk,
        "counted": referral.counted,
    }
    add_timeline(
        corp=referral.corp,
        customer_id=relation.customer_id,
        staff_id=relation.staff_id,
        kind=TimelineKind.CHANNEL,
        occurred_at=referral.referred_at,
        data={
            **common,
            "label": _("Referred by %(name)s") % {"name": display_name(code.customer)},
            "referrer": code.customer.external_userid,
        },
    )
    add_timeline(
        corp=referral.corp,
        customer_id=code.customer_id,
        staff_id=code.staff_id,
        kind=REFERRER_TIMELINE_KIND,
        occurred_at=referral.referred_at,
        data={
            **common,
            "label": _referred_label(relation.customer),
            "referred": relation.customer.external_userid,
            "referred_name": relation.customer.name,
        },
    )


def _referred_label(customer: Customer) -> str:
    return _("Referred %(name)s") % {"name": display_name(customer)}


def _rename_referred(referral: Referral, customer: Customer) -> None:
    """A half-added friend's name is unreadable (84061) until the member confirms: the referrer's
    entry names them once it is known."""
    entry = TimelineEntry.objects.filter(
        corp=referral.corp_id,
        customer_id=referral.referrer_id,
        kind=REFERRER_TIMELINE_KIND,
        data__referral_id=referral.pk,
    ).first()
    if entry is None or entry.data.get("referred_name") == customer.name:
        return
    entry.data = {**entry.data, "referred_name": customer.name, "label": _referred_label(customer)}
    entry.save(update_fields=["data"])


def apply_tags(*, corp: Corp, state: str, external_userid: str, userid: str) -> list[str]:
    """The campaign's tags on a referred customer (WeCom first); a half-added customer is tagged at
    the confirmation. Tags they already have are skipped, so a repeated event changes nothing."""
    code = _code_for(corp, state)
    relation = _relation(corp, external_userid, userid)
    if code is None or relation is None or relation.staff_id != code.staff_id:
        return []
    return tag_services.apply_auto_tags(
        corp=corp, relation=relation, tags=code.campaign.tags.all(), actor=code.campaign.name
    )


# --- rewards ---------------------------------------------------------------------------------


def _maybe_reward(campaign: Campaign, code: ReferralCode) -> RewardTask | None:
    """At N, 2N, … counted referrals of this referrer: one reward task (inside the caller's
    transaction, under the campaign's lock), and the staff member is told once it commits."""
    if not campaign.reward_every:
        return None
    count = Referral.objects.filter(code=code, counted=True).count()
    if count % campaign.reward_every:
        return None
    task, created = RewardTask.objects.get_or_create(
        code=code,
        milestone=count,
        defaults={
            "corp": campaign.corp,
            "campaign": campaign,
            "referrer_id": code.customer_id,
            "staff_id": code.staff_id,
            "reward_text": campaign.reward_text,
            "created_at": clock.now(),
        },
    )
    if created:
        from qike.referrals.tasks import notify_reward_job

        enqueue_on_commit(notify_reward_job, task.pk)
    return task


def reward_message(task: RewardTask) -> str:
    return _(
        "Referral reward due: your customer %(referrer)s has brought %(n)d new customers in "
        "“%(campaign)s”. Reward: %(reward)s. Mark it done in Qike once given."
    ) % {
        "referrer": display_name(task.referrer),
        "n": task.milestone,
        "campaign": task.campaign.name,
        "reward": task.reward_text,
    }


def notify_reward(*, task_id: int) -> RewardTask | None:
    """Tell the staff member by WeCom app message, once. A failure is kept on the task for the
    console (where it can be sent again), never raised into the add's handling."""
    with transaction.atomic():
        task = (
            RewardTask.objects.select_for_update()
            .select_related("corp", "staff", "referrer", "campaign")
            .filter(pk=task_id)
            .first()
        )
        if task is None or task.notified_at is not None:
            return task
        corp, error = task.corp, ""
        if corp.agent_id is None:
            error = _("The corp has no app agent id configured.")
        elif task.staff.status != StaffStatus.ACTIVE:
            error = _("The staff member is not active.")
        else:
            try:
                with client_for(corp) as client:
                    answer = client.send_app_message(
                        agentid=corp.agent_id,
                        touser=[task.staff.userid],
                        content=reward_message(task),
                    )
                invalid = set(filter(None, str(answer.get("invaliduser", "")).split("|")))
                if task.staff.userid in invalid:
                    error = _("WeCom could not reach the staff member with the app.")
            except WeComError as exc:
                error = f"{exc.errcode} {exc.errmsg}"
        if error:
            task.notify_error = error[:255]
        else:
            task.notify_error, task.notified_at = "", clock.now()
        task.save(update_fields=["notify_error", "notified_at"])
    return task


def _task_in_scope(access: Access, task: RewardTask) -> None:
    if task.corp_id != access.corp.pk:
        raise PermissionDenied
    if not rewards_in_scope(access).filter(pk=task.pk).exists():
        raise PermissionDenied(_("This reward belongs to a staff member outside your scope."))


def mark_done(*, access: Access, task: RewardTask) -> RewardTask:
    """The reward was given: done, by whom and when (marking it again changes nothing)."""
    _task_in_scope(access, task)
    with transaction.atomic():
        task = RewardTask.objects.select_for_update().get(pk=task.pk)
        if task.status == RewardStatus.DONE:
            return task
        user = User.objects.filter(pk=access.user_id).first()
        task.status = RewardStatus.DONE
        task.done_at = clock.now()
        task.done_by = user.get_username() if user else "api"
        task.save(update_fields=["status", "done_at", "done_by"])
    return task


def notify_again(*, access: Access, task: RewardTask) -> RewardTask | None:
    """Send the app message again after a failure (a task already notified is left alone)."""
    _task_in_scope(access, task)
    return notify_reward(task_id=task.pk)


# --- leaderboard -----------------------------------------------------------------------------


def period_start(period: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """The start of this week (Monday) or month, Asia/Shanghai; None for all time."""
    if period not in PERIODS:
        raise ValidationError(_("The period must be week, month or all."))
    local = timezone.localtime(now or clock.now())
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return day - dt.timedelta(days=local.weekday())
    if period == "month":
        return day.replace(day=1)
    return None


def _counted(access: Access, campaign: Campaign, period: str) -> QuerySet[Referral]:
    if campaign.corp_id != access.corp.pk:
        raise PermissionDenied
    referrals = referrals_in_scope(access).filter(campaign=campaign, counted=True)
    start = period_start(period)
    if start is not None:
        referrals = referrals.filter(referred_at__gte=start)
    return referrals


@dataclass(frozen=True)
class Rank:
    rank: int
    code_id: int
    referrer: Customer
    staff_userid: str
    staff_name: str
    referrals: int
    last_at: dt.datetime


def leaderboard(
    *, access: Access, campaign: Campaign, period: str = "all", limit: int = 20
) -> list[Rank]:
    """Top referrers by counted referrals in the period (ties: who got there first), within the
    caller's scope."""
    rows = list(
        _counted(access, campaign, period)
        .values("code_id", "referrer_id", "staff__userid", "staff__name")
        .annotate(n=Count("pk"), last_at=Max("referred_at"))
        .order_by("-n", "last_at", "code_id")[:limit]
    )
    customers = Customer.objects.in_bulk([row["referrer_id"] for row in rows])
    return [
        Rank(
            rank=number,
            code_id=row["code_id"],
            referrer=customers[row["referrer_id"]],
            staff_userid=row["staff__userid"],
            staff_name=row["staff__name"],
            referrals=row["n"],
            last_at=row["last_at"],
        )
        for number, row in enumerate(rows, start=1)
    ]


def staff_totals(*, access: Access, campaign: Campaign, period: str = "all") -> list[dict]:
    """Per staff member: counted referrals and how many referrers brought them, most first."""
    return list(
        _counted(access, campaign, period)
        .values("staff__userid", "staff__name")
        .annotate(referrals=Count("pk"), referrers=Count("code_id", distinct=True))
        .order_by("-referrals", "staff__userid")
    )


def campaign_figures(*, access: Access, campaign: Campaign) -> dict:
    """Codes, referrals (all / counted) and rewards (open / done) in the caller's scope."""
    referrals = referrals_in_scope(access).filter(campaign=campaign)
    rewards = rewards_in_scope(access).filter(campaign=campaign)
    figures = referrals.aggregate(
        referrals=Count("pk"), counted=Count("pk", filter=Q(counted=True))
    )
    figures.update(
        rewards.aggregate(
            rewards_open=Count("pk", filter=Q(status=RewardStatus.OPEN)),
            rewards_done=Count("pk", filter=Q(status=RewardStatus.DONE)),
        )
    )
    figures["codes"] = codes_in_scope(access).filter(campaign=campaign).count()
    return figures
