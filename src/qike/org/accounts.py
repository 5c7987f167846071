"""Console accounts: who may log in to a corp, with which role, seeing which departments.

A WeCom member's account is named after their userid, so staff log in with the name they know
(a password set by an admin for now; a WeCom OAuth login can later find the same account through
`Membership.staff`). Admins and operations people who are not WeCom members get a plain account.

Super admins (Django superusers) see every corp; only a super admin may create or change one.
An account that also works in other corps may be changed only by a super admin: a corp admin
resetting its password would otherwise take over the other corps too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from qike.audit.services import record
from qike.org.access import SUPER_ADMIN, Access, Action
from qike.org.models import Department, Membership, Role, Staff, StaffStatus

# Django's own validators (their messages are translated by Django), configured here because
# the project's settings name none.
PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
USERNAME_MAX_LENGTH = User._meta.get_field("username").max_length
ROLE_CHOICES = [*Role.choices]


@dataclass(frozen=True)
class Account:
    """One console account as a corp admin sees it."""

    user: User
    role: str
    membership: Membership | None  # None for a super admin (they belong to no single corp)

    @property
    def is_super_admin(self) -> bool:
        return self.membership is None


def assignable_roles(access: Access) -> list[str]:
    """The roles this user may hand out: corp admins cannot make super admins."""
    roles = [str(value) for value in Role.values]
    if access.role == SUPER_ADMIN:
        roles.append(SUPER_ADMIN)
    return roles


# --- reading ----------------------------------------------------------------------------------


def memberships(access: Access) -> QuerySet[Membership]:
    """The corp's accounts with everything the users page shows, in three queries."""
    access.require(Action.MANAGE_USERS)
    return (
        Membership.objects.filter(corp=access.corp)
        .select_related("user", "staff")
        .prefetch_related(Prefetch("departments", queryset=Department.objects.order_by("path")))
        .order_by("role", "user__username")
    )


def super_admins(access: Access) -> list[User]:
    access.require(Action.MANAGE_USERS)
    return list(User.objects.filter(is_superuser=True).order_by("username"))


def get_membership(access: Access, pk: int) -> Membership:
    """One account of this corp; another corp's (or none) is not found."""
    access.require(Action.MANAGE_USERS)
    membership = (
        Membership.objects.filter(corp=access.corp, pk=pk).select_related("user", "staff").first()
    )
    if membership is None:
        raise Http404
    return membership


def get_super_admin(access: Access, user_pk: int) -> User:
    access.require(Action.MANAGE_USERS)
    user = User.objects.filter(pk=user_pk, is_superuser=True).first()
    if user is None:
        raise Http404
    return user


def members_without_account(access: Access) -> QuerySet[Staff]:
    """WeCom members of the corp who may still get an account (not left, none yet)."""
    access.require(Action.MANAGE_USERS)
    return (
        Staff.objects.filter(corp=access.corp)
        .exclude(status=StaffStatus.LEFT)
        .exclude(memberships__corp=access.corp)
        .order_by("name", "userid")
    )


# --- checks -----------------------------------------------------------------------------------


def _check_role(access: Access, role: str) -> None:
    if role not in assignable_roles(access):
        if role == SUPER_ADMIN:
            raise PermissionDenied(_("Only a super admin may make another super admin."))
        raise ValidationError(_("Choose a role."), code="role")


def _check_password(password: str, user: User | None = None) -> None:
    if not password:
        raise ValidationError(_("Set a password."), code="password")
    validators = password_validation.get_password_validators(PASSWORD_VALIDATORS)
    password_validation.validate_password(password, user, password_validators=validators)


def _check_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise ValidationError(_("Give the account a login name."), code="username")
    if len(username) > USERNAME_MAX_LENGTH:
        raise ValidationError(
            _("A login name may have at most %(max)d characters.") % {"max": USERNAME_MAX_LENGTH},
            code="username",
        )
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        raise ValidationError(exc.messages[0], code="username") from exc
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            _("The login name %(name)s is already taken.") % {"name": username}, code="username"
        )
    return username


def _member_username(staff: Staff, corp_corpid: str) -> str:
    """The member's userid, or userid@corpid when another corp's member already has it."""
    for candidate in (staff.userid, f"{staff.userid}@{corp_corpid}"):
        if len(candidate) <= USERNAME_MAX_LENGTH and not (
            User.objects.filter(username__iexact=candidate).exists()
        ):
            return candidate
    raise ValidationError(
        _("Both %(userid)s and %(userid)s@%(corpid)s are taken as login names; enter another one.")
        % {"userid": staff.userid, "corpid": corp_corpid},
        code="username",
    )


def _check_staff(access: Access, staff: Staff | None, *, membership: Membership | None) -> None:
    if staff is None:
        return
    if staff.corp_id != access.corp.pk:
        raise Http404
    if staff.status == StaffStatus.LEFT:
        raise ValidationError(
            _("%(member)s has left the corp and cannot get an account.") % {"member": staff},
            code="staff",
        )
    taken = Membership.objects.filter(corp=access.corp, staff=staff)
    if membership is not None:
        taken = taken.exclude(pk=membership.pk)
    if taken.exists():
        raise ValidationError(
            _("%(member)s already has a console account.") % {"member": staff}, code="staff"
        )


