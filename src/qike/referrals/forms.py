"""The campaign editor and the bulk-code chooser. The services check everything again; these forms
turn text into specs."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qike.core.models import Corp
from qike.customers.queries import CustomerFilter
from qike.engagement.models import WelcomeMessage
from qike.org.models import Staff, StaffStatus
from qike.referrals.models import Campaign
from qike.referrals.services import MAX_REWARD_EVERY, CampaignSpec
from qike.tags.models import Tag, TagType


def _corp_tags(corp: Corp):
    return Tag.objects.filter(corp=corp, type=TagType.CORP).order_by("group__name", "name")


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64)
    starts_on = forms.DateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=_("Last day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: the campaign runs until you set a last day."),
    )
    intro = forms.CharField(
        label=_("Share page text"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What friends read above the QR code, e.g. what they get for adding us."),
    )
    welcome_message = forms.ModelChoiceField(
        label=_("Welcome message"),
        queryset=WelcomeMessage.objects.none(),
        required=False,
        help_text=_("Empty: the staff member's or the corp's default."),
    )
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags for referred customers"),
        queryset=Tag.objects.none(),
        to_field_name="wecom_id",
        required=False,
    )
    skip_verify = forms.BooleanField(
        label=_("Add without verification"),
        required=False,
        initial=True,
        help_text=_("Applies to codes generated from now on."),
    )
    reward_every = forms.IntegerField(
        label=_("Reward every N new customers"),
        min_value=0,
        max_value=MAX_REWARD_EVERY,
        initial=3,
        help_text=_("0: no reward. Only customers new to the company count."),
    )
    reward_text = forms.CharField(
        label=_("Reward"), max_length=200, required=False, help_text=_("e.g. send a coupon")
    )

    def __init__(self, *args, corp: Corp, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["welcome_message"].queryset = WelcomeMessage.objects.filter(corp=corp)
        self.fields["tags"].queryset = _corp_tags(corp)

    def spec(self) -> CampaignSpec:
        data = self.cleaned_data
        welcome = data.get("welcome_message")
        return CampaignSpec(
            name=data["name"],
            starts_on=data["starts_on"],
            ends_on=data.get("ends_on"),
            intro=data.get("intro", ""),
            tag_ids=tuple(t.wecom_id for t in data.get("tags") or ()),
            welcome_message_id=welcome.pk if welcome else None,
            skip_verify=data.get("skip_verify", False),
            reward_every=data["reward_every"],
            reward_text=data.get("reward_text", ""),
        )


def initial_for(campaign: Campaign) -> dict:
    return {
        "name": campaign.name,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "intro": campaign.intro,
        "welcome_message": campaign.welcome_message_id,
        "tags": [t.wecom_id for t in campaign.tags.all()],
        "skip_verify": campaign.skip_verify,
        "reward_every": campaign.reward_every,
        "reward_text": campaign.reward_text,
    }


class BulkForm(forms.Form):
    """Which customers get codes at once: those with any of these tags and/or of these members."""

    tags = forms.ModelMultipleChoiceField(
        label=_("Customers with any of these tags"),
        queryset=Tag.objects.none(),
        to_field_name="wecom_id",
        required=False,
    )
    staff = forms.ModelMultipleChoiceField(
        label=_("Customers of these staff members"),
        queryset=Staff.objects.none(),
        to_field_name="userid",
        required=False,
    )

    def __init__(self, *args, corp: Corp, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tags"].queryset = _corp_tags(corp)
        self.fields["staff"].queryset = Staff.objects.filter(
            corp=corp, status=StaffStatus.ACTIVE
        ).order_by("name", "userid")

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("tags") and not data.get("staff"):
            raise forms.ValidationError(_("Choose at least one tag or staff member."))
        return data

    def filters(self) -> CustomerFilter:
        data = self.cleaned_data
        return CustomerFilter(
            tags=[t.wecom_id for t in data.get("tags") or ()],
            staff=[s.userid for s in data.get("staff") or ()],
        )
