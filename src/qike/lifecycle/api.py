"""REST endpoints under /api/v1/: the pipeline, a relation's stage (get, set) and history, the
board's counts and its list, the funnel, follow-ups."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Query, Router, Status

from qike.api.auth import access_of, read_auth, write_auth
from qike.api.pagination import cursor_page
from qike.api.schemas import CursorQuery, Id, errors
from qike.core import clock
from qike.customers.models import FollowRelation
from qike.customers.queries import filter_relations, get_relation
from qike.customers.schemas import CustomerFilterQuery
from qike.lifecycle import queries, services
from qike.lifecycle.models import FollowUp, Stage, StageChange
from qike.lifecycle.schemas import (
    BoardRelationPage,
    ColumnOut,
    FollowUpCreateIn,
    FollowUpIn,
    FollowUpOut,
    FunnelOut,
    MoveIn,
    RelationStageOut,
    StageChangeOut,
    StageIn,
    StageOrderIn,
    StageOut,
)
from qike.org.access import Access

router = Router(tags=["lifecycle"], auth=read_auth)
WRITE_ERRORS = errors(400, 403, 404)


def _stage_data(stage: Stage) -> dict:
    return {
        "id": stage.pk,
        "name": stage.name,
        "order": stage.order,
        "is_exit": stage.is_exit,
        "stale_days": stage.stale_days,
        "retired_at": stage.retired_at,
    }


def _find_stage(access: Access, pk: int) -> Stage:
    stage = Stage.objects.filter(corp=access.corp, pk=pk, retired_at__isnull=True).first()
    if stage is None:
        raise Http404
    return stage


def _card(relation: FollowRelation) -> dict:
    return {
        "relation_id": relation.pk,
        "external_userid": relation.customer.external_userid,
        "name": relation.remark or relation.customer.name,
        "staff": relation.staff.userid,
        "entered_at": relation.entered_at,
        "days_in_stage": relation.days_in_stage,
    }


# --- the pipeline ------------------------------------------------------------------------------


@router.get("/lifecycle/stages", response={200: list[StageOut], **errors()}, summary="Stages")
def list_stages(request: HttpRequest, retired: bool = False) -> list[dict]:
    """The pipeline in board order (exit stages last); `retired=true` adds retired stages."""
    access = access_of(request)
    return [_stage_data(s) for s in services.stages(access.corp, retired=retired)]


@router.post(
    "/lifecycle/stages",
    auth=write_auth,
    response={201: StageOut, **WRITE_ERRORS},
    summary="Add a stage",
)
def create_stage(request: HttpRequest, payload: StageIn) -> Status:
    stage = services.create_stage(
        access=access_of(request),
        name=payload.name,
        stale_days=payload.stale_days,
        is_exit=payload.is_exit,
    )
    return Status(201, _stage_data(stage))


@router.put(
    "/lifecycle/stages/{stage_id}",
    auth=write_auth,
    response={200: StageOut, **WRITE_ERRORS},
    summary="Rename a stage or change its reminder rule",
)
def update_stage(request: HttpRequest, stage_id: Id, payload: StageIn) -> dict:
    access = access_of(request)
    services.require_manage(access)
    stage = services.update_stage(
        access=access,
        stage=_find_stage(access, stage_id),
        name=payload.name,
        stale_days=payload.stale_days,
    )
    return _stage_data(stage)


@router.put(
    "/lifecycle/stage-order",
    auth=write_auth,
    response={200: list[StageOut], **WRITE_ERRORS},
    summary="Reorder the stages",
)
def reorder(request: HttpRequest, payload: StageOrderIn) -> list[dict]:
    stages = services.reorder_stages(access=access_of(request), stage_ids=list(payload.stage_ids))
    return [_stage_data(s) for s in stages]


@router.post(
    "/lifecycle/stages/{stage_id}/retire",
    auth=write_auth,
    response={200: StageOut, **WRITE_ERRORS},
    summary="Retire a stage",
)
def retire_stage(request: HttpRequest, stage_id: Id) -> dict:
    """Only a stage that holds no customers; its history stays."""
    access = access_of(request)
    services.require_manage(access)
    return _stage_data(services.retire_stage(access=access, stage=_find_stage(access, stage_id)))


@router.delete(
    "/lifecycle/stages/{stage_id}",
    auth=write_auth,
    response={204: None, **WRITE_ERRORS},
    summary="Delete a stage never used",
)
def delete_stage(request: HttpRequest, stage_id: Id) -> Status:
    access = access_of(request)
    services.require_manage(access)
    services.delete_stage(access=access, stage=_find_stage(access, stage_id))
    return Status(204, None)


# --- a relation's stage ------------------------------------------------------------------------


def _relation_stage(relation: FollowRelation) -> dict:
    stage, since = services.stage_of(relation)
    return {
        "relation_id": relation.pk,
        "stage": _stage_data(stage),
        "entered_at": since,
        "days_in_stage": max(0, (clock.now() - since).days),
    }


@router.get(
    "/relations/{relation_id}/stage",
    response={200: RelationStageOut, **errors(403, 404)},
    summary="A relation's stage",
)
def get_stage(request: HttpRequest, relation_id: Id) -> dict:
    return _relation_stage(get_relation(access_of(request), relation_id))


@router.put(
    "/relations/{relation_id}/stage",
    auth=write_auth,
    response={200: RelationStageOut, **WRITE_ERRORS},
    summary="Move a relation to a stage",
)
def set_stage(request: HttpRequest, relation_id: Id, payload: MoveIn) -> dict:
    """Records the move in the history, on the customer's timeline and in the audit trail;
    moving to the current stage changes nothing."""
    access = access_of(request)
    relation = get_relation(access, relation_id)
    stage = services.get_stage(access.corp, payload.stage_id)
    services.move(access=access, relation=relation, stage=stage)
    return _relation_stage(relation)


def _change_data(change: StageChange) -> dict:
    return {
        "id": change.pk,
        "from_stage": change.from_stage.name if change.from_stage else None,
        "from_stage_id": change.from_stage_id,
        "to_stage": change.to_stage.name,
        "to_stage_id": change.to_stage_id,
        "at": change.at,
        "days_in_previous_stage": round(change.stay_seconds / 86400, 2)
        if change.stay_seconds is not None
        else None,
        "actor": change.actor,
    }


@router.get(
    "/relations/{relation_id}/stage-history",
    response={200: list[StageChangeOut], **errors(403, 404)},
    summary="A relation's stage history",
)
def stage_history(request: HttpRequest, relation_id: Id) -> list[dict]:
    """Newest first (at most 500 moves)."""
    access = access_of(request)
    relation = get_relation(access, relation_id)
    return [_change_data(c) for c in services.history(access=access, relation=relation)[:500]]


# --- the board and the funnel ------------------------------------------------------------------


@router.get(
    "/lifecycle/board",
    response={200: list[ColumnOut], **errors(400, 403)},
    summary="The board: active customers by stage",
)
def board(request: HttpRequest, filters: Query[CustomerFilterQuery], cards: int = 20) -> list[dict]:
    """Each stage's count and its newest `cards` (0–50) customers, with the customer list's
    filters."""
    access = access_of(request)
    limit = max(0, min(cards, queries.CARDS_PER_COLUMN))
    return [
        {
            "stage": _stage_data(column.stage),
            "count": column.count,
            "cards": [_card(r) for r in column.cards],
        }
        for column in queries.board(access, filters.to_filter(), limit=limit)
    ]


@router.get(
    "/lifecycle/relations",
    response={200: BoardRelationPage, **errors(400, 403)},
    summary="Relations with their stage",
)
def list_relations(
    request: HttpRequest,
    filters: Query[CustomerFilterQuery],
    page: Query[CursorQuery],
    stage_id: Id | None = None,
) -> dict:
    """The list view: the customer list's filters and one stage, newest added first."""
    access = access_of(request)
    relations = filter_relations(access, filters.to_filter())
    first = services.first_stage(access.corp)
    if stage_id is not None:
        stage = services.get_stage(access.corp, stage_id)
        relations = relations.filter(services.in_stage(stage, first))
    result = cursor_page(services.with_stage(relations), field="added_at", params=page)
    result["items"] = [
        {
            **_card(r),
            "stage_id": r.stage.pk,
            "stage": r.stage.name,
            "status": r.status,
        }
        for r in services.decorate(result["items"], first)
    ]
    return result


