"""REST endpoints under /api/v1/: on-job transfers (pre-flight, start, follow) and resigned
staff's unassigned customers (list, reassign). Fixed paths come before /transfers/{id}: the first
registered path wins a URL."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from qike.api.auth import access_of, read_auth, write_auth
from qike.api.pagination import numbered_page
from qike.api.schemas import Id, PageMeta, PageQuery, errors
from qike.transfers import services
from qike.transfers.models import Transfer
from qike.transfers.schemas import (
    PreflightOut,
    ReassignIn,
    StartedOut,
    TransferDetailOut,
    TransferIn,
    TransferOut,
    UnassignedOut,
)

router = Router(tags=["transfers"], auth=read_auth)
WRITE_ERRORS = errors(400, 403, 404, 502)


class TransferPage(PageMeta):
    items: list[TransferOut]


def _held(held: dict[str, str]) -> list[dict]:
    return [
        {"external_userid": ext, "reason": reason, "message": str(services.HOLD_REASONS[reason])}
        for ext, reason in held.items()
    ]


def _data(transfer: Transfer, counts: dict[str, int], *, items: bool = False) -> dict:
    data = {
        "id": transfer.pk,
        "kind": transfer.kind,
        "handover": transfer.handover.userid,
        "takeover": transfer.takeover.userid,
        "message": transfer.message,
        "created_by": transfer.created_by,
        "created_at": transfer.created_at,
        "checked_at": transfer.checked_at,
        "counts": counts,
    }
    if items:
        data["items"] = [
            {
                "external_userid": i.external_userid,
                "customer_name": i.customer.name if i.customer else "",
                "status": i.status,
                "errcode": i.errcode,
                "takeover_at": i.takeover_at,
                "finished_at": i.finished_at,
            }
            for i in transfer.items.select_related("customer")
        ]
    return data


def _detail(transfer: Transfer) -> dict:
    return _data(transfer, services.status_counts([transfer])[transfer.pk], items=True)


@router.get("/transfers", response={200: TransferPage, **errors(403)}, summary="List transfers")
def list_transfers(request: HttpRequest, page: Query[PageQuery]) -> dict:
    """Transfers of staff you may see, newest first, with customers per status."""
    transfers = services.transfers_in_scope(access_of(request)).select_related(
        "handover", "takeover"
    )
    result = numbered_page(transfers, page)
    counts = services.status_counts(result["items"])
    result["items"] = [_data(t, counts[t.pk]) for t in result["items"]]
    return result


@router.get(
    "/transfers/unassigned",
    response={200: list[UnassignedOut], **errors(403, 502)},
    summary="List unassigned customers of staff who left",
)
def list_unassigned(request: HttpRequest, handover: str = "") -> list[dict]:
    """WeCom's get_unassigned_list (every page), for departed staff you may see; customers in a
    waiting transfer are left out."""
    rows = services.unassigned(access=access_of(request), handover_userid=handover)
    return [
        {
            "handover": u.handover_userid,
            "external_userid": u.external_userid,
            "customer_name": u.customer.name if u.customer else "",
            "left_at": u.left_at,
        }
        for u in rows
    ]


@router.post(
    "/transfers/preflight",
    auth=write_auth,
    response={200: PreflightOut, **WRITE_ERRORS},
    summary="Check an on-job transfer without sending it",
)
def preflight(request: HttpRequest, payload: TransferIn) -> dict:
    """Which customers WeCom would take, and which it would refuse (held back, with the reason)."""
    check = services.preflight(
        access=access_of(request),
        handover_userid=payload.handover,
        takeover_userid=payload.takeover,
        external_userids=payload.external_userids,
    )
    return {
        "handover": check.handover.userid,
        "takeover": check.takeover.userid,
        "ready": check.ready,
        "held": _held(check.held),
    }


@router.post(
    "/transfers",
    auth=write_auth,
    response={201: StartedOut, **WRITE_ERRORS},
    summary="Start an on-job transfer",
)
def start(request: HttpRequest, payload: TransferIn) -> Status:
    """Runs the pre-flight, then sends the ready customers to WeCom (≤ 100 per call). Each starts
    `waiting`; WeCom completes the takeover after 24 hours unless the customer refuses."""
    started = services.start_onjob(
        access=access_of(request),
        handover_userid=payload.handover,
        takeover_userid=payload.takeover,
        external_userids=payload.external_userids,
        message=payload.message,
    )
    return Status(201, {**_detail(started.transfer), "held": _held(started.held)})


@router.post(
    "/transfers/resigned",
    auth=write_auth,
    response={201: list[TransferDetailOut], **WRITE_ERRORS},
    summary="Reassign a departed member's customers",
)
def reassign(request: HttpRequest, payload: ReassignIn) -> Status:
    """Shares the unassigned customers out evenly over the takeovers: one transfer each."""
    transfers = services.reassign_resigned(
        access=access_of(request),
        handover_userid=payload.handover,
        takeover_userids=payload.takeovers,
        external_userids=payload.external_userids,
    )
    return Status(201, [_detail(t) for t in transfers])


@router.get(
    "/transfers/{transfer_id}",
    response={200: TransferDetailOut, **errors(403, 404)},
    summary="Get a transfer with each customer's status",
)
def get_transfer(request: HttpRequest, transfer_id: Id) -> dict:
    return _detail(services.get_transfer(access_of(request), transfer_id))


@router.post(
    "/transfers/{transfer_id}/refresh",
    auth=write_auth,
    response={200: TransferDetailOut, **WRITE_ERRORS},
    summary="Ask WeCom for the transfer's results now",
)
def refresh(request: HttpRequest, transfer_id: Id) -> dict:
    access = access_of(request)
    transfer = services.get_transfer(access, transfer_id)
    services.refresh_now(access=access, transfer=transfer)
    return _detail(transfer)
