"""Retention: customers lost (a customer deleting a member, a member deleting a customer), the
alerts they raise, and the shared pool (公海) of customers nobody works, with its claims.

"Worked" (for the pool): the newest of a customer's timeline entries that name a staff member
(an add, an edit or tags in WeCom, a follow-up, a stage move, a claim…) and of their relations'
`last_event_at`. The idle rule only counts from the moment the corp's pool rule was switched on
(`RetentionSettings.pool_since`), so switching it on does not empty every member's book at once.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.models import CorpOwned

DEFAULT_REASONS = ["价格原因", "服务不满意", "选择了竞品", "暂无需求", "误加或骚扰", "其他"]
DEFAULT_DELETE_LIMIT = 10
DEFAULT_IDLE_DAYS = 30
DEFAULT_CLAIM_LIMIT = 20
MAX_REASONS = 30
REASON_MAX = 32
NOTE_MAX = 500


class RetentionSettings(CorpOwned):
    """One per corp, made with the defaults the first time anything asks for it."""

    alert_staff = models.BooleanField(_("alert the staff member"), default=True)
    alert_manager = models.BooleanField(_("alert their manager"), default=True)
    delete_limit = models.PositiveIntegerField(
        _("customers a member may delete in a day before the manager is alerted"),
        default=DEFAULT_DELETE_LIMIT,
    )
    reasons = models.JSONField(_("reasons for losing a customer"), default=list)
    pool_idle_days = models.PositiveIntegerField(
        _("return customers not worked for this many days (0: never)"), default=DEFAULT_IDLE_DAYS
    )
    claim_limit = models.PositiveIntegerField(
        _("claims per member per day"), default=DEFAULT_CLAIM_LIMIT
    )
    pool_since = models.DateTimeField()  # idle days count from here at the earliest
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["corp"], name="retention_settings_unique")]

    def __str__(self) -> str:
        return f"retention settings of {self.corp_id}"


class LostKind(models.TextChoices):
    DELETED_BY_CUSTOMER = "deleted_by_customer", _("the customer deleted the staff member")
    DELETED_BY_STAFF = "deleted_by_staff", _("deleted by the staff member")


class AlertState(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    NONE = "none", _("not alerted")  # alerts switched off, or a deletion by the member


class Alerted(models.Model):
    """Who an alert reached (userids WeCom accepted), or why it did not."""

    alert = models.CharField(max_length=8, choices=AlertState.choices, default=AlertState.PENDING)
    alerted = models.JSONField(default=list, blank=True)
    alert_error = models.CharField(max_length=255, blank=True)

    class Meta:
        abstract = True


class LostCustomer(CorpOwned, Alerted):
    """One relation lost at one moment (WeCom's event time): a repeated delivery of the same event
    finds the same row. A re-add marks it won back."""

    relation = models.ForeignKey(
        "customers.FollowRelation", on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey("org.Staff", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("how"), max_length=24, choices=LostKind.choices)
    lost_at = models.DateTimeField(_("lost at"))
    state = models.CharField(_("channel state"), max_length=64, blank=True)
    add_way = models.IntegerField(_("add way"), default=0)
    stage = models.CharField(_("stage"), max_length=32, blank=True)  # when lifecycle knows one
    reason = models.CharField(_("reason"), max_length=REASON_MAX, blank=True)
    reason_note = models.CharField(_("note"), max_length=NOTE_MAX, blank=True)
    reason_at = models.DateTimeField(null=True, blank=True)
    reason_by = models.CharField(max_length=150, blank=True)
    won_back_at = models.DateTimeField(_("won back at"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["relation", "lost_at"], name="retention_lost_unique"),
        ]
        indexes = [
            models.Index(fields=["corp", "-lost_at", "-id"], name="retention_lost_newest_idx"),
            models.Index(
                fields=["corp", "staff", "kind", "lost_at"], name="retention_lost_staff_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} lost by {self.staff_id} @ {self.lost_at:%Y-%m-%d %H:%M}"


class DeletionAlert(CorpOwned, Alerted):
    """A member deleted more customers in one (local) day than the corp allows: the manager is
    told once that day."""

    staff = models.ForeignKey("org.Staff", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["staff", "day"], name="retention_delalert_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} deleted {self.count} on {self.day}"


class PoolStatus(models.TextChoices):
    IN_POOL = "in_pool", _("in the pool")
    CLAIMED = "claimed", _("claimed")


class PoolReason(models.TextChoices):
    NO_FOLLOWER = "no_follower", _("no active follower")
    IDLE = "idle", _("not worked")
    GIVEN_BACK = "given_back", _("given back")


class PoolEntry(CorpOwned):
    """A customer's place in the shared pool: in it, or claimed out of it by `owner` (the
    customer's owner in Qike until they are returned again). One row per customer."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="pool_entry"
    )
    status = models.CharField(max_length=8, choices=PoolStatus.choices)
    reason = models.CharField(_("why"), max_length=16, choices=PoolReason.choices)
    from_staff = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pooled_at = models.DateTimeField(_("in the pool since"))
    owner = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["corp", "status", "-pooled_at"], name="retention_pool_idx"),
            models.Index(fields=["corp", "owner", "status"], name="retention_pool_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.status}"


class Claim(CorpOwned):
    """One claim from the pool; the daily limit counts these per member and local day."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey("org.Staff", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    day = models.DateField()
    # The on-job transfer the claim started (transfers app), or why none was started.
    transfer_id = models.IntegerField(null=True, blank=True)
    transfer_note = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["corp", "staff", "day"], name="retention_claim_day_idx")]

    def __str__(self) -> str:
        return f"{self.staff_id} claimed {self.customer_id} on {self.day}"
