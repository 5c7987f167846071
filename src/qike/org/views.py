"""Console pages of the org app: the organisation (departments, staff, their customers) and the
users & roles pages (console accounts of the corp)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.console.decorators import console_view
from qike.customers.models import FollowRelation, RelationStatus
from qike.org import accounts
from qike.org.access import SUPER_ADMIN, Access, Action
from qike.org.forms import (
    ROLE_HELP,
    ROLE_LABELS,
    AccountCreateForm,
    MembershipForm,
    PasswordForm,
    StaffFilterForm,
)
from qike.org.models import Department, Membership, Role, Staff, StaffDepartment, StaffStatus

STAFF_PAGE_SIZE = 50


# --- organisation -----------------------------------------------------------------------------


@dataclass
class DepartmentNode:
    department: Department
    depth: int  # relative to the shallowest department shown, for indentation
    members: set[int] = field(default_factory=set)  # staff ids in this department's subtree
    customers: int = 0


def departments_in_scope(access: Access) -> QuerySet[Department]:
    """The corp's departments, or a manager's own subtrees."""
    departments = Department.objects.filter(corp=access.corp).order_by("path")
    if access.corp_wide:
        return departments
    if not access.department_paths:
        return departments.none()
    in_subtrees = Q()
    for path in access.department_paths:
        in_subtrees |= Q(path__startswith=path)
    return departments.filter(in_subtrees)


def _staff_in_scope(access: Access) -> QuerySet[Staff]:
    return Staff.objects.filter(corp=access.corp).filter(access.staff_filter())


def customers_per_staff(access: Access) -> dict[int, int]:
    """Active follow relations per staff member in scope: one aggregate query."""
    return dict(
        FollowRelation.objects.filter(corp=access.corp, status=RelationStatus.ACTIVE)
        .filter(access.staff_filter("staff__"))
        .values("staff_id")
        .annotate(n=Count("id"))
        .values_list("staff_id", "n")
    )


def department_tree(access: Access, customers: dict[int, int]) -> list[DepartmentNode]:
    """The departments in scope in tree order, each with the members of its subtree and their
    customers (`customers_per_staff`). Two queries, whatever the size of the corp."""
    departments = list(departments_in_scope(access))
    if not departments:
        return []
    shallowest = min(d.depth for d in departments)
    nodes = {d.wecom_id: DepartmentNode(d, d.depth - shallowest) for d in departments}
    placements = StaffDepartment.objects.filter(
        corp=access.corp, department_id__in=[d.pk for d in departments]
    ).filter(access.staff_filter("staff__"))
    wecom_ids = {d.pk: d.wecom_id for d in departments}
    for staff_id, department_id in placements.exclude(staff__status=StaffStatus.LEFT).values_list(
        "staff_id", "department_id"
    ):
        department = nodes[wecom_ids[department_id]].department
        # A member counts once in every department above theirs that is shown.
        for ancestor in department.path.strip("/").split("/"):
            node = nodes.get(int(ancestor))
            if node is not None:
                node.members.add(staff_id)
    for node in nodes.values():
        node.customers = sum(customers.get(staff_id, 0) for staff_id in node.members)
    return list(nodes.values())


def _staff_rows(
    access: Access, department: Department | None, query: str, include_left: bool
) -> QuerySet[Staff]:
    staff = _staff_in_scope(access).annotate(
        customers=Count("relations", filter=Q(relations__status=RelationStatus.ACTIVE))
    )
    if department is not None:
        staff = staff.filter(
            pk__in=StaffDepartment.objects.filter(
                corp=access.corp, department__path__startswith=department.path
            ).values("staff_id")
        )
    if query:
        staff = staff.filter(Q(name__icontains=query) | Q(userid__icontains=query))
    if not include_left:
        staff = staff.exclude(status=StaffStatus.LEFT)
    return staff.order_by("-customers", "name", "userid")


def _department_names(access: Access, staff_ids: list[int]) -> dict[int, list[Department]]:
    names: dict[int, list[Department]] = {}
    for placement in (
        StaffDepartment.objects.filter(corp=access.corp, staff_id__in=staff_ids)
        .select_related("department")
        .order_by("department__path")
    ):
        names.setdefault(placement.staff_id, []).append(placement.department)
    return names


@require_GET
@console_view
def org(request: HttpRequest, access: Access) -> HttpResponse:
    access.require(Action.VIEW_ORG)
    form = StaffFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    customers = customers_per_staff(access)
    tree = department_tree(access, customers)
    chosen = None
    if filters.get("department") is not None:
        chosen = next(
            (n.department for n in tree if n.department.wecom_id == filters["department"]), None
        )
        if chosen is None:
            # Another corp's id, an unknown one, or one outside a manager's subtrees.
            messages.error(request, _("That department is not one you can see."))
    page = Paginator(
        _staff_rows(access, chosen, filters.get("q", ""), filters.get("left", False)),
        STAFF_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    staff = list(page.object_list)
    departments = _department_names(access, [s.pk for s in staff])
    for member in staff:
        member.department_list = departments.get(member.pk, [])
    return render(
        request,
        "org/org.html",
        {
            "tree": tree,
            "chosen": chosen,
            "form": form,
            "page": page,
            "staff": staff,
            "total_customers": sum(customers.values()),
            "left_status": StaffStatus.LEFT,
            "active_status": StaffStatus.ACTIVE,
        },
    )


# --- users & roles ----------------------------------------------------------------------------


def _account_rows(access: Access) -> list[dict]:
    rows = [
        {
            "user": m.user,
            "membership": m,
            "role": m.role,
            "role_label": ROLE_LABELS.get(m.role, m.role),
            "is_manager": m.role == Role.MANAGER,
            "staff": m.staff,
            "departments": list(m.departments.all()),
        }
        for m in accounts.memberships(access)
    ]
    return rows


@require_GET
@console_view
def users(request: HttpRequest, access: Access) -> HttpResponse:
    access.require(Action.MANAGE_USERS)
    return render(
        request,
        "org/users.html",
        {
            "rows": _account_rows(access),
            "super_admins": accounts.super_admins(access),
            "may_manage_super_admins": SUPER_ADMIN in accounts.assignable_roles(access),
        },
    )


def _form_context(access: Access, form) -> dict:
    return {
        "form": form,
        "members": accounts.members_without_account(access).values_list("userid", "name"),
        "manager_role": Role.MANAGER,
        "role_help": [
            (role, ROLE_LABELS[role], ROLE_HELP[role]) for role in accounts.assignable_roles(access)
        ],
    }


@require_http_methods(["GET", "POST"])
@console_view
def user_create(request: HttpRequest, access: Access) -> HttpResponse:
    access.require(Action.MANAGE_USERS)
    if request.POST.get("role") == SUPER_ADMIN and access.role != SUPER_ADMIN:
        raise PermissionDenied(_("Only a super admin may make another super admin."))
    form = AccountCreateForm(
        request.POST or None, access=access, initial={"member": request.GET.get("member", "")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account = accounts.create_account(
                access=access,
                role=data["role"],
                password=data["password1"],
                staff=data["member"],
                username=data["username"],
                name=data["name"],
                email=data["email"],
                departments=data["departments"],
            )
        except ValidationError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(
                request,
                _("Account %(name)s created. It logs in with this name and the password you set.")
                % {"name": account.user.get_username()},
            )
            return redirect("console:users")
    status = 400 if request.method == "POST" else 200
    return render(request, "org/user_create.html", _form_context(access, form), status=status)


def _edit_context(access: Access, membership: Membership, **forms) -> dict:
    membership_form = forms.get("membership_form") or MembershipForm(
        access=access,
        initial={
            "role": membership.role,
            "member": membership.staff.userid if membership.staff else "",
            "departments": list(membership.departments.all()),
        },
    )
    return {
        **_form_context(access, membership_form),
        "membership": membership,
        "account": membership.user,
        "password_form": forms.get("password_form") or PasswordForm(),
        "role_label": ROLE_LABELS.get(membership.role, membership.role),
        "is_self": membership.user_id == access.user_id,
    }


@require_http_methods(["GET", "POST"])
@console_view
def user_edit(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    membership = accounts.get_membership(access, pk)
    if request.method == "GET":
        return render(request, "org/user_edit.html", _edit_context(access, membership))
    form = MembershipForm(request.POST, access=access)
    if form.is_valid():
        data = form.cleaned_data
        try:
            accounts.update_membership(
                access=access,
                membership=membership,
                role=data["role"],
                staff=data["member"],
                departments=data["departments"],
            )
        except ValidationError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(
                request, _("Saved %(name)s.") % {"name": membership.user.get_username()}
            )
            return redirect("console:user_edit", pk=membership.pk)
    context = _edit_context(access, membership, membership_form=form)
    return render(request, "org/user_edit.html", context, status=400)


@dataclass(frozen=True)
class _Target:
    """The account a password or activation form is about: a corp account (by membership) or,
    from the super admins table, a super admin (by user)."""

    user: User
    membership: Membership | None

    def back(self) -> HttpResponse:
        if self.membership is None:
            return redirect("console:users")
        return redirect("console:user_edit", pk=self.membership.pk)


def _target(access: Access, request: HttpRequest, pk: int) -> _Target:
    if request.POST.get("super_admin"):
        return _Target(accounts.get_super_admin(access, pk), None)
    membership = accounts.get_membership(access, pk)
    return _Target(membership.user, membership)


@require_POST
@console_view
def user_password(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    access.require(Action.MANAGE_USERS)
    target = _target(access, request, pk)
    form = PasswordForm(request.POST)
    if form.is_valid():
        try:
            accounts.set_password(
                access=access, user=target.user, password=form.cleaned_data["password1"]
            )
        except ValidationError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(
                request, _("New password set for %(name)s.") % {"name": target.user.get_username()}
            )
            return target.back()
    if target.membership is None:
        # The super admins table has no room for field errors: say it above the table.
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return target.back()
    context = _edit_context(access, target.membership, password_form=form)
    return render(request, "org/user_edit.html", context, status=400)


@require_POST
@console_view
def user_active(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    """Deactivate (or reactivate) an account."""
    access.require(Action.MANAGE_USERS)
    target = _target(access, request, pk)
    active = request.POST.get("active") == "1"
    try:
        accounts.set_active(access=access, user=target.user, active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        message = _("%(name)s can log in again.") if active else _("%(name)s is deactivated.")
        messages.success(request, message % {"name": target.user.get_username()})
    return target.back()
