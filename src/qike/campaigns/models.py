"""Mass messages to customers (企业群发).

A Campaign is what operations composed (text, library items, an audience, a time). When it is
sent, Qike plans it: each customer once, through one following staff member, within the corp's
per-customer limit; one WeCom message (add_msg_template) per staff member and ≤ 10,000 customers
(CampaignMessage); one Delivery per customer, sent or skipped with the reason. Polling WeCom fills
in each staff member's confirmation and each customer's result; each poll leaves a Snapshot of
the counts, so the results page shows how they moved."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.models import CorpOwned

TITLE_MAX = 64
TEXT_MAX_BYTES = 4000  # WeCom: text.content ≤ 4000 bytes
MAX_ATTACHMENTS = 9
RECIPIENTS_PER_CALL = 10_000  # WeCom: external_userid ≤ 10,000 per add_msg_template
# Automatic reminders to staff who have not sent, in hours after dispatch. Three steps at most:
# WeCom takes 3 reminders per message in 24 hours, and 2 h / 6 h / 20 h spread them over a
# working day while leaving the last within the day a customer is still worth reaching.
DEFAULT_REMIND_AFTER = [2, 6, 20]
REMIND_STEPS_MAX = 3
REMIND_AFTER_MAX_HOURS = 7 * 24  # a campaign is followed for 7 days after it was sent


def default_remind_after() -> list[int]:
    return list(DEFAULT_REMIND_AFTER)


class LimitRule(models.TextChoices):
    """WeCom's per-customer receiving limit (API-FACTS §6, §8)."""

    DAILY = "daily", _("one mass message per customer per day (current WeCom rule)")
    MONTHLY = "monthly", _("four mass messages per customer per month (older WeCom rule)")


LIMIT_PER_WINDOW = {LimitRule.DAILY: 1, LimitRule.MONTHLY: 4}


class FollowerRule(models.TextChoices):
    """Which staff member sends to a customer several staff members follow."""

    FIRST = "first", _("first follower (added earliest)")
    LATEST = "latest", _("most recent follower")
    OWNER = "owner", _("the segment's owner when they follow the customer, else the first follower")


class CampaignStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    DISPATCHING = "dispatching", _("sending to WeCom")
    DISPATCHED = "dispatched", _("waiting for staff")
    FINISHED = "finished", _("finished")
    CANCELLED = "cancelled", _("cancelled")
    FAILED = "failed", _("failed")


LIVE = (CampaignStatus.DISPATCHING, CampaignStatus.DISPATCHED)


class CampaignPolicy(CorpOwned):
    """The corp's mass-message policy: which per-customer limit Qike plans for."""

    limit_rule = models.CharField(
        _("per-customer limit"), max_length=16, choices=LimitRule.choices, default=LimitRule.DAILY
    )
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["corp"], name="campaigns_policy_corp")]

    def __str__(self) -> str:
        return self.limit_rule


