"""Moment tasks (客户朋友圈): what the corp asked staff to publish, to whom, and what came of it —
each staff member's publish status, the customers reached, the comments and likes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.models import CorpOwned

TEXT_MAX = 2000  # WeCom: text.content ≤ 2000 characters


class MomentStatus(models.TextChoices):
    CREATING = "creating", _("being created")  # WeCom's job is running
    ACTIVE = "active", _("created")  # moment_id known: staff publish, customers react
    FAILED = "failed", _("failed")  # WeCom's job answered an error (or expired)
    CANCELLED = "cancelled", _("stopped")  # cancel_moment_task: nobody else may publish


class Moment(CorpOwned):
    """One add_moment_task: text plus images, a video or a link, for chosen staff and tags."""

    text = models.TextField(_("text"), max_length=TEXT_MAX, blank=True)
    content_kind = models.CharField(_("attachments"), max_length=8, blank=True)  # image/video/link
    item_ids = models.JSONField(_("library items"), default=list, blank=True)
    attachments = models.JSONField(default=list, blank=True)  # what WeCom was sent (no media_ids)
    userids = models.JSONField(_("staff"), default=list, blank=True)
    department_ids = models.JSONField(_("departments"), default=list, blank=True)
    tag_ids = models.JSONField(_("customer tags"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=MomentStatus.choices)
    jobid = models.CharField(max_length=64, blank=True)
    moment_id = models.CharField(_("moment id"), max_length=64, blank=True)
    errcode = models.IntegerField(_("WeCom errcode"), default=0)
    errmsg = models.CharField(max_length=255, blank=True)
    invalid_userids = models.JSONField(default=list, blank=True)
    invalid_department_ids = models.JSONField(default=list, blank=True)
    invalid_tag_ids = models.JSONField(default=list, blank=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created at"))
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("stopped at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["corp", "-created_at"], name="moments_newest_idx"),
            models.Index(fields=["status", "created_at"], name="moments_open_idx"),
        ]

    def __str__(self) -> str:
        return (self.text or self.moment_id or str(self.pk))[:40]


class MomentSender(CorpOwned):
    """One staff member asked to publish the moment."""

    moment = models.ForeignKey(Moment, on_delete=models.CASCADE, related_name="senders")
    staff = models.ForeignKey(
        "org.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    userid = models.CharField(_("UserID"), max_length=64)
    published = models.BooleanField(_("published"), default=False)
    published_seen_at = models.DateTimeField(null=True, blank=True)  # when Qike first saw it
    reached = models.PositiveIntegerField(_("customers reached"), default=0)

    class Meta:
        ordering = ["userid"]
        constraints = [
            models.UniqueConstraint(fields=["moment", "userid"], name="moments_sender_once"),
        ]

    def __str__(self) -> str:
        return self.userid


class InteractionKind(models.TextChoices):
    COMMENT = "comment", _("comment")
    LIKE = "like", _("like")


class MomentInteraction(CorpOwned):
    """A comment or like on one staff member's published moment, by a customer or a colleague.
    WeCom names who and when, never the comment's text; the unique constraint makes polling
    idempotent."""

    moment = models.ForeignKey(Moment, on_delete=models.CASCADE, related_name="interactions")
    sender = models.ForeignKey(MomentSender, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(_("kind"), max_length=8, choices=InteractionKind.choices)
    external_userid = models.CharField(max_length=64, blank=True)
    userid = models.CharField(max_length=64, blank=True)  # a colleague who commented or liked
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField(_("when"))

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "kind", "external_userid", "userid", "occurred_at"],
                name="moments_interaction_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_userid or self.userid}"
