from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.models import Corp


class Via(models.TextChoices):
    CONSOLE = "console", _("console")
    API = "api", _("API")
    JOB = "job", _("background job")
    COMMAND = "command", _("command line")
    SYSTEM = "system", _("system")


class AuditEntry(models.Model):
    """One recorded action. Append-only: `save` refuses to change a stored row, and neither the
    console nor the API offers a way to edit or delete one."""

    corp = models.ForeignKey(
        Corp, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )  # None: an action outside any corp (e.g. a super admin's)
    at = models.DateTimeField(_("when"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.CharField(_("who"), max_length=150, blank=True)  # kept if the user is deleted
    via = models.CharField(_("via"), max_length=16, choices=Via.choices, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=64)  # "<app>.<verb>", e.g. "transfers.start"
    target_type = models.CharField(_("object type"), max_length=64, blank=True)
    target_id = models.CharField(_("object id"), max_length=128, blank=True)
    target_label = models.CharField(_("object"), max_length=255, blank=True)
    before = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["corp", "at"], name="audit_corp_at_idx"),
            models.Index(fields=["corp", "action", "at"], name="audit_corp_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor or '-'} {self.action} {self.target_label}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit entries are append-only")
