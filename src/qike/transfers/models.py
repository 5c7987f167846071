"""Transfers (在职继承 / 离职继承): a batch hands customers of one staff member to another; each
customer's item follows WeCom's answer (errcode at the start, then transfer_result's status)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qike.core.models import CorpOwned

MAX_MESSAGE = 200  # WeCom: transfer_success_msg is at most 200 characters


class TransferKind(models.TextChoices):
    ONJOB = "onjob", _("on-job transfer")
    RESIGNED = "resigned", _("resigned staff")


class ItemStatus(models.TextChoices):
    """WeCom's transfer_result statuses 1–5, plus `failed`: WeCom refused to start (errcode)."""

    WAITING = "waiting", _("waiting for takeover")
    DONE = "done", _("taken over")
    REFUSED = "refused", _("customer refused")
    LIMIT = "limit", _("takeover at customer limit")
    NO_RECORD = "no_record", _("no takeover record")
    FAILED = "failed", _("not started")


# transfer_result's status → ours.
WECOM_STATUS = {
    1: ItemStatus.DONE,
    2: ItemStatus.WAITING,
    3: ItemStatus.REFUSED,
    4: ItemStatus.LIMIT,
    5: ItemStatus.NO_RECORD,
}
FINAL = {
    ItemStatus.DONE,
    ItemStatus.REFUSED,
    ItemStatus.LIMIT,
    ItemStatus.NO_RECORD,
    ItemStatus.FAILED,
}


class Transfer(CorpOwned):
    """One hand-over from one staff member to another, of one or many customers."""

    kind = models.CharField(_("kind"), max_length=16, choices=TransferKind.choices)
    handover = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("handover")
    )
    takeover = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("takeover")
    )
    message = models.CharField(_("transfer message"), max_length=MAX_MESSAGE, blank=True)
    created_by = models.CharField(_("started by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("started at"))
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["corp", "-created_at"], name="transfers_newest_idx")]

    def __str__(self) -> str:
        return f"{self.handover} → {self.takeover}"


class TransferItem(CorpOwned):
    """One customer of a transfer."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="items")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", null=True
    )
    external_userid = models.CharField(_("external UserID"), max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=ItemStatus.choices)
    errcode = models.IntegerField(_("WeCom errcode"), default=0)
    takeover_at = models.DateTimeField(_("takeover time"), null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    moved_at = models.DateTimeField(null=True, blank=True)  # movers ran (stage, tags, leads…)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["corp", "external_userid", "status"], name="transfers_item_idx"),
            models.Index(fields=["corp", "status"], name="transfers_item_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.external_userid}: {self.status}"
