"""API shapes of lead forms and leads. Staff by WeCom UserID, tags by WeCom id."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from qike.api.schemas import CursorPageMeta


class QuestionOut(Schema):
    key: str = Field(..., description="name, phone, company, need, region or note.")
    required: bool


class LeadFormOut(Schema):
    id: int
    name: str
    slug: str
    public_url: str
    is_open: bool
    questions: list[QuestionOut]
    rule: str = Field(..., description="round_robin or by_field.")
    assign_field: str
    assign_map: dict[str, str] = Field(..., description="Answer → WeCom UserID.")
    staff: list[str]
    tags: list[str]
    welcome_message_id: int | None
    way_days: int
    leads: int
    converted: int
    created_at: dt.datetime


class LeadOut(Schema):
    id: int
    form_id: int
    form_name: str
    name: str
    phone: str = Field(..., description="Masked unless the caller may see phone numbers whole.")
    company: str
    need: str
    region: str
    note: str
    staff: str = Field(..., description="WeCom UserID of the assigned staff member.")
    state: str
    converted: bool
    external_userid: str | None
    created_at: dt.datetime
    age_days: int
    bound_at: dt.datetime | None
    converted_at: dt.datetime | None


class LeadPage(CursorPageMeta):
    items: list[LeadOut]
