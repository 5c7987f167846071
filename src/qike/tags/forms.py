"""Forms of the tag library page. Names are checked again by `tags.services`, which knows the
rules WeCom applies (length, duplicates); these forms catch what is wrong before anything is sent."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from qike.tags.services import MAX_TAG_NAME

# WeCom's order is an unsigned 32-bit number; larger comes first.
MAX_ORDER = 2**32 - 1
TAG_LIST_SEPARATORS = re.compile(r"[\n,，、;；]+")


def split_names(text: str) -> list[str]:
    """Tag names typed one per line (or separated by commas, as people paste them)."""
    return [name.strip() for name in TAG_LIST_SEPARATORS.split(text or "") if name.strip()]


def _order_field(required: bool) -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Order"),
        required=required,
        min_value=0,
        max_value=MAX_ORDER,
        help_text=_("WeCom shows larger numbers first."),
    )


def _name_field(label) -> forms.CharField:
    return forms.CharField(label=label, max_length=MAX_TAG_NAME, strip=True)


class _NamesField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 4})

    def clean(self, value):
        names = split_names(super().clean(value))
        if not names:
            raise forms.ValidationError(_("Give at least one tag name."))
        too_long = [name for name in names if len(name) > MAX_TAG_NAME]
        if too_long:
            raise forms.ValidationError(
                _("A tag name may have at most %(max)d characters: %(names)s")
                % {"max": MAX_TAG_NAME, "names": "、".join(too_long)}
            )
        return names


class GroupCreateForm(forms.Form):
    name = _name_field(_("Group name"))
    order = _order_field(required=False)
    tags = _NamesField(label=_("Tags"), help_text=_("One per line, or separated by commas."))


class TagAddForm(forms.Form):
    names = _NamesField(label=_("New tags"), help_text=_("One per line, or separated by commas."))


class RenameForm(forms.Form):
    name = _name_field(_("New name"))


class ReorderForm(forms.Form):
    order = _order_field(required=True)
