"""Database ids typed by people (query strings, form lists): read safely, never a 500."""

from __future__ import annotations

MAX_DB_INT = 2**63 - 1  # the largest id a database column holds; larger ones are simply not found


def parse_id(value: object) -> int | None:
    """The id in `value` ("12" → 12), or None for anything else: "", "abc", "-1", "²" (a digit to
    str.isdigit, not to int), or a number no database column holds."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_DB_INT else None
