"""Referrals (老带新): an existing customer forwards their own code; friends who scan it add the staff
member who follows that customer, and every N new customers earn the referrer a reward that the
staff member hands out."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qike.core.models import CorpOwned

REFERRAL_STATE_PREFIX = "rf-"


class Campaign(CorpOwned):
    """A referral programme: its days, what a referred friend gets on arrival (welcome message,
    tags) and the reward rule for referrers (every `reward_every` new customers → one reward)."""

    name = models.CharField(_("name"), max_length=64)
    intro = models.TextField(_("share page text"), max_length=500, blank=True)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"), null=True, blank=True)  # open-ended when empty
    welcome_message = models.ForeignKey(
        "engagement.WelcomeMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("welcome message"),
    )
    tags = models.ManyToManyField(
        "tags.Tag", blank=True, related_name="+", verbose_name=_("tags for referred customers")
    )
    skip_verify = models.BooleanField(_("add without verification"), default=True)
    reward_every = models.PositiveIntegerField(_("reward every N new customers"), default=3)
    reward_text = models.CharField(_("reward"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return self.name

    def status_on(self, moment: dt.datetime) -> str:
        """ "upcoming", "active" or "ended" at `moment` (days are Asia/Shanghai days)."""
        day = timezone.localtime(moment).date()
        if day < self.starts_on:
            return "upcoming"
        if self.ends_on is not None and day > self.ends_on:
            return "ended"
        return "active"


class ReferralCode(CorpOwned):
    """One referrer's code in one campaign: the referrer is a customer as one staff member follows
    them; the contact way adds that member, and its state `rf-<id>` names the code."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="codes")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("referrer")
    )
    staff = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("staff")
    )
    token = models.CharField(max_length=32, unique=True)  # the share page's unguessable address
    state = models.CharField(_("channel state"), max_length=30, blank=True)
    config_id = models.CharField(_("WeCom config ID"), max_length=64, blank=True)
    qr_code = models.URLField(_("QR code URL"), max_length=512, blank=True)
    created_at = models.DateTimeField()
    way_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer", "staff"], name="referrals_code_referrer_unique"
            ),
            models.UniqueConstraint(
                fields=["corp", "state"],
                condition=~models.Q(state=""),
                name="referrals_code_state_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.state


class Referral(CorpOwned):
    """Who brought whom: once per referred customer per campaign, however often WeCom reports it.

    `is_new`: the referred person had no relation with anyone in the corp before. Only new customers
    added while the campaign runs count towards rewards (`counted`)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="referrals")
    code = models.ForeignKey(ReferralCode, on_delete=models.CASCADE, related_name="referrals")
    referrer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("referrer")
    )
    referred = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("referred customer"),
    )
    staff = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("staff")
    )
    relation = models.ForeignKey(
        "customers.FollowRelation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    referred_at = models.DateTimeField(_("referred at"))
    is_new = models.BooleanField(_("new customer"))
    counted = models.BooleanField(_("counts towards rewards"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "referred"], name="referrals_referral_once_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["corp", "referred_at"], name="referrals_referral_at_idx"),
            models.Index(fields=["code", "counted"], name="referrals_referral_code_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.referred_id}"


class RewardStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("reward task", "open")
    DONE = "done", pgettext_lazy("reward task", "done")


class RewardTask(CorpOwned):
    """The staff member owes the referrer a reward: created when the referrer's counted referrals
    reach a multiple of the campaign's N (`milestone`), once per milestone."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rewards")
    code = models.ForeignKey(ReferralCode, on_delete=models.CASCADE, related_name="rewards")
    referrer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("referrer")
    )
    staff = models.ForeignKey(
        "org.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("staff")
    )
    milestone = models.PositiveIntegerField(_("referred customers"))
    reward_text = models.CharField(_("reward"), max_length=200)
    status = models.CharField(
        _("status"), max_length=8, choices=RewardStatus.choices, default=RewardStatus.OPEN
    )
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.CharField(_("done by"), max_length=150, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)  # the app message went out
    notify_error = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["code", "milestone"], name="referrals_reward_milestone_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["corp", "status", "created_at"], name="referrals_reward_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code_id} @ {self.milestone}"
