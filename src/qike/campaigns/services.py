"""Mass messages to customers (企业群发): compose, pre-flight, plan, dispatch, follow, remind, cancel.

WeCom's rules (API-FACTS §3.6, §6, §8) and how Qike keeps them:
- one add_msg_template per sending staff member (chat_type single, sender = that member), at most
  10,000 external_userids per call: the plan splits larger lists into parts;
- a customer followed by several staff members is sent once, by the campaign's follower rule;
- WeCom delivers to a customer at most 1 mass message per day (current rule) or 4 per natural
  month (older rule; the corp policy chooses): Qike counts what each customer received
  (Receipt: its own sends and, synced from get_groupmsg_list_v2, the corp's other mass messages)
  plus what its other live campaigns still have pending in the same window, and skips customers
  at the limit instead of sending what WeCom would refuse (status 3);
- nothing reaches a customer until the staff member confirms it in the WeCom client: the polling
  job reads get_groupmsg_task and get_groupmsg_send_result (status 0 not sent, 1 sent, 2 not a
  friend, 3 at the receiving limit);
- remind_groupmsg_send: at most 3 per message in 24 hours (WeCom answers 41094 beyond), so Qike
  never asks a fourth time, counting the console's reminders and the automatic ones together;
  cancel_groupmsg_send stops only what was not sent yet.
Automatic reminders (on by default, 2 h / 6 h / 20 h after dispatch): a job takes each step when
its time comes on Qike's clock; it polls first, so only staff still waiting are reminded, and a
staff member the cap holds at that step is skipped for it (not reminded later in its place).
Days and months are Asia/Shanghai calendar days, as WeCom counts them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qike.audit.context import current_actor
from qike.audit.services import record
from qike.campaigns.models import (
    FAILED_GROUP,
    LIMIT_PER_WINDOW,
    LIVE,
    MAX_ATTACHMENTS,
    RECIPIENTS_PER_CALL,
    REMIND_AFTER_MAX_HOURS,
    REMIND_STEPS_MAX,
    TEXT_MAX_BYTES,
    TITLE_MAX,
    WECOM_RESULT,
    Campaign,
    CampaignMessage,
    CampaignPolicy,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    FollowerRule,
    LimitRule,
    MessageStatus,
    Receipt,
    Reminder,
    Snapshot,
    default_remind_after,
)
from qike.core import clock
from qike.core.aggregates import counts_per
from qike.core.models import Corp
from qike.core.services import client_for
from qike.customers.models import Customer, FollowRelation, RelationStatus, TimelineKind
from qike.customers.services import add_timeline_many
from qike.org.access import Access, Action
from qike.org.models import StaffStatus
from qike.wecom.calls_groupmsg import REMIND_LIMIT, STILL_DISPATCHING, TASK_CANCELLED
from qike.wecom.client import WeComClient
from qike.wecom.errors import WeComError, WeComTransportError
from qike.wecom.tokens import MemoryTokenStore, token_key

log = logging.getLogger("qike.campaigns")

SHANGHAI = ZoneInfo("Asia/Shanghai")
REMIND_MAX, REMIND_WINDOW = 3, dt.timedelta(hours=24)
MAX_EXPLICIT = 1_000_000  # customers in an explicit list
IN_QUERY_MAX = 5000  # beyond this, the explicit list is matched in Python, not with IN (…)
SEND_THREADS = 4  # add_msg_template calls in flight at once
POLL_FOR = dt.timedelta(days=7)  # a campaign is followed this long after it was sent
SAMPLE = 20  # customers listed per skip reason in a pre-flight
SEND_TIMEOUT = (
    30.0  # seconds for one add_msg_template (10,000 ids) before the answer counts as lost
)
# A message whose answer was lost is looked for in get_groupmsg_list_v2 from a little before the
# call (Qike's and WeCom's clocks differ by seconds) until it shows; WeCom lists a created message
# within seconds, so none after RECONCILE_WINDOW means it was never created.
RECONCILE_SLACK = dt.timedelta(minutes=2)
RECONCILE_WINDOW = dt.timedelta(minutes=30)
UPDATE_CHUNK = 5000  # delivery ids per UPDATE … WHERE id IN (…)
LOST = "answer_lost"  # Delivery.reason of a message WeCom never created after a lost answer

# Why a customer is not sent (pre-flight and Delivery.reason).
REACHED_TODAY = "reached_today"
REACHED_MONTH = "reached_month"
PENDING_ELSEWHERE = "pending_elsewhere"
NO_FOLLOWER = "no_active_follower"
DELETED = "deleted"
REFUSED = "refused_by_wecom"

SKIP_REASONS = {
    REACHED_TODAY: gettext_lazy("already received a mass message today"),
    REACHED_MONTH: gettext_lazy("already received four mass messages this month"),
    PENDING_ELSEWHERE: gettext_lazy("another campaign is waiting to reach them in this period"),
    NO_FOLLOWER: gettext_lazy("no active staff member follows them"),
    DELETED: gettext_lazy("deleted: no longer a friend of any staff member"),
    REFUSED: gettext_lazy("WeCom refused the customer"),
}


# --- who may ------------------------------------------------------------------------------------


def require_campaigns(access: Access) -> None:
    if not access.can(Action.RUN_CAMPAIGNS):
        raise PermissionDenied(_("Your role may not run mass messages."))


def campaigns_in_scope(access: Access) -> QuerySet[Campaign]:
    require_campaigns(access)
    return Campaign.objects.filter(corp=access.corp)


def get_campaign(access: Access, pk: int) -> Campaign:
    campaign = Campaign.objects.filter(corp=access.corp, pk=pk).first()
    if campaign is None:
        raise Http404
    require_campaigns(access)
    return campaign


# --- policy ---------------------------------------------------------------------------------------


def limit_rule_of(corp: Corp) -> str:
    policy = CampaignPolicy.objects.filter(corp=corp).first()
    return policy.limit_rule if policy else LimitRule.DAILY


def set_policy(*, access: Access, limit_rule: str) -> CampaignPolicy:
    """Corp admins choose which per-customer limit Qike plans for."""
    access.require(Action.MANAGE_CORP)
    if limit_rule not in LimitRule.values:
        raise ValidationError(_("Unknown per-customer limit."))
    with transaction.atomic():
        policy, _created = CampaignPolicy.objects.select_for_update().get_or_create(
            corp=access.corp
        )
        before = policy.limit_rule
        policy.limit_rule = limit_rule
        policy.updated_at = clock.now()
        policy.save()
        record(
            corp=access.corp,
            action="campaigns.policy",
            target=policy,
            before={"limit_rule": before},
            after={"limit_rule": limit_rule},
        )
    return policy


def window_start(rule: str, at: dt.datetime) -> dt.datetime:
    """Start of the Shanghai day (daily rule) or month (monthly rule) holding `at`."""
    local = at.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    if rule == LimitRule.MONTHLY:
        local = local.replace(day=1)
    return local


# --- compose -------------------------------------------------------------------------------------


@dataclass
class Draft:
    """What the composer filled in. Exactly one audience: a segment or explicit customers."""

    title: str = ""
    text: str = ""
    item_ids: Sequence[int] = ()
    segment_id: int | None = None
    external_userids: Sequence[str] = ()
    follower_rule: str = FollowerRule.FIRST
    scheduled_at: dt.datetime | None = None
    auto_remind: bool = True
    remind_after: Sequence[object] | None = None  # hours after dispatch; None: 2, 6, 20


@dataclass
class Checked:
    title: str
    text: str
    item_ids: list[int]
    segment: object | None
    external_userids: list[str]
    follower_rule: str
    scheduled_at: dt.datetime | None
    auto_remind: bool = True
    remind_after: list[int] = field(default_factory=default_remind_after)


def _library():
    from qike.engagement import library

    return library


def _clean_content(access: Access, draft: Draft) -> tuple[str, list[int]]:
    text = (draft.text or "").strip()
    try:
        item_ids = list(dict.fromkeys(int(i) for i in draft.item_ids or ()))
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("Library items are given by their ids.")) from exc
    if len(item_ids) > MAX_ATTACHMENTS:
        raise ValidationError(
            _("At most %(n)d attachments in a mass message.") % {"n": MAX_ATTACHMENTS}
        )
    if item_ids:
        _library().validate_attachments(corp=access.corp, item_ids=item_ids, purpose="message")
    if not text and not item_ids:
        raise ValidationError(_("Write a text or choose at least one attachment."))
    if len(text.encode("utf-8")) > TEXT_MAX_BYTES:
        raise ValidationError(
            _("The text is at most %(n)d bytes (about 1,300 Chinese characters).")
            % {"n": TEXT_MAX_BYTES}
        )
    return text, item_ids


def _clean_audience(access: Access, draft: Draft) -> tuple[object | None, list[str]]:
    given = [e for e in draft.external_userids or () if isinstance(e, str)]
    if len(given) != len(draft.external_userids or ()):
        raise ValidationError(_("Customers must be a list of external UserIDs."))
    ids = list(dict.fromkeys(e.strip() for e in given if e.strip()))
    if draft.segment_id and ids:
        raise ValidationError(_("Choose a segment or a list of customers, not both."))
    if draft.segment_id:
        from qike.segments.services import get_segment

        return get_segment(access=access, pk=draft.segment_id), []
    if not ids:
        raise ValidationError(_("Choose a segment or at least one customer."))
    if len(ids) > MAX_EXPLICIT:
        raise ValidationError(_("At most %(n)d customers in a list.") % {"n": MAX_EXPLICIT})
    if any(len(e) > 64 for e in ids):
        raise ValidationError(_("An external UserID has at most 64 characters."))
    known = _known_customers(access.corp, ids)
    unknown = [e for e in ids if e not in known]
    if unknown:
        raise ValidationError(
            _("Not customers of this corp: %(ids)s") % {"ids": "、".join(unknown[:10])}
        )
    return None, ids


def _known_customers(corp: Corp, ids: list[str]) -> set[str]:
    rows = Customer.objects.filter(corp=corp)
    if len(ids) <= IN_QUERY_MAX:
        return set(rows.filter(external_userid__in=ids).values_list("external_userid", flat=True))
    wanted = set(ids)
    return {e for e in rows.values_list("external_userid", flat=True).iterator() if e in wanted}


def _hours(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    raise ValueError(value)


def clean_remind_after(raw: Sequence[object] | None) -> list[int]:
    """The automatic reminders' schedule: 1 to 3 whole hours after dispatch, rising, within the
    7 days a campaign is followed. None is the default (2, 6, 20)."""
    if raw is None:
        return default_remind_after()
    try:
        hours = [_hours(h) for h in raw]
    except ValueError as exc:
        raise ValidationError(
            _("The reminder schedule is whole hours after sending, like 2, 6, 20.")
        ) from exc
    if not 1 <= len(hours) <= REMIND_STEPS_MAX:
        raise ValidationError(
            _("Give 1 to %(n)d reminder times (WeCom allows 3 reminders in 24 hours).")
            % {"n": REMIND_STEPS_MAX}
        )
    if any(not 1 <= h <= REMIND_AFTER_MAX_HOURS for h in hours):
        raise ValidationError(
            _("Each reminder time is between 1 and %(n)d hours after sending.")
            % {"n": REMIND_AFTER_MAX_HOURS}
        )
    if any(b <= a for a, b in pairwise(hours)):
        raise ValidationError(_("The reminder times must rise, like 2, 6, 20."))
    return hours


def check(*, access: Access, draft: Draft) -> Checked:
    """The draft, cleaned; ValidationError with a clear message on bad input (nothing saved)."""
    require_campaigns(access)
    text, item_ids = _clean_content(access, draft)
    segment, ids = _clean_audience(access, draft)
    rule = draft.follower_rule or FollowerRule.FIRST
    if rule not in FollowerRule.values:
        raise ValidationError(_("Unknown sender rule."))
    if rule == FollowerRule.OWNER and (segment is None or segment.owner_id is None):
        raise ValidationError(_("The segment-owner rule needs a segment that has an owner."))
    at = draft.scheduled_at
    if at is not None:
        if at.tzinfo is None:
            raise ValidationError(_("The send time needs a time zone."))
        if at <= clock.now():
            raise ValidationError(_("The send time is in the past; choose a later time."))
    title = (draft.title or "").strip() or (text.splitlines()[0] if text else _("Mass message"))
    auto_remind = bool(draft.auto_remind)
    # Off: the schedule is not used, so a leftover value in the form is not an error.
    remind_after = clean_remind_after(draft.remind_after) if auto_remind else []
    return Checked(
        title=title[:TITLE_MAX],
        text=text,
        item_ids=item_ids,
        segment=segment,
        external_userids=ids,
        follower_rule=rule,
        scheduled_at=at,
        auto_remind=auto_remind,
        remind_after=remind_after,
    )


# --- planning ------------------------------------------------------------------------------------


@dataclass
class Plan:
    """Who gets it through whom, and who is skipped why."""

    at: dt.datetime
    limit_rule: str
    sends: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # staff → customers
    userids: dict[int, str] = field(default_factory=dict)  # staff pk → WeCom userid
    skipped: dict[str, list[tuple[int | None, str, int | None]]] = field(default_factory=dict)
    duplicates: int = 0  # customers with several usable followers (each sent once)
    receipts_checked: bool = True

    @property
    def to_send(self) -> int:
        return sum(len(v) for v in self.sends.values())

    @property
    def skipped_count(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    def calls(self) -> int:
        return sum(-(-len(v) // RECIPIENTS_PER_CALL) for v in self.sends.values())

    def summary(self) -> dict:
        return {
            "customers": self.to_send + self.skipped_count,
            "to_send": self.to_send,
            "staff": len(self.sends),
            "calls": self.calls(),
            "duplicates": self.duplicates,
            "skipped": {reason: len(rows) for reason, rows in self.skipped.items()},
            "limit_rule": self.limit_rule,
            "receipts_checked": self.receipts_checked,
        }


# A relation as the planner reads it.
Row = tuple[int, str, int, str, int, dt.datetime, str, bool]
RELATION_FIELDS = (
    "customer_id",
    "customer__external_userid",
    "staff_id",
    "staff__userid",
    "staff__status",
    "added_at",
    "status",
    "is_half",
)


def _relations(corp: Corp, access: Access, checked: Checked) -> Iterable[Row]:
    if checked.segment is not None:
        from qike.segments.services import audience, rules_from_dict

        rules = rules_from_dict(checked.segment.rules)
        query = audience(corp=corp, rules=rules, access=access)
        return query.values_list(*RELATION_FIELDS).iterator(chunk_size=20000)
    ids = checked.external_userids
    query = FollowRelation.objects.filter(access.staff_filter("staff__"), corp=corp)
    if len(ids) <= IN_QUERY_MAX:
        return query.filter(customer__external_userid__in=ids).values_list(*RELATION_FIELDS)
    wanted = set(ids)
    rows = query.values_list(*RELATION_FIELDS).iterator(chunk_size=20000)
    return (r for r in rows if r[1] in wanted)


def _usable(row: Row) -> bool:
    return row[6] == RelationStatus.ACTIVE and not row[7] and row[4] == StaffStatus.ACTIVE


def _choose(usable: list[Row], rule: str, owner_id: int | None) -> Row:
    """The sending relation. The owner rule takes the segment owner when they are among the
    customer's usable followers in the audience, else falls back to the first follower."""
    if rule == FollowerRule.OWNER and owner_id is not None:
        for row in usable:
            if row[2] == owner_id:
                return row
    if rule == FollowerRule.LATEST:
        return max(usable, key=lambda r: (r[5], r[2]))
    return min(usable, key=lambda r: (r[5], r[2]))  # first follower; OWNER falls back here


