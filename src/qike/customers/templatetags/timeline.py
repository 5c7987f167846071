"""Display helpers for the customer timeline."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()


@register.filter
def welcome_status(value: str) -> str:
    """The translated label of a welcome send's result ("sent", "expired", …)."""
    from qike.engagement.models import SendStatus  # display only: customers does not depend on it

    try:
        return str(SendStatus(value).label)
    except ValueError:
        return value


@register.filter
def transfer_event(value: str) -> str:
    """The translated label of a hand-over step ("started", "done", "refused", …)."""
    from qike.transfers.models import ItemStatus  # display only, like welcome_status

    if value == "started":
        return str(_("hand-over started"))
    try:
        return str(ItemStatus(value).label)
    except ValueError:
        return value


@register.filter
def pool_event(value: str) -> str:
    """The translated label of a shared-pool step ("returned", "claimed", "given_back")."""
    labels = {
        "returned": _("returned to the shared pool"),
        "claimed": _("claimed from the shared pool"),
        "given_back": _("given back to the shared pool"),
    }
    return str(labels.get(value, value))
