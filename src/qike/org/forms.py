"""Forms of the organisation page and of the users & roles pages."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from qike.org import accounts
from qike.org.access import SUPER_ADMIN, Access
from qike.org.models import Department, Role, Staff, StaffStatus

ROLE_LABELS = {
    SUPER_ADMIN: _("super admin (all corps)"),
    **{value: label for value, label in Role.choices},
}
ROLE_HELP = {
    SUPER_ADMIN: _("Everything, in every corp."),
    Role.CORP_ADMIN: _("Everything in this corp: settings, users, API tokens."),
    Role.OPERATIONS: _("All customers of the corp, tags, events and campaigns; no settings."),
    Role.MANAGER: _("The customers of the staff in the chosen departments and below."),
    Role.STAFF: _("Only the customers the linked WeCom member follows."),
}
# Django's password validators raise these codes; they belong under the password field.
PASSWORD_CODES = {
    "password",
    "password_too_short",
    "password_too_common",
    "password_entirely_numeric",
    "password_too_similar",
}


class StaffFilterForm(forms.Form):
    """The organisation page's filters (GET)."""

    department = forms.IntegerField(required=False, widget=forms.HiddenInput)
    q = forms.CharField(label=_("Name or UserID"), required=False, max_length=64, strip=True)
    left = forms.BooleanField(label=_("Include staff who left"), required=False)


class DepartmentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        # Indented by depth so the flat list reads as the tree it is.
        return f"{'　' * (obj.depth - 1)}{obj.name}"


def _department_field() -> DepartmentChoiceField:
    return DepartmentChoiceField(
        label=_("Managed departments"),
        queryset=Department.objects.none(),
        required=False,
        help_text=_(
            "A department manager sees these departments and everything below them. Left "
            "empty, the departments the member leads in WeCom."
        ),
    )


def _member_field() -> forms.CharField:
    return forms.CharField(
        label=_("WeCom member (UserID)"),
        required=False,
        max_length=64,
        strip=True,
        widget=forms.TextInput(attrs={"list": "members", "autocomplete": "off"}),
        help_text=_("The member whose customers a staff account sees; they log in with it."),
    )


class _AccountForm(forms.Form):
    """Shared by the create and edit forms: the role, the WeCom member, the departments."""

    def __init__(self, data=None, *, access: Access, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.access = access
        self.fields["role"].choices = [
            (role, ROLE_LABELS[role]) for role in accounts.assignable_roles(access)
        ]
        # The page shows the departments only while "department manager" is chosen.
        self.fields["role"].widget.attrs["x-model"] = "role"
        self.fields["departments"].queryset = Department.objects.filter(corp=access.corp).order_by(
            "path"
        )

    def clean_member(self) -> Staff | None:
        userid = self.cleaned_data.get("member") or ""
        if not userid:
            return None
        staff = Staff.objects.filter(corp=self.access.corp, userid=userid).first()
        if staff is None:
            raise ValidationError(
                _("No WeCom member has the UserID %(userid)s.") % {"userid": userid}
            )
        if staff.status == StaffStatus.LEFT:
            raise ValidationError(_("%(member)s has left the corp.") % {"member": staff})
        return staff

    def apply_service_error(self, exc: ValidationError) -> None:
        """Put a service's ValidationError under the field it is about."""
        fields = {
            "role": "role",
            "staff": "member",
            "departments": "departments",
            "username": "username",
        }
        if hasattr(exc, "error_dict"):
            for name, field_errors in exc.error_dict.items():
                self.add_error(name if name in self.fields else None, field_errors)
            return
        for error in exc.error_list:
            name = "password1" if error.code in PASSWORD_CODES else fields.get(error.code or "")
            self.add_error(name if name in self.fields else None, error)


def _password_fields(form: forms.Form, *, required: bool = True) -> None:
    form.fields["password1"] = forms.CharField(
        label=_("Password"),
        required=required,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only digits, not a common password."),
    )
    form.fields["password2"] = forms.CharField(
        label=_("Password again"),
        required=required,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


def _check_passwords_match(form: forms.Form, cleaned: dict) -> None:
    first, second = cleaned.get("password1"), cleaned.get("password2")
    if first and second and first != second:
        form.add_error("password2", _("The two passwords differ."))


class AccountCreateForm(_AccountForm):
    member = _member_field()
    username = forms.CharField(
        label=_("Login name"),
        required=False,
        max_length=150,
        strip=True,
        help_text=_(
            "For a WeCom member, leave empty: they log in with their UserID (or "
            "UserID@CorpID when that is taken)."
        ),
    )
    name = forms.CharField(label=_("Full name"), required=False, max_length=150, strip=True)
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(label=_("Role"))
    departments = _department_field()

    def __init__(self, data=None, *, access: Access, **kwargs) -> None:
        super().__init__(data, access=access, **kwargs)
        _password_fields(self)
        self.fields["role"].initial = Role.STAFF

    def clean(self) -> dict:
        cleaned = super().clean()
        _check_passwords_match(self, cleaned)
        if not cleaned.get("member") and not cleaned.get("username") and "member" in cleaned:
            self.add_error(
                "username", _("Choose a WeCom member, or give a login name for someone else.")
            )
        return cleaned


class MembershipForm(_AccountForm):
    role = forms.ChoiceField(label=_("Role"))
    member = _member_field()
    departments = _department_field()

    def __init__(self, data=None, *, access: Access, **kwargs) -> None:
        super().__init__(data, access=access, **kwargs)
        # An existing corp account cannot turn into a super admin (a super admin has no corp).
        self.fields["role"].choices = [
            choice for choice in self.fields["role"].choices if choice[0] != SUPER_ADMIN
        ]


class PasswordForm(forms.Form):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _password_fields(self)

    def clean(self) -> dict:
        cleaned = super().clean()
        _check_passwords_match(self, cleaned)
        return cleaned

    def apply_service_error(self, exc: ValidationError) -> None:
        for message in exc.messages:
            self.add_error("password1", message)
