from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserPreference(models.Model):
    """A console user's own settings, kept across logins and devices (a cookie is per browser)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="console_preference",
        verbose_name=_("user"),
    )
    # A code from settings.LANGUAGES (checked by services.set_language; no choices here, so adding
    # a language needs no migration).
    language = models.CharField(_("language"), max_length=16)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"
