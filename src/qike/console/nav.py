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
    section: str = ""  # entries of one section are listed together under its heading


CUSTOMERS = _("Customers")
ACQUISITION = _("Acquisition")
ENGAGEMENT = _("Engagement")
HAND_OVER = _("Hand-over and churn")
ADMIN = _("Administration")

NAV = [
    NavItem("console:dashboard", _("Dashboard"), Action.VIEW_CUSTOMERS, CUSTOMERS),
    NavItem("console:customers", _("Customers"), Action.VIEW_CUSTOMERS, CUSTOMERS),
    NavItem("console:lifecycle_board", _("Customer board"), Action.VIEW_CUSTOMERS, CUSTOMERS),
    NavItem("console:lifecycle_funnel", _("Funnel"), Action.VIEW_CUSTOMERS, CUSTOMERS),
    NavItem("console:tags", _("Tags"), Action.VIEW_CUSTOMERS, CUSTOMERS),
    NavItem("console:leads", _("Leads"), Action.VIEW_CUSTOMERS, CUSTOMERS),
    NavItem("console:live_codes", _("Live codes"), Action.VIEW_ORG, ACQUISITION),
    NavItem("console:staff_cards", _("Staff QR cards"), Action.VIEW_ORG, ACQUISITION),
    NavItem("console:stores", _("Store codes"), Action.VIEW_ORG, ACQUISITION),
    NavItem("console:acquisition_links", _("Acquisition links"), Action.VIEW_ORG, ACQUISITION),
    NavItem("console:phone_tasks", _("Phone tasks"), Action.VIEW_CUSTOMERS, ACQUISITION),
    NavItem("console:referrals", _("Referrals"), Action.VIEW_CUSTOMERS, ACQUISITION),
    NavItem("console:welcome_messages", _("Welcome messages"), Action.VIEW_CUSTOMERS, ENGAGEMENT),
    NavItem("console:welcome_sends", _("Welcome sends"), Action.VIEW_CUSTOMERS, ENGAGEMENT),
    NavItem("console:content", _("Content library"), Action.VIEW_CUSTOMERS, ENGAGEMENT),
    NavItem("console:quick_replies", _("Quick replies"), Action.VIEW_CUSTOMERS, ENGAGEMENT),
    NavItem("console:segments", _("Segments"), Action.VIEW_CUSTOMERS, ENGAGEMENT),
    NavItem("console:campaigns", _("Mass messages"), Action.RUN_CAMPAIGNS, ENGAGEMENT),
    NavItem("console:moments", _("Moments"), Action.RUN_CAMPAIGNS, ENGAGEMENT),
    NavItem("console:transfers", _("Transfers"), Action.TRANSFER_CUSTOMERS, HAND_OVER),
    NavItem(
        "console:resigned", _("Customers of staff who left"), Action.TRANSFER_CUSTOMERS, HAND_OVER
    ),
    NavItem("console:lost_customers", _("Lost customers"), Action.VIEW_CUSTOMERS, HAND_OVER),
    NavItem("console:pool", _("Shared pool"), Action.VIEW_CUSTOMERS, HAND_OVER),
    NavItem("console:org", _("Organisation"), Action.VIEW_ORG, ADMIN),
    NavItem("console:events", _("Events"), Action.VIEW_EVENTS, ADMIN),
    NavItem("console:users", _("Users & roles"), Action.MANAGE_USERS, ADMIN),
    NavItem("console:api_tokens", _("API tokens"), Action.MANAGE_API_TOKENS, ADMIN),
    NavItem("console:audit", _("Audit trail"), Action.VIEW_AUDIT, ADMIN),
    NavItem("console:settings", _("Corp settings"), Action.MANAGE_CORP, ADMIN),
    NavItem("console:retention_settings", _("Churn and pool settings"), Action.MANAGE_CORP, ADMIN),
]


def visible_nav(access: Access) -> list[NavItem]:
    return [item for item in NAV if item.action is None or access.can(item.action)]
