from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.models import CorpOwned

MAX_ATTACHMENTS = 9  # WeCom's limit for send_welcome_msg and mass messages
MAX_TEXT_BYTES = 4000


class WelcomeMessage(CorpOwned):
    """A welcome message (欢迎语): text plus up to 9 attachments, optionally varying by time of day.

    `attachments` holds WeCom's attachment objects ({"msgtype": "image"|"link"|"miniprogram"|"video"|
    "file", ...}) as Qike stores them (media by content-library reference, uploaded on send).
    `variants` are time-of-day alternatives: [{"start": "HH:MM", "end": "HH:MM", "text": ..., "attachments":
    [...]}], checked in order in the corp's time zone; the first that covers the moment wins.
    """

    name = models.CharField(_("name"), max_length=64)
    text = models.TextField(_("text"), blank=True)
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    variants = models.JSONField(_("time-of-day variants"), default=list, blank=True)
    is_corp_default = models.BooleanField(_("corp default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["corp"],
                condition=models.Q(is_corp_default=True),
                name="engagement_one_corp_default_welcome",
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
