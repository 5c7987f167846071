"""Counting helpers shared by the apps' list pages."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Model, QuerySet


def counts_per(
    rows: QuerySet, *, owner: str, value: str, owners: Iterable[Model]
) -> dict[int, dict[str, int]]:
    """{owner pk: {value: count}} in one query, e.g. each transfer's items per status; every owner
    is in the answer, those without rows with {}."""
    ids = [o.pk for o in owners]
    found: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    grouped = (
        rows.filter(**{f"{owner}__in": ids})
        .order_by()
        .values_list(owner, value)
        .annotate(n=Count("pk"))
    )
    for owner_pk, key, n in grouped:
        found[owner_pk][key] = n
    return found