def _counted(corp: Corp, since: dt.datetime, exclude: int | None) -> tuple[Counter, Counter]:
    """Per customer: mass messages received since `since`, and deliveries of other live campaigns
    still pending that were planned in the same period (they may yet be sent)."""
    received = Counter(
        Receipt.objects.filter(corp=corp, received_at__gte=since).values_list(
            "external_userid", flat=True
        )
    )
    pending = (
        Delivery.objects.filter(
            corp=corp,
            status=DeliveryStatus.PENDING,
            campaign__status__in=LIVE,
            campaign__dispatched_at__gte=since,
        )
        .exclude(campaign_id=exclude)
        .values_list("external_userid", flat=True)
    )
    return received, Counter(pending)


def plan(
    *, corp: Corp, access: Access, checked: Checked, at: dt.datetime, campaign_id: int | None = None
) -> Plan:
    rule = limit_rule_of(corp)
    result = Plan(at=at, limit_rule=rule)
    result.receipts_checked = sync_receipts(corp=corp, since=window_start(rule, at))
    by_customer: dict[int, list[Row]] = defaultdict(list)
    external: dict[int, str] = {}
    for row in _relations(corp, access, checked):
        by_customer[row[0]].append(row)
        external[row[0]] = row[1]
    owner_id = getattr(checked.segment, "owner_id", None)
    received, pending = _counted(corp, window_start(rule, at), campaign_id)
    cap = LIMIT_PER_WINDOW[rule]
    reached = REACHED_TODAY if rule == LimitRule.DAILY else REACHED_MONTH
    skipped: dict[str, list] = defaultdict(list)
    sends: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for customer_id, rows in by_customer.items():
        ext = external[customer_id]
        usable = [r for r in rows if _usable(r)]
        if not usable:
            gone = all(r[6] != RelationStatus.ACTIVE for r in rows)
            skipped[DELETED if gone else NO_FOLLOWER].append((customer_id, ext, None))
            continue
        chosen = _choose(usable, checked.follower_rule, owner_id)
        if received[ext] >= cap:
            skipped[reached].append((customer_id, ext, chosen[2]))
            continue
        if received[ext] + pending[ext] >= cap:
            skipped[PENDING_ELSEWHERE].append((customer_id, ext, chosen[2]))
            continue
        if len({r[2] for r in usable}) > 1:
            result.duplicates += 1
        sends[chosen[2]].append((customer_id, ext))
        result.userids[chosen[2]] = chosen[3]
    _explicit_without_relations(checked, external, skipped)
    result.sends, result.skipped = dict(sends), dict(skipped)
    return result


