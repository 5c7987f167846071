"""REST endpoints under /api/v1/: segments (CRUD), their live count and preview, and the count and
preview of ad-hoc rules. Counts and previews are within the caller's data scope."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from qike.api.auth import access_of, read_auth, write_auth
from qike.api.schemas import Id, errors
from qike.segments import services
from qike.segments.models import Segment
from qike.segments.schemas import (
    CountOut,
    PreviewIn,
    PreviewOut,
    RulesIn,
    SegmentCountOut,
    SegmentIn,
    SegmentOut,
)

router = Router(tags=["segments"], auth=read_auth)
WRITE_ERRORS = errors(400, 403, 404)
PREVIEW_DEFAULT = 20


def _segment_data(segment: Segment) -> dict:
    return {
        "id": segment.pk,
        "name": segment.name,
        "description": segment.description,
        "owner": segment.owner.userid if segment.owner else "",
        "rules": segment.rules,
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


def _members(members: list[services.Member]) -> list[dict]:
    return [
        {
            "relation_id": m.relation_id,
            "external_userid": m.external_userid,
            "name": m.name,
            "staff": m.staff_userid,
            "added_at": m.added_at,
        }
        for m in members
    ]


@router.get("/segments", response={200: list[SegmentOut], **errors(403)}, summary="Segments")
def list_segments(request: HttpRequest) -> list[dict]:
    """Every segment of the corp, most recently changed first (without counts: ask each one)."""
    return [_segment_data(s) for s in services.segments(access=access_of(request))]


@router.post(
    "/segments",
    auth=write_auth,
    response={201: SegmentOut, **WRITE_ERRORS},
    summary="Save a segment",
)
def create_segment(request: HttpRequest, payload: SegmentIn) -> Status:
    segment = services.create_segment(
        access=access_of(request),
        name=payload.name,
        description=payload.description,
        owner_userid=payload.owner,
        rules=payload.rules,
    )
    return Status(201, _segment_data(segment))


@router.post(
    "/segments/count",
    response={200: CountOut, **errors(400, 403)},
    summary="Count ad-hoc rules",
)
def count_rules(request: HttpRequest, payload: RulesIn) -> dict:
    """How many customers the rules match now, within the caller's scope; nothing is saved."""
    access = access_of(request)
    rules = services.parse_rules(corp=access.corp, data=payload.rules)
    return {"count": services.count(corp=access.corp, rules=rules, access=access)}


@router.post(
    "/segments/preview",
    response={200: PreviewOut, **errors(400, 403)},
    summary="Preview ad-hoc rules",
)
def preview_rules(request: HttpRequest, payload: PreviewIn) -> dict:
    """The count and the most recently added matching customers (each once)."""
    access = access_of(request)
    rules = services.parse_rules(corp=access.corp, data=payload.rules)
    return {
        "count": services.count(corp=access.corp, rules=rules, access=access),
        "members": _members(
            services.preview(corp=access.corp, rules=rules, access=access, limit=payload.limit)
        ),
    }


@router.get(
    "/segments/{segment_id}",
    response={200: SegmentCountOut, **errors(403, 404)},
    summary="A segment with its live count",
)
def get_segment(request: HttpRequest, segment_id: Id) -> dict:
    access = access_of(request)
    segment = services.get_segment(access=access, pk=segment_id)
    counted = services.count(corp=access.corp, rules=segment.segment_rules, access=access)
    return {**_segment_data(segment), "count": counted}


@router.get(
    "/segments/{segment_id}/preview",
    response={200: PreviewOut, **errors(403, 404)},
    summary="A segment's members",
)
def preview_segment(request: HttpRequest, segment_id: Id, limit: int = PREVIEW_DEFAULT) -> dict:
    """The count and up to `limit` (1–100) most recently added customers, within scope."""
    access = access_of(request)
    rules = services.get_segment(access=access, pk=segment_id).segment_rules
    limit = max(1, min(limit, services.PREVIEW_MAX))
    return {
        "count": services.count(corp=access.corp, rules=rules, access=access),
        "members": _members(
            services.preview(corp=access.corp, rules=rules, access=access, limit=limit)
        ),
    }


@router.put(
    "/segments/{segment_id}",
    auth=write_auth,
    response={200: SegmentOut, **WRITE_ERRORS},
    summary="Change a segment",
)
def update_segment(request: HttpRequest, segment_id: Id, payload: SegmentIn) -> dict:
    access = access_of(request)
    segment = services.update_segment(
        access=access,
        segment=services.get_segment(access=access, pk=segment_id),
        name=payload.name,
        description=payload.description,
        owner_userid=payload.owner,
        rules=payload.rules,
    )
    return _segment_data(segment)


@router.delete(
    "/segments/{segment_id}",
    auth=write_auth,
    response={204: None, **WRITE_ERRORS},
    summary="Delete a segment",
)
def delete_segment(request: HttpRequest, segment_id: Id) -> Status:
    access = access_of(request)
    services.delete_segment(
        access=access, segment=services.get_segment(access=access, pk=segment_id)
    )
    return Status(204, None)
