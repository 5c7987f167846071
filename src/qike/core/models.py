from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.fields import EncryptedTextField
from qike.wecom.client import DEFAULT_BASE_URL


class Corp(models.Model):
    """A WeCom corp (the tenant). Every business row belongs to one."""

    corpid = models.CharField(_("CorpID"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128, blank=True)
    agent_id = models.BigIntegerField(_("agent id"), null=True, blank=True)
    secret = EncryptedTextField(_("app secret"), blank=True)
    callback_token = EncryptedTextField(_("callback token"), blank=True)
    encoding_aes_key = EncryptedTextField(_("EncodingAESKey"), blank=True)
    api_base_url = models.URLField(_("API base URL"), default=DEFAULT_BASE_URL)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("corp")
        verbose_name_plural = _("corps")

    def __str__(self) -> str:
        return self.name or self.corpid


class AccessToken(models.Model):
    """WeCom access tokens shared by every Qike process (one per corp + secret)."""

    key = models.CharField(max_length=128, unique=True)
    token = EncryptedTextField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"token {self.key} until {self.expires_at:%Y-%m-%d %H:%M}"


class CorpOwned(models.Model):
    """Base for business rows: each belongs to exactly one corp."""

    corp = models.ForeignKey(Corp, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True
