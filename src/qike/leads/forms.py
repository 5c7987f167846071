"""The lead form editor. The service checks everything again; this form turns text into a spec."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from qike.core.models import Corp
from qike.engagement.models import WelcomeMessage
from qike.leads.models import DEFAULT_WAY_DAYS, AssignRule, FieldKey, LeadForm
from qike.leads.services import FormSpec
from qike.org.models import Staff, StaffStatus
from qike.tags.models import Tag, TagType

OFF, OPTIONAL, REQUIRED = "off", "optional", "required"
ASK_CHOICES = [(OFF, _("Not asked")), (OPTIONAL, _("Optional")), (REQUIRED, _("Required"))]


def parse_map(text: str) -> dict[str, str]:
    """One "answer userid" per line (the answer may contain spaces; the UserID is last)."""
    mapping: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = re.split(r"[\s:：=]+", line)
        if len(parts) < 2:
            raise forms.ValidationError(
                _("Line %(n)d: write the answer and a UserID, e.g. 华东 zhangsan") % {"n": number}
            )
        mapping[" ".join(parts[:-1])] = parts[-1]
    return mapping


def format_map(mapping: dict[str, str]) -> str:
    return "\n".join(f"{answer} {userid}" for answer, userid in mapping.items())


class LeadFormForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64)
    slug = forms.CharField(
        label=_("Address"),
        max_length=40,
        help_text=_("The end of the public link: lower-case letters, digits and hyphens."),
    )
    title = forms.CharField(label=_("Page title"), max_length=64, required=False)
    intro = forms.CharField(
        label=_("Introduction"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    staff = forms.ModelMultipleChoiceField(
        label=_("Staff pool"),
        queryset=Staff.objects.none(),
        to_field_name="userid",
        widget=forms.CheckboxSelectMultiple,
    )
    rule = forms.ChoiceField(label=_("Assignment rule"), choices=AssignRule.choices)
    assign_field = forms.ChoiceField(
        label=_("Assign by the answer to"),
        choices=[("", "-"), *FieldKey.choices],
        required=False,
    )
    assign_map = forms.CharField(
        label=_("Answer → staff"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line: an answer and a UserID, e.g. 华东 zhangsan. Other answers go round "
            "the pool. For the region question these answers become the choices."
        ),
    )
    tags = forms.ModelMultipleChoiceField(
        label=_("Auto-tags"), queryset=Tag.objects.none(), to_field_name="wecom_id", required=False
    )
    welcome_message = forms.ModelChoiceField(
        label=_("Welcome message"), queryset=WelcomeMessage.objects.none(), required=False
    )
    thank_you = forms.CharField(
        label=_("Thank-you text"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    way_days = forms.IntegerField(
        label=_("Keep an unconverted QR code for (days)"),
        min_value=1,
        max_value=365,
        initial=DEFAULT_WAY_DAYS,
    )
    is_open = forms.BooleanField(label=_("Accepting submissions"), required=False, initial=True)

    def __init__(self, *args, corp: Corp, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for key, label in FieldKey.choices:
            self.fields[f"ask_{key}"] = forms.ChoiceField(
                label=_("Question: %(field)s") % {"field": label},
                choices=ASK_CHOICES,
                initial=REQUIRED if key == FieldKey.PHONE else OFF,
            )
        self.fields["staff"].queryset = Staff.objects.filter(
            corp=corp, status=StaffStatus.ACTIVE
        ).order_by("name", "userid")
        self.fields["tags"].queryset = Tag.objects.filter(corp=corp, type=TagType.CORP).order_by(
            "group__name", "name"
        )
        self.fields["welcome_message"].queryset = WelcomeMessage.objects.filter(corp=corp)

    def clean_assign_map(self) -> dict[str, str]:
        return parse_map(self.cleaned_data.get("assign_map", ""))

    def spec(self) -> FormSpec:
        data = self.cleaned_data
        welcome = data.get("welcome_message")
        asked = tuple(
            (key, data.get(f"ask_{key}") == REQUIRED)
            for key in FieldKey.values
            if data.get(f"ask_{key}", OFF) != OFF
        )
        return FormSpec(
            name=data["name"],
            slug=data["slug"],
            title=data.get("title", ""),
            intro=data.get("intro", ""),
            fields=asked,
            userids=tuple(s.userid for s in data.get("staff") or ()),
            rule=data["rule"],
            assign_field=data.get("assign_field", ""),
            assign_map=data.get("assign_map") or {},
            tag_ids=tuple(t.wecom_id for t in data.get("tags") or ()),
            welcome_message_id=welcome.pk if welcome else None,
            thank_you=data.get("thank_you", ""),
            way_days=data["way_days"],
            is_open=data.get("is_open", False),
        )


def initial_for(form: LeadForm) -> dict:
    initial = {
        "name": form.name,
        "slug": form.slug,
        "title": form.title,
        "intro": form.intro,
        "staff": [s.userid for s in form.pool.all()],
        "rule": form.rule,
        "assign_field": form.assign_field,
        "assign_map": format_map(form.assign_map),
        "tags": [t.wecom_id for t in form.tags.all()],
        "welcome_message": form.welcome_message_id,
        "thank_you": form.thank_you,
        "way_days": form.way_days,
        "is_open": form.is_open,
    }
    for key in FieldKey.values:
        initial[f"ask_{key}"] = OFF
    for item in form.fields:
        initial[f"ask_{item['key']}"] = REQUIRED if item.get("required") else OPTIONAL
    return initial
