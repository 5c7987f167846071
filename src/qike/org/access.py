"""Who may see and do what, decided once per request and obeyed by the console and the API alike.

Another corp's object is *not found* (404): Qike does not even confirm it exists. An object in the
user's corp but outside their scope is *forbidden* (403).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from qike.core.models import Corp
from qike.org.models import Department, Membership, Role, StaffDepartment


class Action(StrEnum):
    VIEW_CUSTOMERS = "view_customers"
    TAG_CUSTOMERS = "tag_customers"
    EXPORT = "export"
    VIEW_ORG = "view_org"
    MANAGE_TAGS = "manage_tags"
    VIEW_EVENTS = "view_events"
    REPLAY_EVENTS = "replay_events"
    MANAGE_CORP = "manage_corp"
    MANAGE_USERS = "manage_users"
    MANAGE_API_TOKENS = "manage_api_tokens"
    RUN_CAMPAIGNS = "run_campaigns"
    VIEW_AUDIT = "view_audit"  # corp admins (and super admins): the audit trail
    TRANSFER_CUSTOMERS = (
        "transfer_customers"  # on-job and resigned hand-over (managers: their scope)
    )


SUPER_ADMIN = "super_admin"

_ALLOWED: dict[str, set[Action]] = {
    SUPER_ADMIN: set(Action),
    Role.CORP_ADMIN: set(Action),
    Role.OPERATIONS: {
        Action.VIEW_CUSTOMERS,
        Action.TAG_CUSTOMERS,
        Action.EXPORT,
        Action.VIEW_ORG,
        Action.MANAGE_TAGS,
        Action.VIEW_EVENTS,
        Action.RUN_CAMPAIGNS,
        Action.TRANSFER_CUSTOMERS,
    },
    Role.MANAGER: {
        Action.VIEW_CUSTOMERS,
        Action.TAG_CUSTOMERS,
        Action.EXPORT,
        Action.VIEW_ORG,
        Action.TRANSFER_CUSTOMERS,
    },
    Role.STAFF: {Action.VIEW_CUSTOMERS, Action.TAG_CUSTOMERS},
}


@dataclass(frozen=True)
class Access:
    """One user's rights in one corp."""

    corp: Corp
    role: str
    user_id: int | None = None
    staff_id: int | None = None  # the WeCom member behind a staff account
    department_paths: tuple[str, ...] = field(default=())  # a manager's subtrees

    @property
    def corp_wide(self) -> bool:
        return self.role in (SUPER_ADMIN, Role.CORP_ADMIN, Role.OPERATIONS)

    def can(self, action: Action) -> bool:
        return action in _ALLOWED.get(self.role, set())

    def require(self, action: Action) -> None:
        if not self.can(action):
            raise PermissionDenied(_("Your role may not do this."))

    def staff_filter(self, prefix: str = "") -> Q:
        """A Q over Staff (or over a model with a `staff` FK, given prefix "staff__") limited to the
        members this access may see. Corp-wide roles get everything in the corp."""
        if self.corp_wide:
            return Q()
        if self.role == Role.STAFF:
            return Q(**{f"{prefix}pk": self.staff_id or -1})
        if not self.department_paths:
            return Q(**{f"{prefix}pk": -1})
        in_subtree = Q()
        for path in self.department_paths:
            in_subtree |= Q(department__path__startswith=path)
        member_ids = StaffDepartment.objects.filter(in_subtree, corp=self.corp).values("staff_id")
        return Q(**{f"{prefix}pk__in": member_ids})


def access_for(user: User, corp: Corp) -> Access:
    """The user's access to `corp`; 404 when the user has no business with that corp at all."""
    if not user.is_authenticated or not user.is_active:
        raise Http404
    if user.is_superuser:
        return Access(corp=corp, role=SUPER_ADMIN, user_id=user.pk)
    membership = Membership.objects.filter(user=user, corp=corp).select_related("staff").first()
    if membership is None:
        raise Http404
    return Access(
        corp=corp,
        role=membership.role,
        user_id=user.pk,
        staff_id=membership.staff_id,
        department_paths=_manager_paths(membership) if membership.role == Role.MANAGER else (),
    )


def _manager_paths(membership: Membership) -> tuple[str, ...]:
    chosen = list(membership.departments.values_list("path", flat=True))
    if not chosen and membership.staff_id:
        chosen = list(
            Department.objects.filter(
                staffdepartment__staff_id=membership.staff_id, staffdepartment__is_leader=True
            ).values_list("path", flat=True)
        )
    return tuple(sorted(set(chosen)))


def corps_for(user: User) -> list[Corp]:
    """The corps a user may switch between."""
    if user.is_superuser:
        return list(Corp.objects.order_by("name", "corpid"))
    return list(
        Corp.objects.filter(pk__in=Membership.objects.filter(user=user).values("corp_id")).order_by(
            "name", "corpid"
        )
    )
