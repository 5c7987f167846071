"""What every console page's layout needs: the corp, the corps to switch to, the navigation."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from qike.console.banners import banners_for
from qike.console.context import current_access
from qike.console.decorators import access_of
from qike.console.nav import visible_nav
from qike.org.access import SUPER_ADMIN, Access, corps_for
from qike.org.models import Role

ROLE_LABELS = {
    SUPER_ADMIN: _("super admin"),
    Role.CORP_ADMIN: _("corp admin"),
    Role.OPERATIONS: _("operations"),
    Role.MANAGER: _("department manager"),
    Role.STAFF: _("staff"),
}


def _access(request: HttpRequest) -> Access | None:
    access = access_of(request)
    if access is not None:
        return access
    # Pages outside console_view (login, the 403 and 404 pages) still show the layout when they can.
    try:
        return current_access(request)
    except (PermissionDenied, Http404):
        return None


def _nav(request: HttpRequest, access: Access) -> list[dict]:
    """The side navigation; an entry is current on its own page and its sub-pages
    ("console:customers" covers "console:customer_detail")."""
    match = getattr(request, "resolver_match", None)
    here = match.view_name if match else ""
    entries = []
    for item in visible_nav(access):
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue  # a page whose app is not installed (yet): no entry rather than a broken layout
        active = here == item.url_name or here.startswith(item.url_name.rstrip("s") + "_")
        entries.append({"url": url, "label": item.label, "active": active, "section": item.section})
    return entries


def console(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    base = {"console_languages": settings.LANGUAGES}
    if user is None or not user.is_authenticated:
        return base
    access = _access(request)
    if access is None:
        return {**base, "console_corps": []}
    return {
        **base,
        "console_access": access,
        "console_corp": access.corp,
        "console_corps": corps_for(user),
        "console_nav": _nav(request, access),
        "console_banners": banners_for(access),
        "console_role": ROLE_LABELS.get(access.role, access.role),
    }