def _explicit_without_relations(checked: Checked, external: dict[int, str], skipped) -> None:
    """Customers of an explicit list that no staff member (in scope) follows at all."""
    if checked.segment is not None:
        return
    seen = set(external.values())
    for ext in checked.external_userids:
        if ext not in seen:
            skipped[NO_FOLLOWER].append((None, ext, None))


# --- what WeCom already delivered ------------------------------------------------------------------


def sync_receipts(*, corp: Corp, since: dt.datetime) -> bool:
    """Learn the mass messages the corp's customers received since `since` outside this Qike
    campaign flow (members' own mass messages, the admin console): get_groupmsg_list_v2, then
    each unknown message's senders and results. False when WeCom could not say (yet)."""
    own = set(
        CampaignMessage.objects.filter(corp=corp).exclude(msgid="").values_list("msgid", flat=True)
    )
    known = set(
        Receipt.objects.filter(corp=corp, received_at__gte=since).values_list("msgid", flat=True)
    )
    now = clock.now()
    start = max(since, now - dt.timedelta(days=30))  # WeCom: a range of at most one month
    try:
        with client_for(corp) as client:
            messages = [
                m
                for page in client.iter_groupmsg_list_v2(
                    start_time=int(start.timestamp()), end_time=int(now.timestamp())
                )
                for m in page
            ]
            rows: list[Receipt] = []
            for message in messages:
                msgid = str(message.get("msgid") or "")
                if not msgid or msgid in own or msgid in known:
                    continue
                rows.extend(_receipts_of(client, corp, msgid))
    except WeComError as exc:
        log.warning("campaigns.sync_receipts_failed corp=%s errcode=%s", corp.pk, exc.errcode)
        return False
    Receipt.objects.bulk_create(rows, ignore_conflicts=True)
    return True


def _receipts_of(client: WeComClient, corp: Corp, msgid: str) -> list[Receipt]:
    rows = []
    senders = [
        t["userid"] for page in client.iter_groupmsg_task(msgid) for t in page if t.get("status")
    ]
    for userid in senders:
        for page in client.iter_groupmsg_send_result(msgid, userid):
            for item in page:
                if int(item.get("status") or 0) == 1 and item.get("external_userid"):
                    at = clock.from_timestamp(item.get("send_time")) or clock.now()
                    rows.append(
                        Receipt(
                            corp=corp,
                            external_userid=item["external_userid"],
                            received_at=at,
                            msgid=msgid,
                        )
                    )
    return rows


# --- pre-flight and create --------------------------------------------------------------------------


