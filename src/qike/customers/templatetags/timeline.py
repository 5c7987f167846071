"""Display helpers for the customer timeline."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def welcome_status(value: str) -> str:
    """The translated label of a welcome send's result ("sent", "expired", …)."""
    from qike.engagement.models import SendStatus  # display only: customers does not depend on it

    try:
        return str(SendStatus(value).label)
    except ValueError:
        return value
