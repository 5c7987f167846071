"""API shapes of live codes. Members by WeCom UserID, departments and tags by WeCom id."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class ShiftIn(Schema):
    weekdays: list[int] = Field(..., description="1 = Monday … 7 = Sunday.")
    start: dt.time
    end: dt.time = Field(..., description="Not after `start`: the shift runs over midnight.")
    staff: list[str]


class LiveCodeIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    channel_group: str = Field("", max_length=64)
    remark: str = Field("", max_length=200)
    skip_verify: bool = True
    staff: list[str] = Field(default_factory=list, description="WeCom UserIDs.")
    departments: list[int] = Field(default_factory=list, description="WeCom department ids.")
    backup_staff: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list, description="Corp tag ids applied on add.")
    welcome_message_id: int | None = None
    daily_cap: int | None = Field(None, ge=1)
    spread_evenly: bool = True
    shifts: list[ShiftIn] = Field(default_factory=list)


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
