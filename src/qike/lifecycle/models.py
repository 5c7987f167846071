"""The customer lifecycle: a pipeline of stages per corp, the stage of each follow relation (a
customer as one staff member follows them) with its history, and follow-ups (notes, calls,
visits) with an optional next date that reminds the member."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.models import CorpOwned

NAME_MAX = 32
MAX_STALE_DAYS = 365
MAX_STAGES = 20


class Pipeline(CorpOwned):
    """One per corp, made with the default stages the first time anything asks for it. Relations
    added before it existed are not reminded about until someone moves them."""

    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["corp"], name="lifecycle_pipeline_unique")]

    def __str__(self) -> str:
        return f"pipeline of {self.corp_id}"


class Stage(CorpOwned):
    """A column of the board. `stale_days`: a stay longer than this many days reminds the member
    (None: never). An exit stage (无意向客户) sits outside the funnel's order. A stage in use is
    retired, never deleted, so its history stays readable."""

    name = models.CharField(_("name"), max_length=NAME_MAX)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_exit = models.BooleanField(_("exit stage"), default=False)
    stale_days = models.PositiveIntegerField(_("remind after days"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["corp", "name"],
                condition=models.Q(retired_at__isnull=True),
                name="lifecycle_stage_name_unique",
            ),
        ]
        ordering = ["is_exit", "order", "pk"]

    def __str__(self) -> str:
        return self.name


class RelationStage(CorpOwned):
    """Where one relation stands now, since when, and whether this stay was reminded about."""

    relation = models.OneToOneField(
        "customers.FollowRelation", on_delete=models.CASCADE, related_name="lifecycle_stage"
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    remind_attempts = models.PositiveSmallIntegerField(default=0)
    remind_error = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["corp", "stage", "entered_at"], name="lifecycle_rs_stage_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.relation_id} in {self.stage_id}"


class StageChange(CorpOwned):
    """One move (who, when, from, to). `stay_seconds`: how long the relation had been in
    `from_stage`, for the average time in stage."""

    relation = models.ForeignKey(
        "customers.FollowRelation", on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    stay_seconds = models.BigIntegerField(null=True, blank=True)
    user_id = models.IntegerField(null=True, blank=True)
    actor = models.CharField(max_length=150, blank=True)

    class Meta:
        indexes = [models.Index(fields=["relation", "-at"], name="lifecycle_change_rel_idx")]
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.relation_id}: {self.from_stage_id} → {self.to_stage_id}"


class FollowUpKind(models.TextChoices):
    NOTE = "note", _("note")
    CALL = "call", _("call")
    VISIT = "visit", _("visit")


class FollowUp(CorpOwned):
    """A note, call or visit on a customer by a member (through the relation)."""

    relation = models.ForeignKey(
        "customers.FollowRelation", on_delete=models.CASCADE, related_name="follow_ups"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=FollowUpKind.choices)
    content = models.TextField(_("content"))
    happened_at = models.DateTimeField(_("when"))
    next_on = models.DateField(_("next follow-up"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    remind_attempts = models.PositiveSmallIntegerField(default=0)
    remind_error = models.CharField(max_length=255, blank=True)
    user_id = models.IntegerField(null=True, blank=True)
    author = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["relation", "-happened_at"], name="lifecycle_fu_rel_idx"),
            models.Index(fields=["corp", "next_on"], name="lifecycle_fu_next_idx"),
        ]
        ordering = ["-happened_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.relation_id}"