def _check_scope(
    access: Access, role: str, staff: Staff | None, departments: list[Department]
) -> None:
    """A staff account needs its WeCom member (it sees that member's customers); a manager needs
    departments, or a member who leads some (WeCom's leader flag is the default scope)."""
    for department in departments:
        if department.corp_id != access.corp.pk:
            raise Http404
    if role == Role.STAFF and staff is None:
        raise ValidationError(
            _("A staff account sees the customers of one WeCom member: choose the member."),
            code="staff",
        )
    if role == Role.MANAGER and not departments:
        leads = staff is not None and staff.staffdepartment_set.filter(is_leader=True).exists()
        if not leads:
            raise ValidationError(
                _("Choose the departments this manager sees."), code="departments"
            )


def _check_may_change(access: Access, user: User) -> None:
    """Whether `access` may change this account's password or switch it off."""
    if user.is_superuser and access.role != SUPER_ADMIN:
        raise PermissionDenied(_("Only a super admin may change a super admin's account."))
    if access.role == SUPER_ADMIN:
        return
    elsewhere = Membership.objects.filter(user=user).exclude(corp=access.corp).exists()
    if elsewhere:
        raise PermissionDenied(
            _("This account also works in other corps; only a super admin may change it.")
        )


def _check_not_self(access: Access, user: User, message: str) -> None:
    # Demoting or switching off one's own account would lock the admin out of this page.
    if user.pk == access.user_id:
        raise ValidationError(message, code="self")


# --- changes ----------------------------------------------------------------------------------


@transaction.atomic
def create_account(
    *,
    access: Access,
    role: str,
    password: str,
    staff: Staff | None = None,
    username: str = "",
    name: str = "",
    email: str = "",
    departments: Iterable[Department] = (),
) -> Account:
    """A console account for a WeCom member (`staff`) or for someone who is not one."""
    access.require(Action.MANAGE_USERS)
    _check_role(access, role)
    departments = list(departments)
    _check_staff(access, staff, membership=None)
    if role != SUPER_ADMIN:
        _check_scope(access, role, staff, departments)
    if username.strip():
        username = _check_username(username)
    elif staff is not None:
        username = _member_username(staff, access.corp.corpid)
    else:
        username = _check_username(username)
    user = User(
        username=username,
        first_name=(name.strip() or (staff.name if staff else ""))[:150],
        email=email.strip(),
        is_superuser=role == SUPER_ADMIN,
        is_staff=role == SUPER_ADMIN,  # super admins also run Django's admin site
    )
    _check_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    after = {
        "role": role,
        "staff": staff.userid if staff else "",
        "departments": _names(departments),
    }
    record(corp=access.corp, action="org.account_create", target=user, after=after)
    if role == SUPER_ADMIN:
        return Account(user=user, role=SUPER_ADMIN, membership=None)
    membership = Membership.objects.create(corp=access.corp, user=user, role=role, staff=staff)
    if role == Role.MANAGER:
        membership.departments.set(departments)
    return Account(user=user, role=role, membership=membership)


def _names(departments: Iterable[Department]) -> list[str]:
    return [department.name for department in departments]


def _membership_state(membership: Membership) -> dict:
    return {
        "role": membership.role,
        "staff": membership.staff.userid if membership.staff else "",
        "departments": _names(membership.departments.all()),
    }


@transaction.atomic
def update_membership(
    *,
    access: Access,
    membership: Membership,
    role: str,
    staff: Staff | None,
    departments: Iterable[Department] = (),
) -> Membership:
    """Change an account's role in this corp, its WeCom member and a manager's departments."""
    access.require(Action.MANAGE_USERS)
    if membership.corp_id != access.corp.pk:
        raise Http404
    if role == SUPER_ADMIN:
        raise ValidationError(
            _("A corp account cannot become a super admin; create a super admin account instead."),
            code="role",
        )
    _check_role(access, role)
    if role != membership.role:
        _check_not_self(access, membership.user, _("You cannot change your own role."))
    departments = list(departments)
    _check_staff(access, staff, membership=membership)
    _check_scope(access, role, staff, departments)
    before = _membership_state(membership)
    membership.role = role
    membership.staff = staff
    membership.save(update_fields=["role", "staff"])
    membership.departments.set(departments if role == Role.MANAGER else [])
    record(
        corp=access.corp,
        action="org.role_change",
        target=membership.user,
        before=before,
        after=_membership_state(membership),
    )
    return membership


@transaction.atomic
def set_password(*, access: Access, user: User, password: str) -> None:
    access.require(Action.MANAGE_USERS)
    _check_in_corp(access, user)
    _check_may_change(access, user)
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    record(corp=access.corp, action="org.password_set", target=user)  # never the password itself


@transaction.atomic
def set_active(*, access: Access, user: User, active: bool) -> None:
    """Switch an account off (it can no longer log in or use its API tokens) or on again."""
    access.require(Action.MANAGE_USERS)
    _check_in_corp(access, user)
    _check_may_change(access, user)
    if not active:
        _check_not_self(access, user, _("You cannot deactivate your own account."))
    before = {"active": user.is_active}
    user.is_active = active
    user.save(update_fields=["is_active"])
    record(
        corp=access.corp,
        action="org.account_activate" if active else "org.account_deactivate",
        target=user,
        before=before,
        after={"active": active},
    )


def _check_in_corp(access: Access, user: User) -> None:
    if user.is_superuser:
        return
    if not Membership.objects.filter(corp=access.corp, user=user).exists():
        raise Http404