@router.get(
    "/lifecycle/funnel",
    response={200: FunnelOut, **errors(400, 403)},
    summary="The funnel",
)
def funnel(request: HttpRequest, filters: Query[CustomerFilterQuery]) -> dict:
    """Counts by stage, staff, channel (state) and add way; conversion between consecutive stages
    (of customers that reached them); the average completed stay per stage."""
    data = queries.funnel(access_of(request), filters.to_filter())

    def rows(items) -> list[dict]:
        return [
            {
                "key": r.key,
                "label": r.label,
                "counts": {str(k): v for k, v in r.counts.items()},
                "total": r.total,
            }
            for r in items
        ]

    return {
        "total": data.total,
        "stages": [
            {
                "stage": _stage_data(s.stage),
                "count": s.count,
                "reached": s.reached,
                "conversion": s.conversion,
                "avg_days": s.avg_days,
                "stays": s.stays,
            }
            for s in data.stages
        ],
        "by_staff": rows(data.by_staff),
        "by_channel": rows(data.by_channel),
        "by_add_way": rows(data.by_add_way),
    }


# --- follow-ups --------------------------------------------------------------------------------


def _follow_up_data(item: FollowUp) -> dict:
    return {
        "id": item.pk,
        "relation_id": item.relation_id,
        "kind": item.kind,
        "content": item.content,
        "happened_at": item.happened_at,
        "next_on": item.next_on,
        "reminded_at": item.reminded_at,
        "author": item.author,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


@router.get(
    "/relations/{relation_id}/follow-ups",
    response={200: list[FollowUpOut], **errors(403, 404)},
    summary="A relation's follow-ups",
)
def list_follow_ups(request: HttpRequest, relation_id: Id) -> list[dict]:
    """Newest first (at most 500)."""
    access = access_of(request)
    relation = get_relation(access, relation_id)
    return [_follow_up_data(f) for f in services.follow_ups(access=access, relation=relation)[:500]]


@router.post(
    "/relations/{relation_id}/follow-ups",
    auth=write_auth,
    response={201: FollowUpOut, **WRITE_ERRORS},
    summary="Add a follow-up",
)
def create_follow_up(request: HttpRequest, relation_id: Id, payload: FollowUpCreateIn) -> Status:
    access = access_of(request)
    follow_up = services.add_follow_up(
        access=access,
        relation=get_relation(access, relation_id),
        kind=payload.kind,
        content=payload.content,
        next_on=payload.next_on,
        happened_at=payload.happened_at,
    )
    return Status(201, _follow_up_data(follow_up))


@router.get(
    "/follow-ups/{follow_up_id}",
    response={200: FollowUpOut, **errors(403, 404)},
    summary="Get a follow-up",
)
def get_follow_up(request: HttpRequest, follow_up_id: Id) -> dict:
    return _follow_up_data(services.get_follow_up(access_of(request), follow_up_id))


@router.put(
    "/follow-ups/{follow_up_id}",
    auth=write_auth,
    response={200: FollowUpOut, **WRITE_ERRORS},
    summary="Edit a follow-up",
)
def update_follow_up(request: HttpRequest, follow_up_id: Id, payload: FollowUpIn) -> dict:
    access = access_of(request)
    follow_up = services.update_follow_up(
        access=access,
        follow_up=services.get_follow_up(access, follow_up_id),
        kind=payload.kind,
        content=payload.content,
        next_on=payload.next_on,
    )
    return _follow_up_data(follow_up)


@router.delete(
    "/follow-ups/{follow_up_id}",
    auth=write_auth,
    response={204: None, **WRITE_ERRORS},
    summary="Delete a follow-up",
)
def delete_follow_up(request: HttpRequest, follow_up_id: Id) -> Status:
    access = access_of(request)
    services.delete_follow_up(access=access, follow_up=services.get_follow_up(access, follow_up_id))
    return Status(204, None)
