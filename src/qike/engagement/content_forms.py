"""Forms of the content library and quick-reply pages. They only read the request; WeCom's rules
are checked by the services (`library.validate_item`, `quick_replies.save_reply`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qike.core.ids import parse_id
from qike.engagement.models import ContentFolder, ContentItem, ContentKind, QuickReplyGroup


class ItemFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("all kinds")), *ContentKind.choices]
    )
    folder = forms.CharField(label=_("Folder"), required=False, max_length=20)
    tag = forms.IntegerField(label=_("Tag"), required=False, min_value=1)

    def folder_filter(self) -> tuple[int | None, bool]:
        """(folder id, unfiled only)."""
        value = (self.cleaned_data.get("folder") or "").strip()
        if value == "none":
            return None, True
        return parse_id(value), False


class ItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ContentKind.choices)
    title = forms.CharField(label=_("Title"), required=False, max_length=128)
    text = forms.CharField(
        label=_("Text or description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=20000,
    )
    url = forms.CharField(label=_("Web address"), required=False, max_length=1024)
    appid = forms.CharField(label=_("Mini program AppID"), required=False, max_length=64)
    page = forms.CharField(label=_("Mini program page"), required=False, max_length=255)
    cover_url = forms.CharField(label=_("Cover image address"), required=False, max_length=1024)
    tracked = forms.BooleanField(label=_("Track opens of this link"), required=False)
    folder = forms.ModelChoiceField(
        label=_("Folder"), required=False, queryset=ContentFolder.objects.none()
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=500,
        help_text=_("Separated by commas."),
    )
    upload = forms.FileField(label=_("File"), required=False)
    cover = forms.FileField(label=_("Cover image"), required=False)

    def __init__(self, *args, corp, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["folder"].queryset = ContentFolder.objects.filter(corp=corp)

    @staticmethod
    def initial_for(item: ContentItem) -> dict:
        return {
            "kind": item.kind,
            "title": item.title,
            "text": item.text,
            "url": item.url,
            "appid": item.appid,
            "page": item.page,
            "cover_url": item.cover_url,
            "tracked": item.tracked,
            "folder": item.folder_id,
            "tags": ", ".join(tag.name for tag in item.tags.all()),
        }


def split_tags(value: str) -> list[str]:
    return [part.strip() for part in value.replace("，", ",").split(",") if part.strip()]


class FolderForm(forms.Form):
    name = forms.CharField(label=_("Folder name"), max_length=200)


class ReplyFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    group = forms.IntegerField(label=_("Group"), required=False, min_value=1)


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Group name"), max_length=200)
    position = forms.IntegerField(label=_("Order"), required=False, min_value=0, initial=0)


class ReplyForm(forms.Form):
    group = forms.ModelChoiceField(label=_("Group"), queryset=QuickReplyGroup.objects.none())
    title = forms.CharField(label=_("Title"), required=False, max_length=500)
    keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        max_length=1000,
        help_text=_("Words staff search by, separated by commas or spaces."),
    )
    text = forms.CharField(
        label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 5}), max_length=20000
    )
    items = forms.ModelMultipleChoiceField(
        label=_("Attachments from the library"),
        required=False,
        queryset=ContentItem.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args, corp, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = QuickReplyGroup.objects.filter(corp=corp)
        self.fields["items"].queryset = ContentItem.objects.filter(corp=corp).order_by("title")
