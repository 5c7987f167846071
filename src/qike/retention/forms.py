"""The corp's churn and pool settings, as a console form (the service checks them again)."""

from __future__ import annotations

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from qike.retention.models import MAX_REASONS, RetentionSettings
from qike.retention.services import MAX_DAYS, MAX_LIMIT


class SettingsForm(forms.Form):
    alert_staff = forms.BooleanField(
        label=_("Alert the staff member when a customer deletes them"), required=False
    )
    alert_manager = forms.BooleanField(
        label=_("Alert their manager too (leader of their main department)"), required=False
    )
    delete_limit = forms.IntegerField(
        label=_("Alert the manager when a member deletes more customers than this in a day"),
        min_value=1,
        max_value=MAX_LIMIT,
    )
    reasons = forms.CharField(
        label=_("Reasons for losing a customer (one per line)"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=lazy(lambda: _("At most %(n)d.") % {"n": MAX_REASONS}, str)(),  # per request
    )
    pool_idle_days = forms.IntegerField(
        label=_("Return customers nobody worked for this many days to the shared pool"),
        min_value=0,
        max_value=MAX_DAYS,
        help_text=_("0: only customers without an active follower return."),
    )
    claim_limit = forms.IntegerField(
        label=_("Claims from the pool per member per day"), min_value=0, max_value=MAX_LIMIT
    )

    def reason_list(self) -> list[str]:
        return [line for line in self.cleaned_data["reasons"].splitlines() if line.strip()]


def initial_for(conf: RetentionSettings) -> dict:
    return {
        "alert_staff": conf.alert_staff,
        "alert_manager": conf.alert_manager,
        "delete_limit": conf.delete_limit,
        "reasons": "\n".join(conf.reasons),
        "pool_idle_days": conf.pool_idle_days,
        "claim_limit": conf.claim_limit,
    }
