"""REST endpoints under /api/v1/: moment tasks (create, list, detail with each staff member's
status and the comments and likes, refresh now, cancel)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from qike.api.auth import access_of, read_auth, write_auth
from qike.api.pagination import numbered_page
from qike.api.schemas import Id, PageMeta, PageQuery, errors
from qike.moments import services
from qike.moments.models import Moment
from qike.moments.schemas import MomentDetailOut, MomentIn, MomentOut

router = Router(tags=["moments"], auth=read_auth)
WRITE_ERRORS = errors(400, 403, 404, 502)


class MomentPage(PageMeta):
    items: list[MomentOut]


def _data(moment: Moment, counts: dict[str, int]) -> dict:
    return {
        "id": moment.pk,
        "status": moment.status,
        "text": moment.text,
        "content_kind": moment.content_kind,
        "item_ids": moment.item_ids,
        "userids": moment.userids,
        "department_ids": moment.department_ids,
        "tag_ids": moment.tag_ids,
        "moment_id": moment.moment_id,
        "errcode": moment.errcode,
        "created_by": moment.created_by,
        "created_at": moment.created_at,
        "checked_at": moment.checked_at,
        "cancelled_at": moment.cancelled_at,
        "counts": counts,
    }


def _detail(moment: Moment) -> dict:
    senders = moment.senders.select_related("staff")
    interactions = moment.interactions.select_related("sender", "customer")
    return {
        **_data(moment, services.counts([moment])[moment.pk]),
        "invalid_userids": moment.invalid_userids,
        "invalid_department_ids": moment.invalid_department_ids,
        "invalid_tag_ids": moment.invalid_tag_ids,
        "senders": [
            {
                "userid": s.userid,
                "name": s.staff.name if s.staff else "",
                "published": s.published,
                "reached": s.reached,
            }
            for s in senders
        ],
        "interactions": [
            {
                "kind": i.kind,
                "sender": i.sender.userid,
                "external_userid": i.external_userid,
                "customer_name": i.customer.name if i.customer else "",
                "userid": i.userid,
                "occurred_at": i.occurred_at,
            }
            for i in interactions
        ],
    }


@router.get("/moments", response={200: MomentPage, **errors(403)}, summary="List moment tasks")
def list_moments(request: HttpRequest, page: Query[PageQuery]) -> dict:
    """The corp's moment tasks, newest first, with publish and interaction counts."""
    result = numbered_page(services.moments_in_scope(access_of(request)), page)
    counts = services.counts(result["items"])
    result["items"] = [_data(m, counts[m.pk]) for m in result["items"]]
    return result


@router.post(
    "/moments",
    auth=write_auth,
    response={201: MomentDetailOut, **WRITE_ERRORS},
    summary="Create a moment task",
)
def create(request: HttpRequest, payload: MomentIn) -> Status:
    """Checks WeCom's rules (text ≤ 2000 characters; ≤ 9 images, or 1 video, or 1 link; not both
    empty; known staff, departments and corp tags), then calls add_moment_task. The task starts
    `creating`; WeCom's job gives the moment_id a few seconds later (polled by Qike)."""
    moment = services.create_moment(
        access=access_of(request),
        text=payload.text,
        item_ids=payload.item_ids,
        userids=payload.userids,
        department_ids=payload.department_ids,
        tag_ids=payload.tag_ids,
    )
    return Status(201, _detail(moment))


@router.get(
    "/moments/{moment_pk}",
    response={200: MomentDetailOut, **errors(403, 404)},
    summary="Get a moment task with each staff member's status, comments and likes",
)
def get_moment(request: HttpRequest, moment_pk: Id) -> dict:
    return _detail(services.get_moment(access_of(request), moment_pk))


@router.post(
    "/moments/{moment_pk}/refresh",
    auth=write_auth,
    response={200: MomentDetailOut, **WRITE_ERRORS},
    summary="Ask WeCom for the moment's status now",
)
def refresh(request: HttpRequest, moment_pk: Id) -> dict:
    access = access_of(request)
    moment = services.get_moment(access, moment_pk)
    services.refresh_now(access=access, moment=moment)
    return _detail(moment)


@router.post(
    "/moments/{moment_pk}/cancel",
    auth=write_auth,
    response={200: MomentDetailOut, **WRITE_ERRORS},
    summary="Stop a moment task",
)
def cancel(request: HttpRequest, moment_pk: Id) -> dict:
    """Staff who have not published can no longer publish it; what was published stays. Refused
    (400) when everyone has published or it was already stopped."""
    access = access_of(request)
    moment = services.cancel(access=access, moment=services.get_moment(access, moment_pk))
    return _detail(moment)
