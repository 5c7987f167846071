"""REST API: live codes (create, read, edit, delete, figures) and staff QR cards."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Router, Status

from qike.acquisition import services
from qike.acquisition.models import LiveCode, StaffCard
from qike.acquisition.schemas import (
    LiveCodeIn,
    LiveCodeOut,
    LiveCodeStats,
    StaffCardOut,
)
from qike.acquisition.services import LiveCodeSpec, ShiftSpec
from qike.acquisition.stats import code_stats
from qike.api.auth import access_of, read_auth, write_auth
from qike.api.schemas import errors
from qike.org.access import Access
from qike.org.models import Staff

router = Router(tags=["live codes"], auth=read_auth)
WRITE_ERRORS = errors(400, 403, 404, 502)


def _spec(payload: LiveCodeIn) -> LiveCodeSpec:
    return LiveCodeSpec(
        name=payload.name,
        channel_group=payload.channel_group,
        remark=payload.remark,
        skip_verify=payload.skip_verify,
        userids=tuple(payload.staff),
        department_ids=tuple(payload.departments),
        backup_userids=tuple(payload.backup_staff),
        tag_ids=tuple(payload.tags),
        welcome_message_id=payload.welcome_message_id,
        daily_cap=payload.daily_cap,
        spread_evenly=payload.spread_evenly,
        shifts=tuple(
            ShiftSpec(
                weekdays=tuple(day - 1 for day in shift.weekdays),
                start=shift.start,
                end=shift.end,
                userids=tuple(shift.staff),
            )
            for shift in payload.shifts
        ),
    )


def _find(access: Access, pk: int) -> LiveCode:
    services.require_view(access)
    code = LiveCode.objects.filter(corp=access.corp, pk=pk, deleted_at__isnull=True).first()
    if code is None:
        raise Http404
    return code


def _data(code: LiveCode) -> dict:
    return {
        "id": code.pk,
        "name": code.name,
        "channel_group": code.channel_group,
        "remark": code.remark,
        "state": code.state,
        "config_id": code.config_id,
        "qr_code": code.qr_code,
        "skip_verify": code.skip_verify,
        "daily_cap": code.daily_cap,
        "spread_evenly": code.spread_evenly,
        "staff_now": list(code.current_userids),
        "tags": list(code.tags.values_list("wecom_id", flat=True)),
        "welcome_message_id": code.welcome_message_id,
        "created_at": code.created_at,
    }


@router.get(
    "/live-codes", response={200: list[LiveCodeOut], **errors(403)}, summary="List live codes"
)
def list_codes(request: HttpRequest) -> list[dict]:
    access = access_of(request)
    services.require_view(access)
    codes = LiveCode.objects.filter(corp=access.corp, deleted_at__isnull=True).prefetch_related(
        "tags"
    )
    return [_data(code) for code in codes]


@router.get(
    "/live-codes/{code_id}",
    response={200: LiveCodeOut, **errors(403, 404)},
    summary="Get a live code",
)
def get_code(request: HttpRequest, code_id: int) -> dict:
    return _data(_find(access_of(request), code_id))


@router.get(
    "/live-codes/{code_id}/stats",
    response={200: LiveCodeStats, **errors(403, 404)},
    summary="A live code's adds, losses and net",
)
def get_stats(request: HttpRequest, code_id: int) -> dict:
    """The last 30 days by day (Asia/Shanghai) and all time by staff, for the caller's scope."""
    access = access_of(request)
    stats = code_stats(access, _find(access, code_id))
    return {
        "adds": stats.adds,
        "losses": stats.losses,
        "net": stats.net,
        "days": stats.days,
        "adds_by_day": stats.adds_by_day,
        "losses_by_day": stats.losses_by_day,
        "by_staff": [
            {
                "userid": row["staff__userid"],
                "name": row["staff__name"],
                "adds": row["adds"],
                "losses": row["losses"],
                "net": row["net"],
            }
            for row in stats.by_staff
        ],
    }


@router.post(
    "/live-codes",
    auth=write_auth,
    response={201: LiveCodeOut, **WRITE_ERRORS},
    summary="Create a live code",
)
def create_code(request: HttpRequest, payload: LiveCodeIn) -> Status:
    """Creates the contact way in WeCom, then the code in Qike; state is `lc-<id>`."""
    code = services.create_live_code(access=access_of(request), spec=_spec(payload))
    return Status(201, _data(code))


@router.put(
    "/live-codes/{code_id}",
    auth=write_auth,
    response={200: LiveCodeOut, **WRITE_ERRORS},
    summary="Replace a live code's settings",
)
def update_code(request: HttpRequest, code_id: int, payload: LiveCodeIn) -> dict:
    access = access_of(request)
    code = services.update_live_code(
        access=access, code=_find(access, code_id), spec=_spec(payload)
    )
    return _data(code)


@router.delete(
    "/live-codes/{code_id}",
    auth=write_auth,
    response={204: None, **WRITE_ERRORS},
    summary="Delete a live code",
)
def delete_code(request: HttpRequest, code_id: int) -> Status:
    """Deletes the contact way in WeCom; printed codes stop working. Figures stay in Qike."""
    access = access_of(request)
    services.delete_live_code(access=access, code=_find(access, code_id))
    return Status(204, None)


def _card_data(card: StaffCard) -> dict:
    return {
        "id": card.pk,
        "userid": card.staff.userid,
        "state": card.state,
        "config_id": card.config_id,
        "qr_code": card.qr_code,
    }


@router.get(
    "/staff-cards", response={200: list[StaffCardOut], **errors(403)}, summary="List staff QR cards"
)
def list_cards(request: HttpRequest) -> list[dict]:
    access = access_of(request)
    services.require_view(access)
    cards = StaffCard.objects.filter(corp=access.corp).filter(access.staff_filter("staff__"))
    return [_card_data(card) for card in cards.select_related("staff")]


@router.post(
    "/staff-cards/{userid}",
    auth=write_auth,
    response={200: StaffCardOut, **WRITE_ERRORS},
    summary="Get or create a staff member's QR card",
)
def ensure_card(request: HttpRequest, userid: str) -> dict:
    access = access_of(request)
    services.require_manage(access)
    staff = Staff.objects.filter(corp=access.corp, userid=userid).first()
    if staff is None:
        raise Http404
    return _card_data(services.ensure_staff_card(access=access, staff=staff))
