"""REST API: live codes (create, read, edit, delete, figures), staff QR cards and stores."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q
from django.http import Http404, HttpRequest
from ninja import Query, Router, Status

from qike.acquisition import services, stores
from qike.acquisition.models import LiveCode, PoolRole, StaffCard, Store
from qike.acquisition.schemas import (
    LiveCodeIn,
    LiveCodeOut,
    LiveCodeStats,
    PoolIn,
    StaffCardOut,
    StoreFilterQuery,
    StoreIn,
    StoreOut,
    StorePage,
)
from qike.acquisition.services import LiveCodeSpec, ShiftSpec
from qike.acquisition.stats import CodeStats, code_stats
from qike.acquisition.stores import STORE_FIELDS, StoreSpec
from qike.api.auth import access_of, read_auth, write_auth
from qike.api.pagination import numbered_page
from qike.api.schemas import Id, PageQuery, errors
from qike.org.access import Access
from qike.org.models import Staff

router = Router(tags=["live codes"], auth=read_auth)
WRITE_ERRORS = errors(400, 403, 404, 502)


def _spec(payload: LiveCodeIn) -> LiveCodeSpec:
    return _pool_spec(
        payload, name=payload.name, channel_group=payload.channel_group, remark=payload.remark
    )


def _pool_spec(payload: PoolIn, **labels: str) -> LiveCodeSpec:
    return LiveCodeSpec(
        **labels,
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
    code = LiveCode.objects.filter(
        corp=access.corp, pk=pk, deleted_at__isnull=True, store__isnull=True
    ).first()
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
    codes = LiveCode.objects.filter(
        corp=access.corp, deleted_at__isnull=True, store__isnull=True
    ).prefetch_related("tags")
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
    return _stats_data(code_stats(access, _find(access, code_id)))


def _stats_data(stats: CodeStats) -> dict:
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


# --- store codes (门店活码) ---------------------------------------------------------------------

STORE_TAGS = ["stores"]


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.000001"))


def _store_spec(payload: StoreIn) -> StoreSpec:
    values = {name: getattr(payload, name) for name in STORE_FIELDS}
    values.update(latitude=_decimal(payload.latitude), longitude=_decimal(payload.longitude))
    return StoreSpec(**values, pool=_pool_spec(payload, name=payload.name))


def _store_data(request: HttpRequest, store: Store) -> dict:
    code = store.live_code
    members = list(code.members.all())
    return {
        "id": store.pk,
        **{name: getattr(store, name) for name in STORE_FIELDS},
        "latitude": None if store.latitude is None else float(store.latitude),
        "longitude": None if store.longitude is None else float(store.longitude),
        "public_url": request.build_absolute_uri(stores.public_path(store.corp, store)),
        "live_code_id": code.pk,
        "state": code.state,
        "config_id": code.config_id,
        "qr_code": code.qr_code,
        "staff": [m.staff.userid for m in members if m.role == PoolRole.MAIN],
        "departments": [d.department.wecom_id for d in code.departments.all()],
        "backup_staff": [m.staff.userid for m in members if m.role == PoolRole.BACKUP],
        "staff_now": list(code.current_userids),
        "tags": [tag.wecom_id for tag in code.tags.all()],
        "welcome_message_id": code.welcome_message_id,
        "daily_cap": code.daily_cap,
        "spread_evenly": code.spread_evenly,
        "skip_verify": code.skip_verify,
        "created_at": store.created_at,
    }


def _stores_query(access: Access):
    return (
        stores.stores_of(access)
        .select_related("corp", "live_code")
        .prefetch_related(
            "live_code__members__staff", "live_code__departments__department", "live_code__tags"
        )
    )


@router.get(
    "/stores",
    response={200: StorePage, **errors(403)},
    summary="List stores",
    tags=STORE_TAGS,
)
def list_stores(
    request: HttpRequest, filters: Query[StoreFilterQuery], page: Query[PageQuery]
) -> dict:
    """The corp's stores in their public order; filters `province`, `city`, `status`, `q`."""
    access = access_of(request)
    rows = _stores_query(access)
    for name in ("province", "city", "status"):
        if getattr(filters, name):
            rows = rows.filter(**{name: getattr(filters, name)})
    if filters.q:
        rows = rows.filter(
            Q(name__icontains=filters.q)
            | Q(address__icontains=filters.q)
            | Q(short_code__iexact=filters.q)
        )
    result = numbered_page(rows, page)
    result["items"] = [_store_data(request, store) for store in result["items"]]
    return result


@router.get(
    "/stores/{store_id}",
    response={200: StoreOut, **errors(403, 404)},
    summary="Get a store",
    tags=STORE_TAGS,
)
def get_store(request: HttpRequest, store_id: Id) -> dict:
    return _store_data(request, stores.get_store(access_of(request), store_id))


@router.get(
    "/stores/{store_id}/stats",
    response={200: LiveCodeStats, **errors(403, 404)},
    summary="A store's adds, losses and net",
    tags=STORE_TAGS,
)
def get_store_stats(request: HttpRequest, store_id: Id) -> dict:
    """As a live code's: the last 30 days by day and all time by staff, for the caller's scope."""
    access = access_of(request)
    return _stats_data(code_stats(access, stores.get_store(access, store_id).live_code))


@router.post(
    "/stores",
    auth=write_auth,
    response={201: StoreOut, **WRITE_ERRORS},
    summary="Create a store",
    tags=STORE_TAGS,
)
def create_store(request: HttpRequest, payload: StoreIn) -> Status:
    """Creates the store's contact way in WeCom (with its staff), then the store in Qike."""
    store = stores.create_store(access=access_of(request), spec=_store_spec(payload))
    return Status(201, _store_data(request, store))


@router.put(
    "/stores/{store_id}",
    auth=write_auth,
    response={200: StoreOut, **WRITE_ERRORS},
    summary="Replace a store's details and its code's settings",
    tags=STORE_TAGS,
)
def update_store(request: HttpRequest, store_id: Id, payload: StoreIn) -> dict:
    access = access_of(request)
    store = stores.update_store(
        access=access, store=stores.get_store(access, store_id), spec=_store_spec(payload)
    )
    return _store_data(request, store)


@router.delete(
    "/stores/{store_id}",
    auth=write_auth,
    response={204: None, **WRITE_ERRORS},
    summary="Delete a store",
    tags=STORE_TAGS,
)
def delete_store(request: HttpRequest, store_id: Id) -> Status:
    """Deletes the store's contact way in WeCom; its printed code stops working. Figures stay."""
    access = access_of(request)
    stores.delete_store(access=access, store=stores.get_store(access, store_id))
    return Status(204, None)