@dataclass
class Preflight:
    checked: Checked
    plan: Plan

    def summary(self) -> dict:
        return self.plan.summary()

    def samples(self) -> dict[str, list[str]]:
        return {r: [row[1] for row in rows[:SAMPLE]] for r, rows in self.plan.skipped.items()}

    def sample_names(self, corp: Corp) -> dict[str, list[str]]:
        """The samples as people read them: the customer's name where Qike knows it."""
        samples = self.samples()
        wanted = {ext for exts in samples.values() for ext in exts}
        names = dict(
            Customer.objects.filter(corp=corp, external_userid__in=wanted)
            .exclude(name="")
            .values_list("external_userid", "name")
        )
        return {r: [names.get(ext, ext) for ext in exts] for r, exts in samples.items()}


def preflight(*, access: Access, draft: Draft) -> Preflight:
    """What sending would do now (or at the scheduled time): how many customers get it through how
    many staff members and WeCom calls, and who is skipped and why. Saves nothing."""
    checked = check(access=access, draft=draft)
    at = checked.scheduled_at or clock.now()
    return Preflight(checked, plan(corp=access.corp, access=access, checked=checked, at=at))


def create(*, access: Access, draft: Draft) -> Campaign:
    """Check, pre-flight and save; sent at once (by a job, after commit) unless scheduled."""
    check_ = preflight(access=access, draft=draft)
    checked, summary = check_.checked, check_.summary()
    if summary["to_send"] == 0:
        raise ValidationError(_("Nobody in this audience can receive it now; see the pre-flight."))
    actor = current_actor()
    with transaction.atomic():
        campaign = Campaign.objects.create(
            corp=access.corp,
            title=checked.title,
            text=checked.text,
            item_ids=checked.item_ids,
            segment=checked.segment,
            segment_name=str(checked.segment or "")[:64],
            external_userids=checked.external_userids,
            follower_rule=checked.follower_rule,
            limit_rule=summary["limit_rule"],
            status=CampaignStatus.SCHEDULED,
            scheduled_at=checked.scheduled_at,
            preflight=summary,
            auto_remind=checked.auto_remind,
            remind_after=checked.remind_after,
            created_by=(actor.name if actor else "")[:150],
            created_at=clock.now(),
        )
        record(
            corp=access.corp,
            action="campaigns.create",
            target=campaign,
            after={
                "title": campaign.title,
                "segment": campaign.segment_id,
                "customers": len(checked.external_userids),
                "items": checked.item_ids,
                "follower_rule": checked.follower_rule,
                "scheduled_at": checked.scheduled_at.isoformat() if checked.scheduled_at else None,
                "preflight": summary,
                "auto_remind": checked.auto_remind,
                "remind_after": checked.remind_after,
            },
        )
        if checked.scheduled_at is None:
            from qike.campaigns.tasks import dispatch_campaign_job
            from qike.jobs import enqueue_on_commit

            enqueue_on_commit(dispatch_campaign_job, campaign.pk)
    return campaign


# --- dispatch ----------------------------------------------------------------------------------------


def _checked_of(campaign: Campaign) -> Checked:
    return Checked(
        title=campaign.title,
        text=campaign.text,
        item_ids=list(campaign.item_ids),
        segment=campaign.segment,
        external_userids=list(campaign.external_userids),
        follower_rule=campaign.follower_rule,
        scheduled_at=campaign.scheduled_at,
    )


def _system_access(corp: Corp) -> Access:
    from qike.org.access import SUPER_ADMIN

    return Access(corp=corp, role=SUPER_ADMIN)


