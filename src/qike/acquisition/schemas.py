"""API shapes of live codes. Members by WeCom UserID, departments and tags by WeCom id."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from qike.api.schemas import PageMeta, Text


class ShiftIn(Schema):
    weekdays: list[int] = Field(..., description="1 = Monday … 7 = Sunday.")
    start: dt.time
    end: dt.time = Field(..., description="Not after `start`: the shift runs over midnight.")
    staff: list[str]


class PoolIn(Schema):
    """A code's staff and settings, shared by live codes and stores."""

    skip_verify: bool = True
    staff: list[str] = Field(default_factory=list, description="WeCom UserIDs.")
    departments: list[int] = Field(default_factory=list, description="WeCom department ids.")
    backup_staff: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list, description="Corp tag ids applied on add.")
    welcome_message_id: int | None = None
    daily_cap: int | None = Field(None, ge=1)
    spread_evenly: bool = True
    shifts: list[ShiftIn] = Field(default_factory=list)


class LiveCodeIn(PoolIn):
    name: str = Field(..., min_length=1, max_length=64)
    channel_group: str = Field("", max_length=64)
    remark: str = Field("", max_length=200)


class LiveCodeOut(Schema):
    id: int
    name: str
    channel_group: str
    remark: str
    state: str
    config_id: str
    qr_code: str
    skip_verify: bool
    daily_cap: int | None
    spread_evenly: bool
    staff_now: list[str]
    tags: list[str]
    welcome_message_id: int | None
    created_at: dt.datetime


class StaffRow(Schema):
    userid: str
    name: str
    adds: int
    losses: int
    net: int


class LiveCodeStats(Schema):
    adds: int
    losses: int
    net: int
    days: list[str]
    adds_by_day: list[int]
    losses_by_day: list[int]
    by_staff: list[StaffRow]


class StaffCardOut(Schema):
    id: int
    userid: str
    state: str
    config_id: str
    qr_code: str


# --- store codes (门店活码) ---------------------------------------------------------------------


class StoreIn(PoolIn):
    """A store and its code's staff and settings (as on a live code)."""

    name: Text = Field(..., min_length=1, max_length=64)
    short_code: Text = Field("", max_length=32, description="Your store number, e.g. SH-001.")
    province: Text = Field(..., min_length=1, max_length=32)
    city: Text = Field(..., min_length=1, max_length=32)
    district: Text = Field("", max_length=32)
    address: Text = Field(..., min_length=1, max_length=200)
    phone: Text = Field("", max_length=32)
    opening_hours: Text = Field("", max_length=64)
    latitude: float | None = Field(None, ge=-90, le=90, description="GCJ-02, as Chinese maps.")
    longitude: float | None = Field(None, ge=-180, le=180)
    status: Literal["open", "closed"] = Field(
        "open", description="Closed stores leave the public page; their code keeps working."
    )
    sort_order: int = Field(0, ge=-999_999_999, le=999_999_999)


class StoreOut(Schema):
    id: int
    name: str
    short_code: str
    province: str
    city: str
    district: str
    address: str
    phone: str
    opening_hours: str
    latitude: float | None
    longitude: float | None
    status: str
    sort_order: int
    public_url: str = Field(description="The landing page showing this store's code.")
    live_code_id: int
    state: str
    config_id: str
    qr_code: str
    staff: list[str] = Field(description="The pool's members (WeCom UserIDs).")
    departments: list[int]
    backup_staff: list[str]
    staff_now: list[str] = Field(description="Who is on the WeCom contact way right now.")
    tags: list[str]
    welcome_message_id: int | None
    daily_cap: int | None
    spread_evenly: bool
    skip_verify: bool
    created_at: dt.datetime


class StoreFilterQuery(Schema):
    province: str = Field("", max_length=32)
    city: str = Field("", max_length=32)
    status: Literal["", "open", "closed"] = ""
    q: str = Field("", max_length=64, description="Part of the name or address, or the number.")


class StorePage(PageMeta):
    items: list[StoreOut]
