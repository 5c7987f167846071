"""REST endpoints under /api/v1/: lost customers (list, reason), churn stats, the shared pool
(list, claim, give back) and the corp's churn and pool settings."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from qike.api.auth import access_of, read_auth, write_auth
from qike.api.pagination import cursor_page
from qike.api.schemas import CursorQuery, Id, errors
from qike.retention import services
from qike.retention.models import LostCustomer
from qike.retention.schemas import (
    ClaimIn,
    ClaimOut,
    LostOut,
    LostPage,
    PoolPage,
    ReasonIn,
    SettingsIO,
    StatsOut,
)

router = Router(tags=["retention"], auth=read_auth)
WRITE_ERRORS = errors(400, 403, 404)


class LostQuery(Schema):
    staff: str = Field("", max_length=64, description="UserID of the member.")
    start: dt.date | None = Field(None, description="Lost on or after this day (Asia/Shanghai).")
    end: dt.date | None = Field(None, description="Lost on or before this day.")
    reason: str = Field("", max_length=32, description='A reason, or "-" for none recorded.')
    won_back: bool | None = None
    kind: str = Field("", pattern="^(|deleted_by_customer|deleted_by_staff)$")


class RangeQuery(Schema):
    start: dt.date | None = Field(None, description="First day (default: 29 days ago).")
    end: dt.date | None = Field(None, description="Last day, included (default: today).")


def _lost_data(lost: LostCustomer) -> dict:
    return {
        "id": lost.pk,
        "external_userid": lost.customer.external_userid,
        "customer_name": lost.customer.name,
        "staff": lost.staff.userid,
        "kind": lost.kind,
        "lost_at": lost.lost_at,
        "state": lost.state,
        "add_way": lost.add_way,
        "stage": lost.stage,
        "reason": lost.reason,
        "reason_note": lost.reason_note,
        "won_back_at": lost.won_back_at,
        "alert": lost.alert,
    }


@router.get(
    "/retention/lost-customers",
    response={200: LostPage, **errors(400, 403)},
    summary="List lost customers",
)
def list_lost(request: HttpRequest, filters: Query[LostQuery], page: Query[CursorQuery]) -> dict:
    """Customers lost by members you may see, newest first."""
    rows = services.filter_lost(
        services.lost_in_scope(access_of(request)).select_related("customer", "staff"),
        **filters.dict(),
    )
    result = cursor_page(rows, field="lost_at", params=page)
    result["items"] = [_lost_data(lost) for lost in result["items"]]
    return result


@router.post(
    "/retention/lost-customers/{lost_id}/reason",
    auth=write_auth,
    response={200: LostOut, **WRITE_ERRORS},
    summary="Record why a customer was lost",
)
def set_reason(request: HttpRequest, lost_id: Id, payload: ReasonIn) -> dict:
    access = access_of(request)
    lost = services.set_reason(
        access=access,
        lost=services.get_lost(access, lost_id),
        reason=payload.reason,
        note=payload.note,
    )
    lost = LostCustomer.objects.select_related("customer", "staff").get(pk=lost.pk)
    return _lost_data(lost)


@router.get(
    "/retention/churn-stats", response={200: StatsOut, **errors(400, 403)}, summary="Churn stats"
)
def churn_stats(request: HttpRequest, dates: Query[RangeQuery]) -> dict:
    """Lost customers (and how many were won back) by member, channel and stage."""
    start, end = services.default_range()
    start, end = dates.start or start, dates.end or end
    tables = services.churn_stats(access=access_of(request), start=start, end=end)
    empty = services.StatRow("", _("All"))
    return {
        "start": start,
        "end": end,
        "total": (tables["total"] or [empty])[0],
        "staff": tables["staff"],
        "channel": tables["channel"],
        "stage": tables["stage"],
    }


@router.get(
    "/retention/pool", response={200: PoolPage, **errors(400, 403)}, summary="The shared pool"
)
def list_pool(request: HttpRequest, page: Query[CursorQuery]) -> dict:
    """Customers in the shared pool, newest arrivals first."""
    access = access_of(request)
    rows = services.pool_in_corp(access).select_related("customer", "from_staff")
    result = cursor_page(rows, field="pooled_at", params=page)
    result["items"] = [
        {
            "external_userid": e.customer.external_userid,
            "customer_id": e.customer_id,
            "name": e.customer.name,
            "reason": e.reason,
            "from_staff": e.from_staff.userid if e.from_staff else None,
            "pooled_at": e.pooled_at,
        }
        for e in result["items"]
    ]
    result["claims_left"] = services.claims_left(access)
    return result


@router.post(
    "/retention/pool/{external_userid}/claim",
    auth=write_auth,
    response={200: ClaimOut, **WRITE_ERRORS},
    summary="Claim a customer from the shared pool",
)
def claim(request: HttpRequest, external_userid: str, payload: ClaimIn) -> dict:
    """Within the corp's daily claim limit (400 `invalid` past it)."""
    access = access_of(request)
    made = services.claim(
        access=access,
        customer_id=services.customer_id_of(access, external_userid),
        userid=payload.staff,
    )
    return {
        "external_userid": external_userid,
        "staff": made.staff.userid,
        "claimed_at": made.at,
        "transfer_id": made.transfer_id,
        "transfer_note": made.transfer_note,
    }


@router.post(
    "/retention/pool/{external_userid}/give-back",
    auth=write_auth,
    response={204: None, **WRITE_ERRORS},
    summary="Give a customer back to the shared pool",
)
def give_back(request: HttpRequest, external_userid: str) -> Status:
    access = access_of(request)
    services.give_back(access=access, customer_id=services.customer_id_of(access, external_userid))
    return Status(204, None)


def _settings_data(conf) -> dict:
    return {f: getattr(conf, f) for f in services.SETTING_FIELDS}


@router.get(
    "/retention/settings",
    response={200: SettingsIO, **errors(403)},
    summary="The corp's churn and pool settings",
)
def get_settings(request: HttpRequest) -> dict:
    access = access_of(request)
    services.require_manage_settings(access)
    return _settings_data(services.settings_for(access.corp))


@router.put(
    "/retention/settings",
    auth=write_auth,
    response={200: SettingsIO, **WRITE_ERRORS},
    summary="Change the corp's churn and pool settings",
)
def put_settings(request: HttpRequest, payload: SettingsIO) -> dict:
    return _settings_data(services.update_settings(access=access_of(request), **payload.dict()))
