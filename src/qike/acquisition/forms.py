"""The live code form. The service checks everything again; the form turns text into a spec."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from qike.acquisition.models import LiveCode, PoolRole
from qike.acquisition.services import LiveCodeSpec, ShiftSpec
from qike.core.models import Corp
from qike.engagement.models import WelcomeMessage
from qike.org.models import Department, Staff, StaffStatus
from qike.tags.models import Tag, TagType

SHIFT_LINE = re.compile(
    r"^(?P<days>[1-7](?:\s*[-,]\s*[1-7])*)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})"
    r"\s+(?P<users>\S.*)$"
)


def _weekdays(text: str) -> tuple[int, ...]:
    """ "1-5" or "1,3,5" (1 = Monday … 7 = Sunday) → (0, …) with 0 = Monday."""
    days: set[int] = set()
    for part in text.replace(" ", "").split(","):
        first, _sep, last = part.partition("-")
        low, high = int(first), int(last or first)
        if high < low:
            raise forms.ValidationError(_("Weekday ranges go from low to high, e.g. 1-5."))
        days.update(range(low - 1, high))
    return tuple(sorted(days))


def _time(text: str) -> dt.time:
    hour, minute = (int(v) for v in text.split(":"))
    if hour == 24 and minute == 0:
        return dt.time(0, 0)
    try:
        return dt.time(hour, minute)
    except ValueError as exc:
        raise forms.ValidationError(_("%(time)s is not a time of day.") % {"time": text}) from exc


def parse_shifts(text: str) -> tuple[ShiftSpec, ...]:
    shifts = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        found = SHIFT_LINE.match(line)
        if found is None:
            raise forms.ValidationError(
                _(
                    "Line %(n)d: write weekdays, hours and members, e.g. 1-5 09:00-18:00 zhangsan,lisi"
                )
                % {"n": number}
            )
        users = tuple(u for u in re.split(r"[\s,，、]+", found["users"]) if u)
        shifts.append(
            ShiftSpec(
                weekdays=_weekdays(found["days"]),
                start=_time(found["start"]),
                end=_time(found["end"]),
                userids=users,
            )
        )
    return tuple(shifts)


def format_shifts(code: LiveCode) -> str:
    lines = []
    for schedule in code.schedules.prefetch_related("staff"):
        days = ",".join(str(d + 1) for d in schedule.weekdays)
        users = ",".join(s.userid for s in schedule.staff.all())
        lines.append(f"{days} {schedule.start:%H:%M}-{schedule.end:%H:%M} {users}")
    return "\n".join(lines)


class LiveCodeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64)
    channel_group = forms.CharField(label=_("Channel group"), max_length=64, required=False)
    remark = forms.CharField(label=_("Remark"), max_length=200, required=False)
    skip_verify = forms.BooleanField(
        label=_("Add without verification"), required=False, initial=True
    )
    staff = forms.ModelMultipleChoiceField(
        label=_("Staff"), queryset=Staff.objects.none(), to_field_name="userid", required=False
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("Departments"),
        queryset=Department.objects.none(),
        to_field_name="wecom_id",
        required=False,
        help_text=_("All members of these departments and their sub-departments take part."),
    )
    backup_staff = forms.ModelMultipleChoiceField(
        label=_("Backup staff"),
        queryset=Staff.objects.none(),
        to_field_name="userid",
        required=False,
        help_text=_("Take the adds when everyone else is capped or off duty."),
    )
    daily_cap = forms.IntegerField(
        label=_("Daily cap per staff member"),
        min_value=1,
        required=False,
        help_text=_("A member who reaches it leaves the code until tomorrow. Empty: no cap."),
    )
    spread_evenly = forms.BooleanField(label=_("Spread adds evenly"), required=False, initial=True)
    shifts = forms.CharField(
        label=_("Shifts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line: weekdays (1 = Monday), hours and members, e.g. "
            "1-5 09:00-18:00 zhangsan,lisi. Outside every shift the backups take over."
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
        staff = Staff.objects.filter(corp=corp, status=StaffStatus.ACTIVE).order_by("name")
        self.fields["staff"].queryset = staff
        self.fields["backup_staff"].queryset = staff
        self.fields["departments"].queryset = Department.objects.filter(corp=corp).order_by("path")
        self.fields["tags"].queryset = Tag.objects.filter(corp=corp, type=TagType.CORP).order_by(
            "group__name", "name"
        )
        self.fields["welcome_message"].queryset = WelcomeMessage.objects.filter(corp=corp)

    def clean_shifts(self) -> tuple[ShiftSpec, ...]:
        return parse_shifts(self.cleaned_data.get("shifts", ""))

    def spec(self) -> LiveCodeSpec:
        data = self.cleaned_data
        welcome = data.get("welcome_message")
        return LiveCodeSpec(
            name=data["name"],
            channel_group=data.get("channel_group", ""),
            remark=data.get("remark", ""),
            skip_verify=data.get("skip_verify", False),
            userids=tuple(s.userid for s in data.get("staff") or ()),
            department_ids=tuple(d.wecom_id for d in data.get("departments") or ()),
            backup_userids=tuple(s.userid for s in data.get("backup_staff") or ()),
            tag_ids=tuple(t.wecom_id for t in data.get("tags") or ()),
            welcome_message_id=welcome.pk if welcome else None,
            daily_cap=data.get("daily_cap"),
            spread_evenly=data.get("spread_evenly", False),
            shifts=data.get("shifts") or (),
        )


def initial_for(code: LiveCode) -> dict:
    members = code.members.select_related("staff")
    return {
        "name": code.name,
        "channel_group": code.channel_group,
        "remark": code.remark,
        "skip_verify": code.skip_verify,
        "staff": [m.staff.userid for m in members if m.role == PoolRole.MAIN],
        "backup_staff": [m.staff.userid for m in members if m.role == PoolRole.BACKUP],
        "departments": [
            d.department.wecom_id for d in code.departments.select_related("department")
        ],
        "daily_cap": code.daily_cap,
        "spread_evenly": code.spread_evenly,
        "shifts": format_shifts(code),
        "tags": [t.wecom_id for t in code.tags.all()],
        "welcome_message": code.welcome_message_id,
    }
