"""Console accounts: created for WeCom members or others, with roles only an allowed admin gives."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from qike.org import accounts
from qike.org.access import SUPER_ADMIN, access_for
from qike.org.models import Membership, Role, Staff, StaffStatus
from tests.console.world import World, build_world, user

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Yunfan-2024-pass"


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def admin(world):
    return access_for(world.users["admin"], world.corp)


@pytest.fixture
def root(world):
    return access_for(User.objects.create_superuser("root", password=GOOD_PASSWORD), world.corp)


def test_a_member_gets_an_account_named_after_their_userid(admin, world):
    account = accounts.create_account(
        access=admin, role=Role.STAFF, password=GOOD_PASSWORD, staff=world.staff["service"]
    )
    assert account.user.username == "zhang.san"
    assert account.user.first_name == "张三"
    assert authenticate(username="zhang.san", password=GOOD_PASSWORD) == account.user
    seen = access_for(account.user, world.corp)
    assert (seen.role, seen.staff_id) == (Role.STAFF, world.staff["service"].pk)


def test_a_taken_userid_becomes_userid_at_corpid(admin, world):
    User.objects.create_user("zhang.san")  # someone in another corp
    account = accounts.create_account(
        access=admin, role=Role.STAFF, password=GOOD_PASSWORD, staff=world.staff["service"]
    )
    assert account.user.username == "zhang.san@wwconsole"


def test_a_member_has_one_account_per_corp(admin, world):
    # li.lei already has the manager account of the world
    with pytest.raises(ValidationError, match="already has a console account"):
        accounts.create_account(
            access=admin, role=Role.STAFF, password=GOOD_PASSWORD, staff=world.staff["sales"]
        )


def test_someone_who_left_gets_no_account(admin, world):
    Staff.objects.filter(pk=world.staff["service"].pk).update(status=StaffStatus.LEFT)
    world.staff["service"].refresh_from_db()
    with pytest.raises(ValidationError, match="left the corp"):
        accounts.create_account(
            access=admin, role=Role.STAFF, password=GOOD_PASSWORD, staff=world.staff["service"]
        )


def test_an_operations_person_who_is_no_member_needs_a_login_name(admin, world):
    with pytest.raises(ValidationError, match="login name"):
        accounts.create_account(access=admin, role=Role.OPERATIONS, password=GOOD_PASSWORD)
    account = accounts.create_account(
        access=admin, role=Role.OPERATIONS, password=GOOD_PASSWORD, username="yunying", name="运营"
    )
    assert access_for(account.user, world.corp).role == Role.OPERATIONS


def test_a_staff_account_needs_its_member_and_a_manager_departments(admin, world):
    with pytest.raises(ValidationError, match="choose the member"):
        accounts.create_account(
            access=admin, role=Role.STAFF, password=GOOD_PASSWORD, username="x1"
        )
    with pytest.raises(ValidationError, match="departments"):
        accounts.create_account(
            access=admin, role=Role.MANAGER, password=GOOD_PASSWORD, username="x2"
        )
    account = accounts.create_account(
        access=admin,
        role=Role.MANAGER,
        password=GOOD_PASSWORD,
        username="x3",
        departments=[world.departments["sales"]],
    )
    assert access_for(account.user, world.corp).department_paths == ("/1/2/",)
    assert not User.objects.filter(username__in=["x1", "x2"]).exists()


def test_weak_passwords_are_refused_and_nothing_is_written(admin):
    for weak in ["short", "12345678901", "password123"]:
        with pytest.raises(ValidationError):
            accounts.create_account(
                access=admin, role=Role.OPERATIONS, password=weak, username="weak"
            )
    assert not User.objects.filter(username="weak").exists()


def test_a_corp_admin_cannot_make_super_admins(admin):
    with pytest.raises(PermissionDenied):
        accounts.create_account(
            access=admin, role=SUPER_ADMIN, password=GOOD_PASSWORD, username="sneaky"
        )
    assert not User.objects.filter(username="sneaky").exists()


def test_a_super_admin_can(root):
    account = accounts.create_account(
        access=root, role=SUPER_ADMIN, password=GOOD_PASSWORD, username="root2"
    )
    assert account.user.is_superuser
    assert not Membership.objects.filter(user=account.user).exists()


def test_other_roles_may_not_manage_accounts(world):
    for key in ("ops", "manager", "seller"):
        access = access_for(world.users[key], world.corp)
        with pytest.raises(PermissionDenied):
            accounts.create_account(
                access=access, role=Role.STAFF, password=GOOD_PASSWORD, staff=world.staff["boss"]
            )


def test_changing_role_and_departments(admin, world):
    membership = Membership.objects.get(user=world.users["seller"])
    accounts.update_membership(
        access=admin,
        membership=membership,
        role=Role.MANAGER,
        staff=membership.staff,
        departments=[world.departments["root"]],
    )
    assert access_for(world.users["seller"], world.corp).department_paths == ("/1/",)
    accounts.update_membership(
        access=admin, membership=membership, role=Role.OPERATIONS, staff=None
    )
    membership.refresh_from_db()
    assert membership.role == Role.OPERATIONS and not membership.departments.exists()


def test_an_admin_cannot_change_their_own_role_or_deactivate_themselves(admin, world):
    own = Membership.objects.get(user=world.users["admin"])
    with pytest.raises(ValidationError, match="own role"):
        accounts.update_membership(access=admin, membership=own, role=Role.STAFF, staff=None)
    with pytest.raises(ValidationError, match="own account"):
        accounts.set_active(access=admin, user=world.users["admin"], active=False)


def test_deactivated_accounts_cannot_log_in_until_reactivated(admin, world):
    seller = world.users["seller"]
    accounts.set_active(access=admin, user=seller, active=False)
    with pytest.raises(Http404):
        access_for(User.objects.get(pk=seller.pk), world.corp)
    accounts.set_active(access=admin, user=seller, active=True)
    assert access_for(User.objects.get(pk=seller.pk), world.corp).role == Role.STAFF


def test_passwords_of_accounts_elsewhere_are_out_of_reach(admin, world):
    # another corp's account: not found; one that also works in another corp: forbidden
    with pytest.raises(Http404):
        accounts.set_password(access=admin, user=world.users["outsider"], password=GOOD_PASSWORD)
    both = user("both", world.corp, Role.STAFF, staff=world.staff["boss"])
    Membership.objects.create(user=both, corp=world.other, role=Role.CORP_ADMIN)
    with pytest.raises(PermissionDenied, match="other corps"):
        accounts.set_password(access=admin, user=both, password=GOOD_PASSWORD)
    superuser = User.objects.create_superuser("root", password="x")
    with pytest.raises(PermissionDenied):
        accounts.set_password(access=admin, user=superuser, password=GOOD_PASSWORD)


def test_set_password(admin, world):
    accounts.set_password(access=admin, user=world.users["seller"], password=GOOD_PASSWORD)
    assert authenticate(username="han.mei", password=GOOD_PASSWORD) is not None