class Campaign(CorpOwned):
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    text = models.TextField(_("text"), blank=True)
    item_ids = models.JSONField(_("library items"), default=list, blank=True)
    attachments = models.JSONField(default=list, blank=True)  # as sent to WeCom
    segment = models.ForeignKey(
        "segments.Segment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("segment"),
    )
    segment_name = models.CharField(_("segment"), max_length=64, blank=True)
    external_userids = models.JSONField(_("customers"), default=list, blank=True)
    follower_rule = models.CharField(
        _("sender rule"), max_length=16, choices=FollowerRule.choices, default=FollowerRule.FIRST
    )
    limit_rule = models.CharField(
        _("per-customer limit"), max_length=16, choices=LimitRule.choices, default=LimitRule.DAILY
    )
    status = models.CharField(_("status"), max_length=16, choices=CampaignStatus.choices)
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    preflight = models.JSONField(default=dict, blank=True)  # counts when composed
    plan = models.JSONField(default=dict, blank=True)  # counts when sent
    error = models.CharField(max_length=255, blank=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created at"))
    dispatched_at = models.DateTimeField(_("sent to WeCom"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    polled_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    # While a poll runs: {"done", "total" (WeCom messages), "results" (customer rows read), "at"}.
    progress = models.JSONField(default=dict, blank=True)
    auto_remind = models.BooleanField(_("remind staff who have not sent it"), default=True)
    remind_after = models.JSONField(
        _("remind after (hours)"), default=default_remind_after, blank=True
    )
    # Automatic steps the job has taken (claimed before the reminders go out, so a second run of
    # the job never reminds twice for the same step).
    auto_reminds_done = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["corp", "-created_at"], name="campaigns_newest_idx"),
            models.Index(fields=["status", "scheduled_at"], name="campaigns_due_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class MessageStatus(models.TextChoices):
    NEW = "new", _("not created yet")
    # The network failed on add_msg_template: WeCom may or may not have created it. Never sent
    # again; the poll looks for it in get_groupmsg_list_v2 and adopts its msgid, or fails it.
    UNKNOWN = "unknown", _("answer lost, checking with WeCom")
    WAITING = "waiting", _("waiting for the staff member")
    SENT = "sent", _("sent by the staff member")
    FAILED = "failed", _("refused by WeCom")
    CANCELLED = "cancelled", _("cancelled")


class CampaignMessage(CorpOwned):
    """One add_msg_template: one sender, ≤ 10,000 customers."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    staff = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    userid = models.CharField(max_length=64)
    part = models.PositiveIntegerField(default=1)
    recipients = models.PositiveIntegerField(default=0)
    msgid = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices)
    errcode = models.IntegerField(default=0)
    attempted_at = models.DateTimeField(null=True, blank=True)  # add_msg_template was called
    send_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["campaign", "status"], name="campaigns_msg_status_idx")]

    def __str__(self) -> str:
        return f"{self.userid} #{self.part}"


class Reminder(CorpOwned):
    """One remind_groupmsg_send WeCom accepted: what the 3-in-24-hours cap counts, and what the
    results page lists (automatic, or by whom)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="reminders")
    message = models.ForeignKey(CampaignMessage, on_delete=models.CASCADE, related_name="reminders")
    at = models.DateTimeField()
    auto = models.BooleanField(default=False)
    step = models.PositiveSmallIntegerField(null=True, blank=True)  # automatic: 1, 2, 3
    by = models.CharField(max_length=150, blank=True)  # who clicked (manual reminders)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["message", "at"], name="campaigns_reminder_msg_idx")]

    def __str__(self) -> str:
        return f"{self.message_id} @ {self.at}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    SKIPPED = "skipped", _("skipped")
    NOT_FRIEND = "not_friend", _("not a friend any more")
    AT_LIMIT = "at_limit", _("over the receiving limit")
    FAILED = "failed", _("refused by WeCom")
    CANCELLED = "cancelled", _("cancelled")


# send_result status → ours (0 stays pending).
WECOM_RESULT = {1: DeliveryStatus.SENT, 2: DeliveryStatus.NOT_FRIEND, 3: DeliveryStatus.AT_LIMIT}
FAILED_GROUP = (DeliveryStatus.NOT_FRIEND, DeliveryStatus.AT_LIMIT, DeliveryStatus.FAILED)


class Delivery(CorpOwned):
    """One customer of a campaign: whom it went through, and what became of it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="deliveries")
    message = models.ForeignKey(
        CampaignMessage, null=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    staff = models.ForeignKey("org.Staff", null=True, on_delete=models.SET_NULL, related_name="+")
    external_userid = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices)
    reason = models.CharField(max_length=32, blank=True)  # why skipped / failed
    send_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["campaign", "status"], name="campaigns_delivery_status_idx"),
            models.Index(fields=["message", "external_userid"], name="campaigns_delivery_msg_idx"),
            models.Index(fields=["corp", "status"], name="campaigns_delivery_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.external_userid}: {self.status}"


class Receipt(CorpOwned):
    """A mass message a customer received (through Qike or not): what the limit counts."""

    external_userid = models.CharField(max_length=64)
    received_at = models.DateTimeField()
    msgid = models.CharField(max_length=128)
    campaign = models.ForeignKey(Campaign, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["corp", "msgid", "external_userid"], name="campaigns_receipt_unique"
            )
        ]
        indexes = [models.Index(fields=["corp", "received_at"], name="campaigns_receipt_time_idx")]

    def __str__(self) -> str:
        return f"{self.external_userid} @ {self.received_at}"


class Snapshot(CorpOwned):
    """The counts after one poll (or the dispatch): the results page's history."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="snapshots")
    at = models.DateTimeField()
    sent = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.campaign_id} @ {self.at}"
