"""The customer list's filter form (GET parameters → `CustomerFilter`) and the tag editor's form."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qike.customers.models import RelationStatus
from qike.customers.queries import CustomerFilter
from qike.org.access import Access
from qike.org.models import Department, Staff
from qike.tags.models import Tag, TagType

# WeCom's add_way values (API-FACTS, "add_way values"). Two labels follow WeCom's Chinese doc rather
# than API-FACTS' English: 9 is 搜索邮箱 (searching an email address) and 13 is 添加微信好友对应的企业微信.
# Values not listed here show as their number.
ADD_WAYS: dict[int, str] = {
    0: _("unknown"),
    1: _("scanned a QR code"),
    2: _("searched a phone number"),
    3: _("shared business card"),
    4: _("group chat"),
    5: _("phone contacts"),
    6: _("WeChat contact"),
    7: _("WeChat friend request"),
    8: _("third-party app"),
    9: _("searched an email address"),
    10: _("WeChat Channels"),
    11: _("calendar participant"),
    12: _("meeting participant"),
    13: _("WeCom account of a WeChat friend"),
    14: _("smart-hardware support"),
    15: _("on-site service"),
    16: _("acquisition link"),
    201: _("shared by a colleague"),
    202: _("assigned by an admin"),
}

TAG_MODE_CHOICES = [
    ("any", _("any of these tags")),
    ("all", _("all of these tags")),
    ("none", _("none of these tags")),
]


def add_way_label(value: int) -> str:
    label = ADD_WAYS.get(value)
    return str(label) if label is not None else str(value)


def tag_choices(access: Access) -> list[tuple[str, list[tuple[str, str]]]]:
    """The corp's own tags, grouped as WeCom orders them: [(group name, [(tag id, tag name)])]."""
    grouped: dict[int | None, tuple[str, list[tuple[str, str]]]] = {}
    tags = (
        Tag.objects.filter(corp=access.corp, type=TagType.CORP)
        .select_related("group")
        .order_by("-group__order", "group__wecom_id", "-order", "wecom_id")
    )
    for tag in tags:
        name = tag.group.name if tag.group else str(_("Ungrouped"))
        grouped.setdefault(tag.group_id, (name, []))[1].append((tag.wecom_id, tag.name))
    return list(grouped.values())


def _flat(grouped: Iterable[tuple[str, list[tuple[str, str]]]]) -> list[tuple[str, str]]:
    return [choice for _name, choices in grouped for choice in choices]


class CustomerFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or remark"), required=False, max_length=64, strip=True)
    staff = forms.MultipleChoiceField(label=_("Staff"), required=False)
    department = forms.TypedChoiceField(
        label=_("Department"), required=False, coerce=int, empty_value=None
    )
    tags = forms.MultipleChoiceField(label=_("Tags"), required=False)
    tag_mode = forms.ChoiceField(label=_("Match"), required=False, choices=TAG_MODE_CHOICES)
    added_from = forms.DateField(label=_("Added from"), required=False)
    added_to = forms.DateField(label=_("Added to"), required=False)
    add_way = forms.TypedChoiceField(
        label=_("Add way"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any add way")), *[(str(k), v) for k, v in ADD_WAYS.items()]],
    )
    state = forms.CharField(label=_("Channel state"), required=False, max_length=64, strip=True)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *RelationStatus.choices],
    )

    def __init__(self, data, *, access: Access) -> None:
        super().__init__(data)
        self.access = access
        self.staff_choices = list(
            Staff.objects.filter(corp=access.corp)
            .filter(access.staff_filter())
            .order_by("name", "userid")
            .values_list("userid", "name")
        )
        self.fields["staff"].choices = [
            (userid, f"{name} ({userid})" if name else userid)
            for userid, name in self.staff_choices
        ]
        self.department_choices = self._departments()
        self.fields["department"].choices = [
            ("", _("Any department")),
            *[(str(d.wecom_id), d.name) for d in self.department_choices],
        ]
        self.tag_groups = tag_choices(access)
        self.fields["tags"].choices = _flat(self.tag_groups)

    def _departments(self) -> list[Department]:
        """Departments the user can filter by: the whole corp, or a manager's own subtrees."""
        access = self.access
        departments = Department.objects.filter(corp=access.corp).order_by("path")
        if access.corp_wide:
            return list(departments)
        if not access.department_paths:
            return []
        in_subtrees = Q()
        for path in access.department_paths:
            in_subtrees |= Q(path__startswith=path)
        return list(departments.filter(in_subtrees))

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("added_from"), cleaned.get("added_to")
        if start and end and start > end:
            self.add_error("added_to", _("The end date is before the start date."))
        return cleaned

    def to_filter(self) -> CustomerFilter:
        data = self.cleaned_data
        return CustomerFilter(
            staff=data["staff"],
            department=data["department"],
            tags=data["tags"],
            tag_mode=data["tag_mode"] or "any",
            added_from=data["added_from"],
            added_to=data["added_to"],
            add_way=data["add_way"],
            state=data["state"],
            status=data["status"],
            q=data["q"],
        )

    @property
    def active_count(self) -> int:
        """How many filters are set, for the "filters (3)" toggle."""
        if not self.is_bound or not self.is_valid():
            return 0
        data = self.cleaned_data
        keys = ("staff", "department", "tags", "added_from", "added_to", "add_way", "state")
        return sum(1 for key in keys if data.get(key) not in (None, "", [])) + bool(data["status"])


class RelationTagsForm(forms.Form):
    """The corp tags one follow relation should carry after the edit."""

    tags = forms.MultipleChoiceField(label=_("Tags"), required=False)

    def __init__(self, data, *, choices: list[tuple[str, str]]) -> None:
        super().__init__(data)
        self.fields["tags"].choices = choices
