"""A segment: a saved audience of one corp. Its rules are kept as the JSON of `SegmentRules`
(see rules.py) and evaluated live, so a segment always means "who matches now"."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.models import CorpOwned

NAME_MAX = 64
DESCRIPTION_MAX = 255


class Segment(CorpOwned):
    name = models.CharField(_("name"), max_length=NAME_MAX)
    description = models.CharField(_("description"), max_length=DESCRIPTION_MAX, blank=True)
    # Mass messages may send through the segment's owner (the "segment owner" follower rule).
    owner = models.ForeignKey(
        "org.Staff",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    created_by = models.IntegerField(null=True, blank=True)  # console user id
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["corp", "name"], name="segments_segment_name_unique"),
        ]
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def segment_rules(self):
        from qike.segments.rules import rules_from_dict

        return rules_from_dict(self.rules)
