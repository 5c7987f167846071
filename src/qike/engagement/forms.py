"""Forms of the welcome-message pages. They only read what was typed; WeCom's rules (byte limits,
9 attachments, text or attachments) are checked by `engagement.services`, one place for the console
and the API, and every problem is listed at the top of the form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qike.engagement.models import MAX_ATTACHMENTS, AttachmentKind, SendStatus, WelcomeMessage
from qike.engagement.services import MAX_VARIANTS, AttachmentInput

# Generous, so that a form with too many rows reaches the service and gets its clear message.
ABSOLUTE_MAX_ROWS = 2 * MAX_ATTACHMENTS
LINK_FIELDS = ("title", "url", "desc", "picurl")
MINIPROGRAM_FIELDS = ("title", "appid", "page")


class MessageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64, strip=True)
    text = forms.CharField(
        label=_("Text"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Up to 4000 bytes (a Chinese character takes 3). %NICKNAME% becomes the customer's "
            "WeCom name; Qike fills it in itself, because WeCom does not for 1:1 welcome messages."
        ),
    )
    nickname_fallback = forms.CharField(
        label=_("Name when unknown"),
        required=False,
        max_length=32,
        help_text=_(
            "Used for %NICKNAME% when WeCom does not tell the name yet: a customer who added a "
            "member who has not confirmed. Leave empty to drop the placeholder."
        ),
    )
    is_corp_default = forms.BooleanField(label=_("Corp default"), required=False)


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("— none —")), *AttachmentKind.choices],
    )
    title = forms.CharField(label=_("Title"), required=False, strip=True)
    url = forms.CharField(label=_("Link address"), required=False, strip=True)
    desc = forms.CharField(label=_("Description"), required=False, strip=True)
    picurl = forms.CharField(label=_("Cover image address"), required=False, strip=True)
    appid = forms.CharField(label=_("Mini program AppID"), required=False, strip=True)
    page = forms.CharField(label=_("Mini program page"), required=False, strip=True)
    file = forms.FileField(label=_("File"), required=False)
    media = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def as_input(self) -> AttachmentInput | None:
        """The row as an attachment; None for an empty row."""
        data = self.cleaned_data
        kind = data.get("kind") or ""
        if not kind:
            return None
        names = {AttachmentKind.LINK: LINK_FIELDS, AttachmentKind.MINIPROGRAM: MINIPROGRAM_FIELDS}
        fields = {name: data.get(name) or "" for name in names.get(kind, ())}
        return AttachmentInput(
            kind=kind, fields=fields, media=data.get("media"), upload=data.get("file")
        )


class VariantForm(forms.Form):
    start = forms.CharField(
        label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.CharField(
        label=_("Until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    text = forms.CharField(
        label=_("Text"), required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def as_variant(self) -> dict | None:
        data = self.cleaned_data
        if not (data.get("start") or data.get("end") or (data.get("text") or "").strip()):
            return None
        return {
            "start": (data.get("start") or "")[:5],
            "end": (data.get("end") or "")[:5],
            "text": data.get("text") or "",
        }


AttachmentFormSet = forms.formset_factory(
    AttachmentForm, extra=0, max_num=MAX_ATTACHMENTS, absolute_max=ABSOLUTE_MAX_ROWS
)
VariantFormSet = forms.formset_factory(
    VariantForm, extra=0, max_num=MAX_VARIANTS, absolute_max=ABSOLUTE_MAX_ROWS
)


def attachment_initial(message: WelcomeMessage | None) -> list[dict]:
    """The rows of the attachment table: the message's attachments, then empty rows up to 9."""
    rows = []
    for item in message.attachments if message else []:
        kind = item.get("msgtype", "")
        body = item.get(kind) or {}
        rows.append({"kind": kind, **{k: v for k, v in body.items()}})
    return rows + [{} for _ in range(MAX_ATTACHMENTS - len(rows))]


def variant_initial(message: WelcomeMessage | None) -> list[dict]:
    rows = list(message.variants) if message else []
    return rows + [{} for _ in range(MAX_VARIANTS - len(rows))]


class StaffDefaultForm(forms.Form):
    staff = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    message = forms.IntegerField(label=_("Welcome message"), required=False, min_value=1)


class CorpDefaultForm(forms.Form):
    message = forms.IntegerField(label=_("Corp default"), required=False, min_value=1)


class SendFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Result"),
        required=False,
        choices=[("", _("all results")), *SendStatus.choices],
    )
    staff = forms.CharField(label=_("Staff UserID"), required=False, max_length=64)
    customer = forms.CharField(label=_("Customer"), required=False, max_length=64)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
