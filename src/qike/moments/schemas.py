"""API shapes of moments. Staff by WeCom UserID, departments by WeCom id, tags by WeCom tag id,
attachments by content library item id."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Field, Schema

from qike.api.schemas import Id, Text
from qike.moments.models import TEXT_MAX

UserId = Annotated[Text, Field(min_length=1, max_length=64)]
TagId = Annotated[Text, Field(min_length=1, max_length=64)]


class MomentIn(Schema):
    text: Annotated[Text, Field(max_length=TEXT_MAX)] = Field(
        "", description="The moment's text (≤ 2000 characters); may be empty with attachments."
    )
    item_ids: list[Id] = Field(
        [], max_length=20, description="Content library items: ≤ 9 images, or 1 video, or 1 link."
    )
    userids: list[UserId] = Field(
        [], max_length=10000, description="Staff who publish it. Empty (and no departments): all."
    )
    department_ids: list[Annotated[int, Field(ge=1)]] = Field(
        [], max_length=100, description="Departments whose staff publish it (WeCom ids)."
    )
    tag_ids: list[TagId] = Field(
        [], max_length=100, description="Only customers with one of these corp tags see it."
    )


class SenderOut(Schema):
    userid: str
    name: str
    published: bool
    reached: int = Field(..., description="Customers the published moment reached.")


class InteractionOut(Schema):
    kind: str = Field(..., description="comment or like.")
    sender: str = Field(..., description="UserID of the staff member whose moment it is.")
    external_userid: str
    customer_name: str
    userid: str = Field(..., description="A colleague who commented or liked (no customer).")
    occurred_at: dt.datetime


class MomentOut(Schema):
    id: int
    status: str = Field(..., description="creating, active, failed or cancelled.")
    text: str
    content_kind: str = Field(..., description="image, video, link, or empty for text only.")
    item_ids: list[int]
    userids: list[str]
    department_ids: list[int]
    tag_ids: list[str]
    moment_id: str
    errcode: int
    created_by: str
    created_at: dt.datetime
    checked_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    counts: dict[str, int] = Field(..., description="senders, published, reached, comments, likes.")


class MomentDetailOut(MomentOut):
    invalid_userids: list[str]
    invalid_department_ids: list[int]
    invalid_tag_ids: list[str]
    senders: list[SenderOut]
    interactions: list[InteractionOut]
