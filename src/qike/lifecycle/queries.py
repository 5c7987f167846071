"""Reading the lifecycle within a user's scope: the board's columns, counts by stage, the funnel
(by stage, staff and channel; conversion between consecutive stages; average time in a stage).

Relations come from `qike.customers.queries.filter_relations`, so the board, the list and the
funnel take exactly the customer list's filters and data scope."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Avg, Count, F, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from qike.customers.forms import add_way_label
from qike.customers.models import FollowRelation, RelationStatus
from qike.customers.queries import CustomerFilter, filter_relations
from qike.engagement.sources import source_for_state
from qike.lifecycle import services
from qike.lifecycle.models import Stage, StageChange
from qike.org.access import Access

CARDS_PER_COLUMN = 50
DAY = 86400


def annotate_stage(relations: QuerySet[FollowRelation], first: Stage) -> QuerySet:
    """`stage_id` on each relation: its stage row's, or the first stage when it has none."""
    return relations.annotate(stage_id=Coalesce(F("lifecycle_stage__stage_id"), Value(first.pk)))


def counts_by_stage(relations: QuerySet[FollowRelation], first: Stage) -> dict[int, int]:
    rows = annotate_stage(relations, first).order_by().values("stage_id").annotate(n=Count("pk"))
    return {row["stage_id"]: row["n"] for row in rows}


@dataclass
class Column:
    stage: Stage
    count: int
    cards: list[FollowRelation]


def board_relations(access: Access, filters: CustomerFilter) -> QuerySet[FollowRelation]:
    """The board shows customers being worked on: active relations only."""
    return filter_relations(access, filters).filter(status=RelationStatus.ACTIVE)


def board(access: Access, filters: CustomerFilter, limit: int = CARDS_PER_COLUMN) -> list[Column]:
    relations = board_relations(access, filters)
    all_stages = services.stages(access.corp)
    first = services.first_stage(access.corp)
    counts = counts_by_stage(relations, first)
    columns = []
    for stage in all_stages:
        cards = services.with_stage(relations.filter(services.in_stage(stage, first))).order_by(
            "-added_at", "-pk"
        )[:limit]
        columns.append(
            Column(stage, counts.get(stage.pk, 0), services.decorate(list(cards), first))
        )
    return columns


@dataclass
class FunnelStage:
    stage: Stage
    count: int  # relations in this stage now
    reached: int | None  # relations that got this far (None for exit stages)
    conversion: float | None  # reached / reached of the previous stage, in percent
    avg_days: float | None  # average completed stay, in days
    stays: int  # completed stays behind avg_days


@dataclass
class FunnelRow:
    key: str
    label: str
    counts: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Funnel:
    stages: list[FunnelStage]
    by_staff: list[FunnelRow]
    by_channel: list[FunnelRow]
    by_add_way: list[FunnelRow]
    total: int


def _reached(relations: QuerySet[FollowRelation], first: Stage, ordered: list[Stage]) -> list[int]:
    """How many relations reached each non-exit stage: the furthest of where they are now and
    where their history ever took them (a customer who left for 无意向客户 still got that far)."""
    rank = {stage.pk: i for i, stage in enumerate(ordered)}
    best: dict[int, int] = {}
    for pk, stage_id in annotate_stage(relations, first).values_list("pk", "stage_id").iterator():
        best[pk] = rank.get(stage_id, 0)
    moves = (
        StageChange.objects.filter(relation__in=relations.values("pk"), to_stage__in=ordered)
        .values("relation_id", "to_stage_id")
        .distinct()
    )
    for row in moves.iterator():
        relation_id, here = row["relation_id"], rank[row["to_stage_id"]]
        if best.get(relation_id, -1) < here:
            best[relation_id] = here
    reached = [0] * len(ordered)
    for furthest in best.values():
        for i in range(furthest + 1):
            reached[i] += 1
    return reached


def _rows(relations: QuerySet, first: Stage, key: str, label) -> list[FunnelRow]:
    rows: dict[str, FunnelRow] = {}
    grouped = annotate_stage(relations, first).order_by().values(key, "stage_id")
    for row in grouped.annotate(n=Count("pk")):
        value = str(row[key] if row[key] is not None else "")
        item = rows.setdefault(value, FunnelRow(value, label(row[key])))
        item.counts[row["stage_id"]] = row["n"]
    return sorted(rows.values(), key=lambda r: (-r.total, r.key))


def funnel(access: Access, filters: CustomerFilter) -> Funnel:
    relations = filter_relations(access, filters)
    all_stages = services.stages(access.corp)
    first = services.first_stage(access.corp)
    ordered = [s for s in all_stages if not s.is_exit]
    counts = counts_by_stage(relations, first)
    reached = _reached(relations, first, ordered)
    stays = {
        row["from_stage_id"]: row
        for row in StageChange.objects.filter(
            relation__in=relations.values("pk"), stay_seconds__isnull=False
        )
        .order_by()
        .values("from_stage_id")
        .annotate(avg=Avg("stay_seconds"), n=Count("pk"))
    }
    out = []
    for i, stage in enumerate(all_stages):
        stay = stays.get(stage.pk)
        here = reached[i] if not stage.is_exit else None
        previous = reached[i - 1] if not stage.is_exit and i > 0 else None
        out.append(
            FunnelStage(
                stage=stage,
                count=counts.get(stage.pk, 0),
                reached=here,
                conversion=round(100 * here / previous, 1) if previous else None,
                avg_days=round(stay["avg"] / DAY, 1) if stay else None,
                stays=stay["n"] if stay else 0,
            )
        )
    names = dict(
        relations.order_by().values_list("staff__userid", "staff__name").distinct().iterator()
    )
    corp = access.corp
    labels: dict[str, str] = {}

    def channel(state: str) -> str:
        if not state:
            return _("No channel")
        if state not in labels:
            source = source_for_state(corp, state)
            labels[state] = source.label if source else state
        return labels[state]

    return Funnel(
        stages=out,
        by_staff=_rows(relations, first, "staff__userid", lambda u: names.get(u) or u),
        by_channel=_rows(relations, first, "state", channel),
        by_add_way=_rows(relations, first, "add_way", add_way_label),
        total=sum(counts.values()),
    )
