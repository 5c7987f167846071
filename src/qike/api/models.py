from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core import clock
from qike.core.models import CorpOwned


class Scope(models.TextChoices):
    READ = "read", _("read")
    WRITE = "write", _("write")


class ApiToken(CorpOwned):
    """A bearer token for the REST API of one corp.

    The token itself is shown once, when it is created; Qike keeps only its SHA-256 and a short
    prefix so people can tell their tokens apart. A token acts with the rights of `user` in its
    corp (their role and data scope, looked up on every call), limited further by its scopes.
    """

    name = models.CharField(_("name"), max_length=64)
    # Space separated, as in OAuth: "read" or "read write".
    scopes = models.CharField(_("scopes"), max_length=32, default=Scope.READ)
    prefix = models.CharField(_("token prefix"), max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="api_tokens",
        verbose_name=_("acts as"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=clock.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["corp", "-created_at"], name="api_token_corp_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return scope in self.scope_list
