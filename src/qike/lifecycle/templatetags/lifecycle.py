"""Template helpers: counts by stage id, and the stage and latest follow-up of each relation on
the customer page (a fixed number of queries however many relations)."""

from __future__ import annotations

from django import template

from qike.lifecycle import services
from qike.lifecycle.models import FollowUp, RelationStage

register = template.Library()


@register.filter
def get_count(counts: dict, key) -> int:
    return counts.get(key, 0)


@register.simple_tag
def lifecycle_rows(items: list[dict]) -> list[dict]:
    """[{relation, stage, since, latest}] for the customer page's relations (in the user's
    scope already)."""
    relations = [item["relation"] for item in items]
    if not relations:
        return []
    ids = [r.pk for r in relations]
    rows = {
        row.relation_id: row
        for row in RelationStage.objects.filter(relation_id__in=ids).select_related("stage")
    }
    latest: dict[int, FollowUp] = {}
    for follow_up in FollowUp.objects.filter(relation_id__in=ids).order_by(
        "relation_id", "-happened_at", "-pk"
    ):
        latest.setdefault(follow_up.relation_id, follow_up)
    first = services.first_stage(relations[0].corp)
    out = []
    for relation in relations:
        row = rows.get(relation.pk)
        out.append(
            {
                "relation": relation,
                "stage": row.stage if row else first,
                "since": row.entered_at if row else relation.added_at,
                "latest": latest.get(relation.pk),
            }
        )
    return out
