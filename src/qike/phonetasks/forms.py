"""The upload form. The service checks everything again; this form turns input into options."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qike.core.models import Corp
from qike.org.models import Department, Staff, StaffStatus
from qike.phonetasks.imports import MAX_BYTES
from qike.phonetasks.models import DEFAULT_DAILY_CAP, MAX_DAILY_CAP, AssignMode
from qike.phonetasks.services import ImportOptions
from qike.tags.models import Tag, TagType


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        help_text=_(
            "First row: column names. A column 手机号 (or phone, mobile) is required; 姓名 (name) "
            "is recommended; other columns are kept with each task. At most 10,000 rows."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )
    name = forms.CharField(label=_("Name of the list"), max_length=64)
    assign_mode = forms.ChoiceField(
        label=_("Assignment"),
        choices=AssignMode.choices,
        initial=AssignMode.EVEN,
        widget=forms.RadioSelect,
        help_text=_(
            "By column: the file has a column 员工 (or staff, userid) with a UserID or a staff "
            "name in each row."
        ),
    )
    staff = forms.ModelMultipleChoiceField(
        label=_("Staff (for even assignment)"),
        queryset=Staff.objects.none(),
        to_field_name="userid",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("Departments (their active members, sub-departments included)"),
        queryset=Department.objects.none(),
        to_field_name="wecom_id",
        required=False,
    )
    daily_cap = forms.IntegerField(
        label=_("Daily cap per staff member"),
        min_value=1,
        max_value=MAX_DAILY_CAP,
        initial=DEFAULT_DAILY_CAP,
        help_text=_(
            "WeCom limits how many customers a member may add by phone search each day; staying "
            "at 60 or below is the usual advice. Tasks past the cap move to the next days."
        ),
    )
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags for added customers"),
        queryset=Tag.objects.none(),
        to_field_name="wecom_id",
        required=False,
    )

    def __init__(self, *args, corp: Corp, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = Staff.objects.filter(
            corp=corp, status=StaffStatus.ACTIVE
        ).order_by("name", "userid")
        self.fields["departments"].queryset = Department.objects.filter(corp=corp)
        self.fields["tags"].queryset = Tag.objects.filter(corp=corp, type=TagType.CORP).order_by(
            "group__name", "name"
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 5 MB: split it into several files.")
            )
        return upload

    def options(self) -> ImportOptions:
        data = self.cleaned_data
        return ImportOptions(
            name=data["name"],
            assign_mode=data["assign_mode"],
            daily_cap=data["daily_cap"],
            userids=tuple(s.userid for s in data.get("staff") or ()),
            department_ids=tuple(d.wecom_id for d in data.get("departments") or ()),
            tag_ids=tuple(t.wecom_id for t in data.get("tags") or ()),
        )
