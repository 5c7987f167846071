"""The console's navigation: URL names (namespace "console") and who sees each entry."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from qike.org.access import Access, Action


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    action: Action | None  # None: everyone with access to the corp


NAV = [
    NavItem("console:dashboard", _("Dashboard"), Action.VIEW_CUSTOMERS),
    NavItem("console:customers", _("Customers"), Action.VIEW_CUSTOMERS),
    NavItem("console:org", _("Organisation"), Action.VIEW_ORG),
    NavItem("console:tags", _("Tags"), Action.VIEW_CUSTOMERS),
    NavItem("console:welcome_messages", _("Welcome messages"), Action.VIEW_CUSTOMERS),
    NavItem("console:welcome_sends", _("Welcome sends"), Action.VIEW_CUSTOMERS),
    NavItem("console:live_codes", _("Live codes"), Action.VIEW_ORG),
    NavItem("console:staff_cards", _("Staff QR cards"), Action.VIEW_ORG),
    NavItem("console:stores", _("Store codes"), Action.VIEW_ORG),
    NavItem("console:acquisition_links", _("Acquisition links"), Action.VIEW_ORG),
    NavItem("console:leads", _("Leads"), Action.VIEW_CUSTOMERS),
    NavItem("console:phone_tasks", _("Phone tasks"), Action.VIEW_CUSTOMERS),
    NavItem("console:referrals", _("Referrals"), Action.VIEW_CUSTOMERS),
    NavItem("console:events", _("Events"), Action.VIEW_EVENTS),
    NavItem("console:users", _("Users & roles"), Action.MANAGE_USERS),
    NavItem("console:api_tokens", _("API tokens"), Action.MANAGE_API_TOKENS),
    NavItem("console:audit", _("Audit trail"), Action.VIEW_AUDIT),
    NavItem("console:settings", _("Corp settings"), Action.MANAGE_CORP),
]


def visible_nav(access: Access) -> list[NavItem]:
    return [item for item in NAV if item.action is None or access.can(item.action)]
