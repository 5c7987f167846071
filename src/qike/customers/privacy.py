"""Customers' phone numbers are personal data: who may see them whole, and how others see them."""

from __future__ import annotations

from qike.org.access import SUPER_ADMIN, Access
from qike.org.models import Role


def reveals_phones(access: Access) -> bool:
    """Only corp admins see full phone numbers (a customer's detail, exports, the API's single
    items). Lists always mask them: a list is what a screen share or a shoulder shows."""
    return access.role in (SUPER_ADMIN, Role.CORP_ADMIN)


def mask_phone(number: str) -> str:
    """138****0000: enough to recognise a number, not enough to call it."""
    number = (number or "").strip()
    if len(number) >= 7:
        return f"{number[:3]}****{number[-4:]}"
    if len(number) > 2:
        return "*" * (len(number) - 2) + number[-2:]
    return "*" * len(number)
