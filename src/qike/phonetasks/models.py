"""Phone-number add tasks (手机号添加): an imported list of phones that staff search and add in
WeCom, a capped number per member per day, each member's day sent to them as an app message."""

from __future__ import annotations

import json

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qike.core.fields import EncryptedTextField
from qike.core.models import CorpOwned

# The seeds' guidance: a member should not start more than 60 adds a day, or WeCom may restrict
# the account (WeCom limits how often a member adds by phone search).
DEFAULT_DAILY_CAP = 60
MAX_DAILY_CAP = 300


class AssignMode(models.TextChoices):
    EVEN = "even", _("Evenly across the chosen staff")
    BY_COLUMN = "by_column", _("By the staff column of the file")


class Batch(CorpOwned):
    """One confirmed import. It has tags for the customers it brings but no welcome message of its
    own: a phone-search add carries no State, and engagement chooses welcome messages by State, so
    the member's or the corp's default welcome applies."""

    name = models.CharField(_("name"), max_length=64)
    filename = models.CharField(_("file"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        "auth.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    assign_mode = models.CharField(
        _("assignment"), max_length=16, choices=AssignMode.choices, default=AssignMode.EVEN
    )
    daily_cap = models.PositiveIntegerField(
        _("daily cap per staff member"), default=DEFAULT_DAILY_CAP
    )
    tags = models.ManyToManyField("tags.Tag", blank=True, related_name="+", verbose_name=_("tags"))
    created_at = models.DateTimeField(_("created at"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["corp", "-created_at"], name="phonetasks_batch_newest")]

    def __str__(self) -> str:
        return self.name


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("waiting for its daily list")
    SENT = "sent", _("sent in a daily list")
    ADDED = "added", pgettext_lazy("phone task", "added")
    ALREADY_CUSTOMER = "already_customer", _("already a customer")
    CANCELLED = "cancelled", _("cancelled")


OPEN_STATUSES = (TaskStatus.PENDING, TaskStatus.SENT)
# Statuses that used a member's add for the day they were scheduled on.
SCHEDULED_STATUSES = (TaskStatus.PENDING, TaskStatus.SENT, TaskStatus.ADDED)


class MatchedBy(models.TextChoices):
    REMARK_MOBILE = "remark_mobile", _("remark mobile")
    NAME = "name", _("name (added by phone search)")


class Task(CorpOwned):
    """One phone for one member to add."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="tasks")
    row_number = models.PositiveIntegerField(_("row"))
    name = models.CharField(_("name"), max_length=64, blank=True)
    phone = EncryptedTextField(_("mobile phone"))  # personal data: encrypted at rest
    phone_hash = models.CharField(max_length=64)  # customers.mobiles.mobile_hash, for lookups
    extra_json = EncryptedTextField(blank=True)  # the file's other columns, {header: value}
    staff = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("staff")
    )
    scheduled_on = models.DateField(_("scheduled day"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.PENDING
    )
    sent_on = models.DateField(_("last sent in the list of"), null=True, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(_("added at"), null=True, blank=True)
    matched_by = models.CharField(max_length=16, choices=MatchedBy.choices, blank=True)
    relation = models.ForeignKey(
        "customers.FollowRelation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["scheduled_on", "batch_id", "row_number"]
        indexes = [
            models.Index(fields=["corp", "phone_hash", "status"], name="phonetasks_task_phone"),
            models.Index(
                fields=["corp", "staff", "status", "scheduled_on"], name="phonetasks_task_staff"
            ),
            models.Index(fields=["batch", "status"], name="phonetasks_task_batch"),
            models.Index(fields=["corp", "-created_at", "-id"], name="phonetasks_task_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.row_number}"

    @property
    def extra(self) -> dict[str, str]:
        return json.loads(self.extra_json) if self.extra_json else {}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ListStatus(models.TextChoices):
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class DailyList(CorpOwned):
    """A member's list for one day, sent as WeCom app messages at most once."""

    staff = models.ForeignKey("org.Staff", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    status = models.CharField(max_length=10, choices=ListStatus.choices)
    task_count = models.PositiveIntegerField(default=0)
    parts = models.PositiveSmallIntegerField(default=0)  # app messages sent
    msgids = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["staff", "day"], name="phonetasks_list_unique"),
        ]
        indexes = [models.Index(fields=["corp", "day"], name="phonetasks_list_day")]

    def __str__(self) -> str:
        return f"{self.staff_id} @ {self.day}"


class ImportPreview(CorpOwned):
    """An uploaded file, checked and kept server-side until the user confirms or discards it."""

    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255, blank=True)
    options = models.JSONField(default=dict)  # name, assign_mode, daily_cap, staff, tags…
    columns = models.JSONField(default=dict)  # the detected headers
    rows_json = EncryptedTextField(blank=True)  # the valid rows, phones included
    problems_json = EncryptedTextField(blank=True)  # [{row, reason}]
    valid_count = models.PositiveIntegerField(default=0)
    problem_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.filename or str(self.pk)

    @property
    def rows(self) -> list[dict]:
        return json.loads(self.rows_json) if self.rows_json else []

    @property
    def problems(self) -> list[dict]:
        return json.loads(self.problems_json) if self.problems_json else []
