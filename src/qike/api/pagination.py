"""Pages of API results: keyset cursors for the big lists, page numbers for the small ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet

from qike.api.schemas import CursorQuery, PageQuery
from qike.core.pagination import newest_first
from qike.customers.queries import count_capped


def cursor_page(queryset: QuerySet, *, field: str, params: CursorQuery) -> dict[str, Any]:
    """Newest first by `field`; a bad cursor raises BadCursor (answered 400)."""
    page = newest_first(queryset, field=field, cursor=params.cursor, size=params.size)
    total, capped = count_capped(queryset)
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "total": total,
        "total_capped": capped,
    }


def numbered_page(rows: QuerySet | Sequence, params: PageQuery) -> dict[str, Any]:
    total = rows.count() if isinstance(rows, QuerySet) else len(rows)
    start = (params.page - 1) * params.size
    return {
        "items": list(rows[start : start + params.size]),
        "page": params.page,
        "size": params.size,
        "total": total,
    }
