from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.models import CorpOwned


class TagType(models.IntegerChoices):
    CORP = 1, _("corp tag")
    PERSONAL = 2, _("personal tag")
    STRATEGY = 3, _("rule-group tag")


class TagGroup(CorpOwned):
    wecom_id = models.CharField(_("group id"), max_length=64)
    name = models.CharField(_("name"), max_length=64)
    order = models.BigIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(_("created at"), null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["corp", "wecom_id"], name="tags_group_unique"),
        ]
        ordering = ["-order", "wecom_id"]

    def __str__(self) -> str:
        return self.name


class Tag(CorpOwned):
    wecom_id = models.CharField(_("tag id"), max_length=64)
    group = models.ForeignKey(
        TagGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(_("name"), max_length=64)
    order = models.BigIntegerField(_("order"), default=0)
    type = models.PositiveSmallIntegerField(
        _("type"), choices=TagType.choices, default=TagType.CORP
    )
    created_at = models.DateTimeField(_("created at"), null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["corp", "wecom_id"], name="tags_tag_unique"),
        ]
        ordering = ["-order", "wecom_id"]

    def __str__(self) -> str:
        return self.name


class TagAssignment(CorpOwned):
    """A tag on one follow relation (WeCom tags a customer per staff member who follows them)."""

    relation = models.ForeignKey(
        "customers.FollowRelation", on_delete=models.CASCADE, related_name="tag_assignments"
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="assignments")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["relation", "tag"], name="tags_assignment_unique"),
        ]
        indexes = [models.Index(fields=["tag", "relation"], name="tags_assignment_tag_idx")]
