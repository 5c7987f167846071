"""Console forms: a stage of the pipeline, a follow-up, a move."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qike.lifecycle.models import MAX_STALE_DAYS, NAME_MAX, FollowUpKind
from qike.lifecycle.services import CONTENT_MAX


class StageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX, strip=True)
    stale_days = forms.IntegerField(
        label=_("Remind after days"),
        required=False,
        min_value=1,
        max_value=MAX_STALE_DAYS,
        help_text=_("A customer in this stage longer than this reminds the staff member."),
    )
    is_exit = forms.BooleanField(label=_("Exit stage"), required=False)


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=FollowUpKind.choices)
    content = forms.CharField(
        label=_("What happened"), max_length=CONTENT_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    next_on = forms.DateField(
        label=_("Next follow-up"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class MoveForm(forms.Form):
    stage = forms.IntegerField(label=_("Move to"), min_value=1)
