from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qike.core import clock
from qike.core.fields import EncryptedJSONListField
from qike.core.models import CorpOwned


class CustomerType(models.IntegerChoices):
    WECHAT = 1, _("WeChat user")
    WECOM = 2, _("WeCom user")


class Customer(CorpOwned):
    """An external contact (外部联系人): one person, whoever in the corp follows them."""

    external_userid = models.CharField(_("external UserID"), max_length=64)
    name = models.CharField(_("name"), max_length=128, blank=True)
    avatar = models.URLField(_("avatar"), max_length=512, blank=True)
    type = models.PositiveSmallIntegerField(
        _("type"), choices=CustomerType.choices, default=CustomerType.WECHAT
    )
    gender = models.PositiveSmallIntegerField(_("gender"), default=0)
    unionid = models.CharField(_("unionid"), max_length=64, blank=True)
    position = models.CharField(_("position"), max_length=128, blank=True)
    corp_name = models.CharField(_("company short name"), max_length=128, blank=True)
    corp_full_name = models.CharField(_("company full name"), max_length=256, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["corp", "external_userid"], name="customers_customer_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["corp", "unionid"], name="customers_unionid_idx"),
            models.Index(fields=["corp", "name"], name="customers_name_idx"),
            # The API lists customers newest first with keyset pages.
            models.Index(fields=["corp", "-created_at", "-id"], name="customers_newest_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.external_userid


class RelationStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("follow relation status", "active")
    DELETED_BY_CUSTOMER = "deleted_by_customer", _("deleted by customer")
    DELETED_BY_STAFF = "deleted_by_staff", _("deleted by staff")


class FollowRelation(CorpOwned):
    """A staff member following a customer (跟进关系), with that member's remark and tags."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="relations")
    staff = models.ForeignKey("org.Staff", on_delete=models.CASCADE, related_name="relations")
    remark = models.CharField(_("remark"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=512, blank=True)
    remark_corp_name = models.CharField(_("remark company"), max_length=128, blank=True)
    remark_mobiles = EncryptedJSONListField(_("remark mobiles"), blank=True)
    oper_userid = models.CharField(_("added by"), max_length=64, blank=True)
    add_way = models.IntegerField(_("add way"), default=0)
    state = models.CharField(_("channel state"), max_length=64, blank=True)
    added_at = models.DateTimeField(_("added at"), default=clock.now)
    status = models.CharField(
        _("status"), max_length=24, choices=RelationStatus.choices, default=RelationStatus.ACTIVE
    )
    # Half-friend (add_half_external_contact): the customer added the member, who has not confirmed.
    is_half = models.BooleanField(_("awaiting confirmation"), default=False)
    status_changed_at = models.DateTimeField(null=True)
    # WeCom time of the newest event applied to the status, so late or replayed events can't undo it.
    last_event_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "staff"], name="customers_relation_unique"),
        ]
        indexes = [
            models.Index(fields=["corp", "staff", "status"], name="customers_rel_staff_idx"),
            models.Index(fields=["corp", "status", "added_at"], name="customers_rel_added_idx"),
            models.Index(fields=["corp", "state"], name="customers_rel_state_idx"),
            models.Index(fields=["corp", "-added_at", "-id"], name="customers_rel_newest_idx"),
            # Segments (qike.segments): followers in a department subtree added in a date range,
            # answered from the index alone (PostgreSQL INCLUDE; plain index elsewhere).
            models.Index(
                fields=["corp", "staff", "status", "added_at"],
                include=["customer", "is_half", "id"],
                name="customers_rel_segment_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} → {self.customer_id}"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "remark_mobiles" in update_fields:
            from qike.customers.mobiles import index_relations

            index_relations([self])


class RelationMobile(CorpOwned):
    """One remark mobile of a relation, as a keyed hash (customers.mobiles): lets phone tasks find
    "the member's customer with this phone" by index. Bulk writes (apply_contacts) and
    FollowRelation.save keep it equal to remark_mobiles."""

    relation = models.ForeignKey(
        FollowRelation, on_delete=models.CASCADE, related_name="mobile_hashes"
    )
    mobile_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["relation", "mobile_hash"], name="customers_relmobile_unique"
            ),
        ]
        indexes = [models.Index(fields=["corp", "mobile_hash"], name="customers_relmobile_idx")]

    def __str__(self) -> str:
        return f"{self.relation_id}: {self.mobile_hash[:8]}…"


class TimelineKind(models.TextChoices):
    ADDED = "added", _("added")
    HALF_ADDED = "half_added", _("added, awaiting confirmation")
    DELETED_BY_CUSTOMER = "deleted_by_customer", _("deleted the staff member")
    DELETED_BY_STAFF = "deleted_by_staff", _("deleted by the staff member")
    EDITED = "edited", _("edited in WeCom")
    TAGS_CHANGED = "tags_changed", _("tags changed")
    FOUND_BY_SYNC = "found_by_sync", _("found by sync")
    WELCOME = "welcome", _("welcome message")  # data: status (sent/failed/expired/no_code), text
    CHANNEL = "channel", _("came through a channel")  # data: kind, label (live code, link, lead…)
    REFERRAL = "referral", _("referred a friend")  # data: label (who was referred, which campaign)
    STAGE_CHANGED = "stage_changed", _("stage changed")  # data: from, to (stage names)
    FOLLOW_UP = "follow_up", _("follow-up")  # data: kind, text, next_on
    TRANSFER = "transfer", _("handed over")  # data: transfer {event, id, kind, from, to}
    POOL = "pool", _("shared pool")  # data: event (returned/claimed/given back), label
    LINK_OPENED = "link_opened", _("opened a link")  # data: item_id, title, url
    MASS_MESSAGE = "mass_message", _("mass message")  # data: campaign_id, title, status
    MOMENT = "moment", _("moments")  # data: moment_id, event (comment/like), text


class TimelineEntry(CorpOwned):
    """Something that happened to a customer, for the customer's timeline."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="timeline")
    staff = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("what"), max_length=32, choices=TimelineKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    actor = models.CharField(_("by"), max_length=128, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="customers_timeline_idx"),
            models.Index(fields=["corp", "kind", "occurred_at"], name="customers_tl_kind_idx"),
        ]
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.occurred_at:%Y-%m-%d %H:%M}"
