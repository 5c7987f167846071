"""Forms of acquisition links and their pricing; the service checks everything again."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qike.acquisition.links import ChannelSpec, LinkSpec, channel_code
from qike.acquisition.models import AcquisitionLink
from qike.core.models import Corp
from qike.engagement.models import WelcomeMessage
from qike.org.models import Department, Staff, StaffStatus
from qike.tags.models import Tag, TagType


def parse_channels(text: str) -> tuple[ChannelSpec, ...]:
    """One sub-channel per line: "code name", e.g. "douyin 抖音直播间"."""
    channels = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.split(None, 1)
        if len(parts) < 2:
            raise forms.ValidationError(
                _("Line %(n)d: write a code and a name, e.g. douyin 抖音直播间") % {"n": number}
            )
        channels.append(ChannelSpec(name=parts[1].strip(), code=parts[0]))
    return tuple(channels)


class LinkForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64, required=False)
    staff = forms.ModelMultipleChoiceField(
        label=_("Staff"), queryset=Staff.objects.none(), to_field_name="userid", required=False
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("Departments"),
        queryset=Department.objects.none(),
        to_field_name="wecom_id",
        required=False,
        help_text=_("WeCom allows at most 100 staff and at most 100 people in the departments."),
    )
    skip_verify = forms.BooleanField(
        label=_("Add without verification"), required=False, initial=True
    )
    channels = forms.CharField(
        label=_("Sub-channels"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One per line: a code (letters, digits, underscores) and a name, e.g. "
            "douyin 抖音直播间. Each gets its own URL."
        ),
    )
    tags = forms.ModelMultipleChoiceField(
        label=_("Auto-tags"), queryset=Tag.objects.none(), to_field_name="wecom_id", required=False
    )
    welcome_message = forms.ModelChoiceField(
        label=_("Welcome message"), queryset=WelcomeMessage.objects.none(), required=False
    )

    def __init__(self, *args, corp: Corp, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = Staff.objects.filter(
            corp=corp, status=StaffStatus.ACTIVE
        ).order_by("name")
        self.fields["departments"].queryset = Department.objects.filter(corp=corp).order_by("path")
        self.fields["tags"].queryset = Tag.objects.filter(corp=corp, type=TagType.CORP).order_by(
            "group__name", "name"
        )
        self.fields["welcome_message"].queryset = WelcomeMessage.objects.filter(corp=corp)

    def clean_channels(self) -> tuple[ChannelSpec, ...]:
        return parse_channels(self.cleaned_data.get("channels", ""))

    def spec(self) -> LinkSpec:
        data = self.cleaned_data
        welcome = data.get("welcome_message")
        return LinkSpec(
            name=data.get("name", ""),
            userids=tuple(s.userid for s in data.get("staff") or ()),
            department_ids=tuple(d.wecom_id for d in data.get("departments") or ()),
            skip_verify=data.get("skip_verify", False),
            tag_ids=tuple(t.wecom_id for t in data.get("tags") or ()),
            welcome_message_id=welcome.pk if welcome else None,
            channels=data.get("channels") or (),
        )


def link_initial(link: AcquisitionLink) -> dict:
    return {
        "name": link.name,
        "staff": list(link.userids),
        "departments": list(link.department_ids),
        "skip_verify": link.skip_verify,
        "channels": "\n".join(f"{channel_code(c)} {c.name}" for c in link.channels.all()),
        "tags": [t.wecom_id for t in link.tags.all()],
        "welcome_message": link.welcome_message_id,
    }


class PricingForm(forms.Form):
    free_adds = forms.IntegerField(label=_("Free adds per corp"), min_value=0)
    price_yuan = forms.DecimalField(
        label=_("Price per add after that (¥)"), min_value=0, max_digits=8, decimal_places=2
    )

    def price_fen(self) -> int:
        return int(self.cleaned_data["price_yuan"] * 100)