def _claim(campaign_id: int) -> Campaign | None:
    """Move a due campaign from scheduled to dispatching, once (jobs may run twice)."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None or campaign.status not in (
            CampaignStatus.SCHEDULED,
            CampaignStatus.DISPATCHING,
        ):
            return None
        if campaign.status == CampaignStatus.SCHEDULED:
            if campaign.scheduled_at and campaign.scheduled_at > clock.now():
                return None
            campaign.status = CampaignStatus.DISPATCHING
            campaign.dispatched_at = clock.now()
            campaign.save(update_fields=["status", "dispatched_at"])
        return campaign


def dispatch(*, campaign_id: int) -> Campaign | None:
    """Plan the campaign now and create its WeCom messages. Idempotent: a second run continues
    with the messages not created yet and never plans twice."""
    campaign = _claim(campaign_id)
    if campaign is None:
        return None
    corp = campaign.corp
    if not Delivery.objects.filter(campaign=campaign).exists():  # the plan is one transaction
        try:
            _write_plan(corp, campaign)
        except (ValidationError, WeComError) as exc:
            _fail(campaign, str(getattr(exc, "message", exc))[:255])
            return campaign
    _send_messages(corp, campaign)
    return _finish_dispatch(corp, campaign)


def _write_plan(corp: Corp, campaign: Campaign) -> None:
    checked = _checked_of(campaign)
    if checked.item_ids:
        campaign.attachments = _library().attachments_for_send(
            corp=corp,
            item_ids=checked.item_ids,
            purpose="message",
            campaign_ref=f"campaign:{campaign.pk}",
        )
    result = plan(
        corp=corp,
        access=_system_access(corp),
        checked=checked,
        at=campaign.dispatched_at,
        campaign_id=campaign.pk,
    )
    with transaction.atomic():
        # Planning took WeCom calls; another run of the job may have planned meanwhile.
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        if Delivery.objects.filter(campaign=campaign).exists():
            campaign.refresh_from_db(fields=["attachments", "plan"])
            return
        messages = _create_messages(corp, campaign, result)
        _insert_deliveries(corp, campaign, result, messages)
        campaign.plan = result.summary()
        campaign.save(update_fields=["attachments", "plan"])
        _snapshot(corp, campaign)


def _create_messages(
    corp: Corp, campaign: Campaign, result: Plan
) -> dict[int, list[CampaignMessage]]:
    rows = []
    for staff_id, customers in result.sends.items():
        for part, start in enumerate(range(0, len(customers), RECIPIENTS_PER_CALL), 1):
            rows.append(
                CampaignMessage(
                    corp=corp,
                    campaign=campaign,
                    staff_id=staff_id,
                    userid=result.userids[staff_id],
                    part=part,
                    recipients=len(customers[start : start + RECIPIENTS_PER_CALL]),
                    status=MessageStatus.NEW,
                )
            )
    CampaignMessage.objects.bulk_create(rows, batch_size=2000)
    made: dict[int, list[CampaignMessage]] = defaultdict(list)
    for message in CampaignMessage.objects.filter(campaign=campaign).order_by("staff_id", "part"):
        made[message.staff_id].append(message)
    return made


def _insert_deliveries(
    corp: Corp, campaign: Campaign, result: Plan, messages: dict[int, list[CampaignMessage]]
) -> None:
    """One row per customer, written with executemany: a million model objects would cost more
    than the rest of the plan."""
    table = Delivery._meta.db_table
    sql = (
        f"INSERT INTO {table} (corp_id, campaign_id, message_id, customer_id, staff_id, "
        "external_userid, status, reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    )

    def rows():
        for staff_id, customers in result.sends.items():
            parts = messages[staff_id]
            for n, (customer_id, ext) in enumerate(customers):
                message = parts[n // RECIPIENTS_PER_CALL]
                yield (corp.pk, campaign.pk, message.pk, customer_id, staff_id, ext, "pending", "")
        for reason, skipped in result.skipped.items():
            for customer_id, ext, staff_id in skipped:
                yield (corp.pk, campaign.pk, None, customer_id, staff_id, ext, "skipped", reason)

    with connection.cursor() as cursor:
        batch: list[tuple] = []
        for row in rows():
            batch.append(row)
            if len(batch) >= 20000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _sending_client(corp: Corp) -> WeComClient:
    """A client for the sending threads: the token is taken once here, so the threads never
    touch the database (the token store is in memory)."""
    with client_for(corp) as db_client:
        token = db_client.get_token()
    store = MemoryTokenStore()
    store.set(token_key(corp.corpid, corp.secret), token, 600)
    return WeComClient(
        corp.corpid,
        corp.secret,
        base_url=corp.api_base_url,
        token_store=store,
        timeout=SEND_TIMEOUT,
    )


def _send_messages(corp: Corp, campaign: Campaign) -> None:
    todo = _claim_new_messages(campaign)
    if not todo:
        return
    recipients: dict[int, list[str]] = defaultdict(list)
    for message_id, ext in (
        Delivery.objects.filter(message__in=todo)
        .order_by("id")
        .values_list("message_id", "external_userid")
    ):
        recipients[message_id].append(ext)
    text, attachments = campaign.text, list(campaign.attachments)

    def send(message: CampaignMessage) -> tuple[CampaignMessage, dict | None, WeComError | None]:
        try:
            answer = client.add_msg_template(
                sender=message.userid,
                external_userids=recipients[message.pk],
                text=text,
                attachments=attachments,
            )
            return message, answer, None
        except WeComError as exc:
            return message, None, exc

    client = _sending_client(corp)
    try:
        with ThreadPoolExecutor(max_workers=SEND_THREADS) as pool:
            for message, answer, error in pool.map(send, todo):
                _record_created(corp, message, answer, error)
    finally:
        client.close()


def _claim_new_messages(campaign: Campaign) -> list[CampaignMessage]:
    """The messages still to create, marked UNKNOWN before any call, under a lock: a second run of
    the job (or a crash and retry) never creates one twice; an attempt without an answer stays
    UNKNOWN and is reconciled by the poll."""
    with transaction.atomic():
        todo = list(
            CampaignMessage.objects.select_for_update().filter(
                campaign=campaign, status=MessageStatus.NEW
            )
        )
        CampaignMessage.objects.filter(pk__in=[m.pk for m in todo]).update(
            status=MessageStatus.UNKNOWN, attempted_at=clock.now()
        )
    return todo


def _record_created(
    corp: Corp, message: CampaignMessage, answer: dict | None, error: WeComError | None
) -> None:
    with transaction.atomic():
        if isinstance(error, WeComTransportError):
            # The request may have reached WeCom and created the message: it stays UNKNOWN and
            # is never sent again; the poll finds it (get_groupmsg_list_v2) or fails it.
            message.errcode = error.errcode
            message.save(update_fields=["errcode"])
            log.warning(
                "campaigns.answer_lost campaign=%s message=%s", message.campaign_id, message.pk
            )
            return
        if answer is None:
            errcode = error.errcode if error else 0
            message.status, message.errcode = MessageStatus.FAILED, errcode
            message.save(update_fields=["status", "errcode"])
            Delivery.objects.filter(message=message).update(
                status=DeliveryStatus.FAILED, reason=f"errcode:{errcode}"
            )
            return
        _adopt(message, answer["msgid"], [str(e) for e in answer.get("fail_list") or []])


def _adopt(message: CampaignMessage, msgid: str, refused: Iterable[str]) -> None:
    """WeCom created the message: follow it; the customers it refused have failed."""
    message.msgid, message.status = msgid, MessageStatus.WAITING
    message.save(update_fields=["msgid", "status"])
    refused = list(refused)
    for start in range(0, len(refused), UPDATE_CHUNK):
        Delivery.objects.filter(
            message=message, external_userid__in=refused[start : start + UPDATE_CHUNK]
        ).update(status=DeliveryStatus.FAILED, reason=REFUSED)


def _finish_dispatch(corp: Corp, campaign: Campaign) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.DISPATCHING:
            return campaign
        states = Counter(
            CampaignMessage.objects.filter(campaign=campaign).values_list("status", flat=True)
        )
        if states[MessageStatus.NEW]:
            return campaign  # a retry of the job creates the rest
        if not states:
            campaign.status = CampaignStatus.FAILED
            campaign.error = _("Nobody in the audience could receive it when it was sent.")
        elif not states[MessageStatus.WAITING] and not states[MessageStatus.UNKNOWN]:
            campaign.status, campaign.error = (
                CampaignStatus.FAILED,
                _("WeCom refused every message."),
            )
        else:
            campaign.status = CampaignStatus.DISPATCHED
        campaign.save(update_fields=["status", "error"])
        _snapshot(corp, campaign)
        record(
            corp=corp,
            action="campaigns.send",
            target=campaign,
            after={
                "plan": campaign.plan,
                "messages": states[MessageStatus.WAITING],
                "refused_messages": states[MessageStatus.FAILED],
                "answer_lost": states[MessageStatus.UNKNOWN],
            },
        )
    return campaign


def _fail(campaign: Campaign, error: str) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.FAILED, error=error)
    record(corp=campaign.corp, action="campaigns.send", target=campaign, after={"error": error})


def due_campaigns() -> QuerySet[Campaign]:
    """Scheduled campaigns whose time has come, and dispatches a crash left half done."""
    now = clock.now()
    return Campaign.objects.filter(
        Q(status=CampaignStatus.SCHEDULED, scheduled_at__lte=now)
        | Q(status=CampaignStatus.DISPATCHING, dispatched_at__lte=now - dt.timedelta(minutes=5))
    )


# --- following the results --------------------------------------------------------------------------


def counts(campaign: Campaign) -> dict[str, int]:
    found = dict(
        Delivery.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {status: found.get(status, 0) for status in DeliveryStatus.values}


def groups(by_status: dict[str, int]) -> dict[str, int]:
    """The four figures the results page leads with (and cancelled)."""
    return {
        "sent": by_status.get(DeliveryStatus.SENT, 0),
        "pending": by_status.get(DeliveryStatus.PENDING, 0),
        "skipped": by_status.get(DeliveryStatus.SKIPPED, 0),
        "failed": sum(by_status.get(s, 0) for s in FAILED_GROUP),
        "cancelled": by_status.get(DeliveryStatus.CANCELLED, 0),
    }


def _snapshot(corp: Corp, campaign: Campaign) -> Snapshot:
    return Snapshot.objects.create(
        corp=corp, campaign=campaign, at=clock.now(), **groups(counts(campaign))
    )


def open_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(
        status=CampaignStatus.DISPATCHED, dispatched_at__gte=clock.now() - POLL_FOR
    ).select_related("corp")


FOLLOWED = (MessageStatus.UNKNOWN, MessageStatus.WAITING)


class PollProgress:
    """How far a poll is, on the campaign row (written outside the poll's transactions, so the
    console shows it while a long poll runs): WeCom messages done of all, customer rows read."""

    def __init__(self, campaign: Campaign, total: int) -> None:
        self.campaign_id, self.total, self.done, self.results = campaign.pk, total, 0, 0
        self._write()

    def read(self, rows: int) -> None:
        self.results += rows
        self._write()

    def step(self) -> None:
        self.done += 1
        self._write()

    def _write(self) -> None:
        value = {
            "done": self.done,
            "total": self.total,
            "results": self.results,
            "at": clock.now().isoformat(),
        }
        Campaign.objects.filter(pk=self.campaign_id).update(progress=value)

    def clear(self) -> None:
        Campaign.objects.filter(pk=self.campaign_id).update(progress={})


def poll(*, corp: Corp, campaign: Campaign) -> dict[str, int]:
    """Ask WeCom how each open message stands and record it: a message whose creation answer was
    lost is looked for first (get_groupmsg_list_v2); then get_groupmsg_task and, for senders who
    sent, get_groupmsg_send_result, every page. Returns the deliveries changed per status.
    A message WeCom still dispatches (41063) is asked again next time."""
    followed = list(
        CampaignMessage.objects.filter(campaign=campaign, status__in=FOLLOWED).order_by("id")
    )
    changed: Counter = Counter()
    progress = PollProgress(campaign, len(followed))
    try:
        with client_for(corp) as client:
            for message in followed:
                try:
                    if message.status == MessageStatus.UNKNOWN:
                        changed.update(_reconcile(client, corp, campaign, message))
                    if message.status == MessageStatus.WAITING:
                        changed.update(_poll_message(client, corp, campaign, message, progress))
                except WeComError as exc:
                    if exc.errcode != STILL_DISPATCHING:
                        raise
                progress.step()
    finally:
        progress.clear()
    with transaction.atomic():
        # Read again under the lock: a user may have cancelled while WeCom was being asked.
        campaign.status = (
            Campaign.objects.select_for_update()
            .values_list("status", flat=True)
            .get(pk=campaign.pk)
        )
        campaign.polled_at, campaign.progress = clock.now(), {}
        update = ["polled_at", "progress"]
        messages = CampaignMessage.objects.filter(campaign=campaign)
        followed = messages.filter(status__in=FOLLOWED).exists()
        if campaign.status == CampaignStatus.DISPATCHED and not followed:
            campaign.status = CampaignStatus.FINISHED
            update.append("status")
            if not messages.filter(status=MessageStatus.SENT).exists():
                # Every answer was lost and WeCom never created any of the messages.
                campaign.status = CampaignStatus.FAILED
                campaign.error = _("WeCom never created the messages: the network failed.")
                update.append("error")
        campaign.save(update_fields=update)
        _snapshot(corp, campaign)
        if changed:
            record(corp=corp, action="campaigns.results", target=campaign, after=dict(changed))
    return dict(changed)


def _poll_message(
    client: WeComClient,
    corp: Corp,
    campaign: Campaign,
    message: CampaignMessage,
    progress: PollProgress,
) -> Counter:
    tasks = [t for page in client.iter_groupmsg_task(message.msgid) for t in page]
    task = next((t for t in tasks if t.get("userid") == message.userid), None)
    # Task status: 0 not sent; the official table says 2 sent (the fact sheet 1): any non-zero.
    if task is None or not int(task.get("status") or 0):
        return Counter()
    results: dict[str, tuple[str, dt.datetime | None]] = {}
    for page in client.iter_groupmsg_send_result(message.msgid, message.userid):
        for item in page:
            status = WECOM_RESULT.get(int(item.get("status") or 0))
            if status and item.get("external_userid"):
                results[item["external_userid"]] = (
                    status,
                    clock.from_timestamp(item.get("send_time")),
                )
        progress.read(len(page))
    with transaction.atomic():
        # Locked: a poll from the job and one from the console must not both record it.
        locked = CampaignMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status != MessageStatus.WAITING:
            return Counter()
        changed = _apply_results(corp, campaign, locked, results)
        locked.status = MessageStatus.SENT
        locked.send_time = clock.from_timestamp(task.get("send_time")) or clock.now()
        locked.save(update_fields=["status", "send_time"])
    message.status = locked.status
    return changed


def _apply_results(
    corp: Corp,
    campaign: Campaign,
    message: CampaignMessage,
    results: dict[str, tuple[str, dt.datetime | None]],
) -> Counter:
    """Record WeCom's per-customer results of one message in bulk (≤ 10,000 customers): one
    UPDATE per status and send time, timeline entries and receipts in chunks."""
    pending = {
        ext: (pk, customer_id, staff_id)
        for ext, pk, customer_id, staff_id in Delivery.objects.filter(
            message=message, status=DeliveryStatus.PENDING
        ).values_list("external_userid", "pk", "customer_id", "staff_id")
    }
    now = clock.now()
    changed: Counter = Counter()
    groups_: dict[tuple[str, dt.datetime | None], list[int]] = defaultdict(list)
    sent: list[tuple[str, int | None, int | None, dt.datetime]] = []
    for ext, (status, at) in results.items():
        row = pending.get(ext)
        if row is None:
            continue
        pk, customer_id, staff_id = row
        changed[status] += 1
        if status == DeliveryStatus.SENT:
            at = at or now
            sent.append((ext, customer_id, staff_id, at))
            groups_[(status, at)].append(pk)
        else:
            groups_[(status, None)].append(pk)
    for (status, at), pks in groups_.items():
        values = {"status": status, **({"send_time": at} if at else {})}
        for start in range(0, len(pks), UPDATE_CHUNK):
            Delivery.objects.filter(pk__in=pks[start : start + UPDATE_CHUNK]).update(**values)
    data = {"campaign_id": campaign.pk, "title": campaign.title, "status": "sent"}
    add_timeline_many(
        corp=corp,
        kind=TimelineKind.MASS_MESSAGE,
        rows=((c, s, at, data) for _ext, c, s, at in sent if c is not None),
        once_per="campaign_id",
    )
    Receipt.objects.bulk_create(
        (
            Receipt(
                corp=corp,
                external_userid=ext,
                received_at=at,
                msgid=message.msgid,
                campaign=campaign,
            )
            for ext, _c, _s, at in sent
        ),
        batch_size=2000,
        ignore_conflicts=True,
    )
    return changed


# --- a lost answer ------------------------------------------------------------------------------------


def _same_content(item: dict, campaign: Campaign) -> bool:
    text = (item.get("text") or {}).get("content") or ""
    return text == campaign.text and len(item.get("attachments") or []) == len(campaign.attachments)


def _wecom_recipients(client: WeComClient, msgid: str, userid: str) -> set[str]:
    return {
        str(item["external_userid"])
        for page in client.iter_groupmsg_send_result(msgid, userid)
        for item in page
        if item.get("external_userid")
    }


def _reconcile(
    client: WeComClient, corp: Corp, campaign: Campaign, message: CampaignMessage
) -> Counter:
    """Settle a message whose add_msg_template answer was lost. WeCom's list of corp messages by
    this sender since just before the call (get_groupmsg_list_v2) is searched for one with the
    same text and attachments, not adopted by another Qike message, whose recipients are among
    this message's customers: its msgid is adopted (customers WeCom left out have failed). When
    WeCom lists none RECONCILE_WINDOW after the call, it was never created: the message fails.
    It is never sent again either way."""
    now = clock.now()
    attempted = message.attempted_at or campaign.dispatched_at or now
    since = attempted - RECONCILE_SLACK
    until = min(now + RECONCILE_SLACK, since + dt.timedelta(days=30))  # WeCom: ≤ one month
    ours = set(Delivery.objects.filter(message=message).values_list("external_userid", flat=True))
    pages = client.iter_groupmsg_list_v2(
        start_time=int(since.timestamp()),
        end_time=int(until.timestamp()),
        creator=message.userid,
        filter_type=0,  # corp-created: what add_msg_template makes
    )
    for page in pages:
        candidates = [m for m in page if m.get("msgid") and _same_content(m, campaign)]
        taken = set(
            CampaignMessage.objects.filter(
                corp=corp, msgid__in=[m["msgid"] for m in candidates]
            ).values_list("msgid", flat=True)
        )
        for item in candidates:
            if item["msgid"] in taken:
                continue
            found = _wecom_recipients(client, item["msgid"], message.userid)
            if found and found <= ours:
                return _settle(corp, campaign, message, item["msgid"], ours - found)
    if now - attempted < RECONCILE_WINDOW:
        return Counter()  # WeCom may not list it yet: asked again at the next poll
    return _settle(corp, campaign, message, "", ours)


def _settle(
    corp: Corp, campaign: Campaign, message: CampaignMessage, msgid: str, failed: set[str]
) -> Counter:
    """Adopt `msgid` (the customers in `failed` were left out by WeCom), or, without a msgid,
    fail the whole message. Returns the deliveries changed."""
    with transaction.atomic():
        locked = CampaignMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status != MessageStatus.UNKNOWN:
            message.status, message.msgid = locked.status, locked.msgid
            return Counter()
        if msgid:
            _adopt(locked, msgid, failed)
        else:
            locked.status = MessageStatus.FAILED
            locked.save(update_fields=["status"])
            Delivery.objects.filter(message=locked, status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.FAILED, reason=LOST
            )
        record(
            corp=corp,
            action="campaigns.reconcile",
            target=campaign,
            after={
                "userid": locked.userid,
                "part": locked.part,
                "msgid": msgid,
                "outcome": "found" if msgid else "not_created",
                "failed": len(failed),
            },
        )
    message.status, message.msgid = locked.status, locked.msgid
    return Counter({DeliveryStatus.FAILED: len(failed)}) if failed else Counter()


def refresh_now(*, access: Access, campaign: Campaign) -> dict[str, int]:
    require_campaigns(access)
    if campaign.status != CampaignStatus.DISPATCHED:
        raise ValidationError(_("Only a campaign waiting for staff can be checked."))
    return poll(corp=access.corp, campaign=campaign)


# --- remind and cancel --------------------------------------------------------------------------------


def _recent_times(message_ids: Iterable[int], now: dt.datetime) -> dict[int, list[dt.datetime]]:
    """Per message: the reminders WeCom counts now (the last 24 hours), manual and automatic."""
    found: dict[int, list[dt.datetime]] = defaultdict(list)
    rows = Reminder.objects.filter(
        message_id__in=list(message_ids), at__gt=now - REMIND_WINDOW
    ).values_list("message_id", "at")
    for message_id, at in rows:
        found[message_id].append(at)
    return found


def _held_until(recent: list[dt.datetime]) -> dt.datetime | None:
    """When a message with these recent reminders may be reminded again (None: now)."""
    if len(recent) < REMIND_MAX:
        return None
    return sorted(recent)[-REMIND_MAX] + REMIND_WINDOW


def next_remind_at(message: CampaignMessage) -> dt.datetime | None:
    """When the message may be reminded again (None: now)."""
    return _held_until(_recent_times([message.pk], clock.now())[message.pk])


@dataclass
class Reminded:
    reminded: list[str] = field(default_factory=list)  # userids
    held: dict[str, dt.datetime] = field(default_factory=dict)  # userid → may remind again at


def _waiting(campaign: Campaign, userid: str = "") -> list[CampaignMessage]:
    messages = CampaignMessage.objects.filter(campaign=campaign, status=MessageStatus.WAITING)
    if userid:
        messages = messages.filter(userid=userid)
    return list(messages)


def send_reminders(
    *, corp: Corp, campaign: Campaign, messages: list[CampaignMessage], step: int | None = None
) -> Reminded:
    """Remind the senders of `messages` (remind_groupmsg_send), used by the console, the API and
    the automatic job (`step`: which automatic step, None for a person's click). A message
    already reminded 3 times in the last 24 hours, by anyone, is held: WeCom would refuse it
    (41094). Each reminder WeCom accepts is recorded at once, so a failure later in the loop
    loses none of them."""
    done = Reminded()
    now = clock.now()
    recent = _recent_times((m.pk for m in messages), now)
    actor = current_actor()
    by = "" if step is not None or actor is None else actor.name[:150]
    with client_for(corp) as client:
        for message in messages:
            later = _held_until(recent[message.pk])
            if later is not None:
                done.held[message.userid] = later
                continue
            try:
                client.remind_groupmsg_send(message.msgid)
            except WeComError as exc:
                if exc.errcode == REMIND_LIMIT:  # reminded outside Qike: wait a day
                    done.held[message.userid] = now + REMIND_WINDOW
                    continue
                if exc.errcode in (STILL_DISPATCHING, TASK_CANCELLED):
                    done.held[message.userid] = now
                    continue
                raise
            Reminder.objects.create(
                corp=corp,
                campaign=campaign,
                message=message,
                at=now,
                auto=step is not None,
                step=step,
                by=by,
            )
            done.reminded.append(message.userid)
    after: dict = {"reminded": done.reminded, "held": sorted(done.held), "auto": step is not None}
    if step is not None:
        after["step"] = step
    record(corp=corp, action="campaigns.remind", target=campaign, after=after)
    return done


def remind(*, access: Access, campaign: Campaign, userid: str = "") -> Reminded:
    """Remind the staff members (all, or one) who have not sent yet, now (a person's click)."""
    require_campaigns(access)
    if campaign.status != CampaignStatus.DISPATCHED:
        raise ValidationError(_("Only a campaign waiting for staff can be reminded."))
    poll(corp=access.corp, campaign=campaign)  # who has sent meanwhile is not reminded
    messages = _waiting(campaign, userid)
    if not messages:
        raise ValidationError(_("Nobody is waiting to send this campaign."))
    return send_reminders(corp=access.corp, campaign=campaign, messages=messages)


# --- automatic reminders -----------------------------------------------------------------------------


def _step_at(campaign: Campaign, index: int) -> dt.datetime:
    return campaign.dispatched_at + dt.timedelta(hours=int(campaign.remind_after[index]))


def next_auto_remind_at(campaign: Campaign) -> dt.datetime | None:
    """When the next automatic reminder is due (None: none will come). A time already past
    means the job takes it at its next run."""
    if (
        not campaign.auto_remind
        or campaign.status != CampaignStatus.DISPATCHED
        or campaign.dispatched_at is None
        or campaign.auto_reminds_done >= len(campaign.remind_after or [])
    ):
        return None
    return _step_at(campaign, campaign.auto_reminds_done)


def _due_step(campaign: Campaign, now: dt.datetime) -> int | None:
    """The index of the latest step whose time has come and that was not taken. Steps missed
    while the job did not run collapse into one reminder: staff are not reminded twice at once."""
    if campaign.dispatched_at is None:
        return None
    steps = range(campaign.auto_reminds_done, len(campaign.remind_after or []))
    due = [i for i in steps if _step_at(campaign, i) <= now]
    return due[-1] if due else None


def auto_remind_candidates() -> QuerySet[Campaign]:
    """Campaigns followed now whose automatic reminders are on (the steps are checked one by one:
    the schedule is per campaign)."""
    return open_campaigns().filter(auto_remind=True)


def auto_remind(*, campaign_id: int) -> Reminded | None:
    """Take the campaign's due automatic step, if any: claim it (a second run of the job finds
    it taken), ask WeCom who has sent, and remind those still waiting. Never for a campaign
    cancelled, finished or failed; None when no step was due."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if (
            campaign is None
            or not campaign.auto_remind
            or campaign.status != CampaignStatus.DISPATCHED
        ):
            return None
        index = _due_step(campaign, clock.now())
        if index is None:
            return None
        campaign.auto_reminds_done = index + 1
        campaign.save(update_fields=["auto_reminds_done"])
    try:
        poll(corp=campaign.corp, campaign=campaign)  # who has sent meanwhile is not reminded
    except WeComError:
        # Nobody was reminded: give the step back, so the job's next run tries it again.
        Campaign.objects.filter(pk=campaign.pk, auto_reminds_done=index + 1).update(
            auto_reminds_done=index
        )
        raise
    if campaign.status != CampaignStatus.DISPATCHED:
        return Reminded()
    messages = _waiting(campaign)
    if not messages:
        return Reminded()
    return send_reminders(corp=campaign.corp, campaign=campaign, messages=messages, step=index + 1)


def reminder_rows(campaign: Campaign) -> list[dict]:
    """Every reminder of the campaign, oldest first: to whom, when, automatic or by whom."""
    rows = Reminder.objects.filter(campaign=campaign).select_related("message__staff")
    return [
        {
            "userid": r.message.userid,
            "name": r.message.staff.name,
            "at": r.at,
            "auto": r.auto,
            "step": r.step,
            "by": r.by,
        }
        for r in rows
    ]


def cancel(*, access: Access, campaign: Campaign) -> Campaign:
    """Stop what has not been sent: a scheduled campaign never goes; a sent one's unsent
    deliveries are cancelled in WeCom (cancel_groupmsg_send); what staff already sent stays."""
    require_campaigns(access)
    campaign.refresh_from_db(fields=["status"])
    before = campaign.status
    if before == CampaignStatus.SCHEDULED and not Campaign.objects.filter(
        pk=campaign.pk, status=CampaignStatus.SCHEDULED
    ).update(status=CampaignStatus.CANCELLED):
        # The dispatch job took it a moment ago: it is being sent, not scheduled any more.
        campaign.refresh_from_db(fields=["status"])
        before = campaign.status
    if before not in (CampaignStatus.SCHEDULED, CampaignStatus.DISPATCHED):
        if before == CampaignStatus.DISPATCHING:
            raise ValidationError(_("This campaign is being sent to WeCom; try again in a minute."))
        raise ValidationError(_("This campaign can no longer be cancelled."))
    if CampaignMessage.objects.filter(campaign=campaign, status=MessageStatus.UNKNOWN).exists():
        poll(corp=access.corp, campaign=campaign)  # a lost answer found now is cancelled in WeCom
    waiting = list(CampaignMessage.objects.filter(campaign=campaign, status=MessageStatus.WAITING))
    if waiting:
        with client_for(access.corp) as client:
            for message in waiting:
                try:
                    client.cancel_groupmsg_send(message.msgid)
                except WeComError as exc:
                    if exc.errcode != TASK_CANCELLED:
                        raise
    # What was sent meanwhile is recorded before the rest is cancelled.
    if waiting:
        poll(corp=access.corp, campaign=campaign)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        left = CampaignMessage.objects.filter(
            campaign=campaign,
            status__in=(MessageStatus.WAITING, MessageStatus.NEW, MessageStatus.UNKNOWN),
        )
        stopped = Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.CANCELLED
        )
        left.update(status=MessageStatus.CANCELLED)
        campaign.status, campaign.cancelled_at = CampaignStatus.CANCELLED, clock.now()
        campaign.save(update_fields=["status", "cancelled_at"])
        _snapshot(access.corp, campaign)
        record(
            corp=access.corp,
            action="campaigns.cancel",
            target=campaign,
            before={"status": before},
            after={"status": campaign.status, "cancelled_deliveries": stopped},
        )
    return campaign


# --- reading for the pages and the API -----------------------------------------------------------------


def staff_rows(campaign: Campaign) -> list[dict]:
    """Per sending staff member: their messages' state, customers per status, reminders."""
    per_staff: dict[int, dict] = {}
    messages = list(CampaignMessage.objects.filter(campaign=campaign).select_related("staff"))
    recent = _recent_times((m.pk for m in messages), clock.now())
    for message in messages:
        row = per_staff.setdefault(
            message.staff_id,
            {
                "userid": message.userid,
                "name": message.staff.name,
                "status": message.status,
                "send_time": message.send_time,
                "reminders": 0,
                "next_remind_at": None,
                "counts": Counter(),
            },
        )
        if message.status in FOLLOWED and row["status"] != MessageStatus.WAITING:
            row["status"] = message.status
        row["reminders"] = max(row["reminders"], len(recent[message.pk]))
        row["next_remind_at"] = row["next_remind_at"] or _held_until(recent[message.pk])
    found = (
        Delivery.objects.filter(campaign=campaign, message__isnull=False)
        .values_list("staff_id", "status")
        .annotate(n=Count("id"))
    )
    for staff_id, status, n in found:
        if staff_id in per_staff:
            per_staff[staff_id]["counts"][status] = n
    for row in per_staff.values():
        row["counts"] = dict(row["counts"])
    return sorted(per_staff.values(), key=lambda r: r["userid"])


def deliveries(campaign: Campaign, status: str = "") -> QuerySet[Delivery]:
    rows = Delivery.objects.filter(campaign=campaign).select_related("customer", "staff")
    if status:
        rows = rows.filter(status=status)
    return rows


def status_counts(campaigns: Iterable[Campaign]) -> dict[int, dict[str, int]]:
    found = counts_per(
        Delivery.objects.all(), owner="campaign_id", value="status", owners=campaigns
    )
    return {pk: groups(by_status) for pk, by_status in found.items()}
