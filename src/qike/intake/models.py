from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.models import CorpOwned


class EventStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    IGNORED = "ignored", _("no handler")


class CallbackEvent(CorpOwned):
    """A WeCom callback as received, stored before it is acknowledged: the source of truth for replay."""

    dedupe_key = models.CharField(max_length=64)
    kind = models.CharField(_("kind"), max_length=96)  # "Event/ChangeType"
    event_time = models.DateTimeField(_("WeCom time"), null=True)
    payload = models.TextField(_("decrypted XML"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    deliveries = models.PositiveIntegerField(_("deliveries"), default=1)
    status = models.CharField(
        _("status"), max_length=16, choices=EventStatus.choices, default=EventStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["corp", "dedupe_key"], name="intake_event_dedupe"),
        ]
        indexes = [
            models.Index(fields=["corp", "status", "received_at"], name="intake_status_idx"),
            models.Index(fields=["corp", "kind", "received_at"], name="intake_kind_idx"),
        ]
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"
