"""API schemas: stages, a relation's stage and history, the board, the funnel, follow-ups."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from qike.api.schemas import CursorPageMeta, Id, Text
from qike.lifecycle.models import MAX_STALE_DAYS, NAME_MAX
from qike.lifecycle.services import CONTENT_MAX


class StageOut(Schema):
    id: int
    name: str
    order: int
    is_exit: bool
    stale_days: int | None = Field(description="A stay longer than this reminds the member.")
    retired_at: dt.datetime | None


class StageIn(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=NAME_MAX)]
    stale_days: int | None = Field(None, ge=1, le=MAX_STALE_DAYS)
    is_exit: bool = Field(False, description="Only when creating: an exit stage (无意向客户).")


class StageOrderIn(Schema):
    stage_ids: list[Id] = Field(description="Every active non-exit stage, once, in the new order.")


class RelationStageOut(Schema):
    relation_id: int
    stage: StageOut
    entered_at: dt.datetime
    days_in_stage: int


class MoveIn(Schema):
    stage_id: Id


class StageChangeOut(Schema):
    id: int
    from_stage: str | None
    from_stage_id: int | None
    to_stage: str
    to_stage_id: int
    at: dt.datetime
    days_in_previous_stage: float | None
    actor: str


class CardOut(Schema):
    relation_id: int
    external_userid: str
    name: str
    staff: str
    entered_at: dt.datetime
    days_in_stage: int


class ColumnOut(Schema):
    stage: StageOut
    count: int
    cards: list[CardOut]


class BoardRelationOut(CardOut):
    stage_id: int
    stage: str
    status: str


class BoardRelationPage(CursorPageMeta):
    items: list[BoardRelationOut]


class FunnelStageOut(Schema):
    stage: StageOut
    count: int = Field(description="Customers in this stage now.")
    reached: int | None = Field(description="Customers that got this far (None for exits).")
    conversion: float | None = Field(description="Percent of the previous stage's `reached`.")
    avg_days: float | None = Field(description="Average completed stay, in days.")
    stays: int


class FunnelRowOut(Schema):
    key: str
    label: str
    counts: dict[str, int] = Field(description="Stage id → customers in that stage now.")
    total: int


class FunnelOut(Schema):
    total: int
    stages: list[FunnelStageOut]
    by_staff: list[FunnelRowOut]
    by_channel: list[FunnelRowOut]
    by_add_way: list[FunnelRowOut]


class FollowUpIn(Schema):
    kind: Literal["note", "call", "visit"]
    content: Annotated[Text, Field(min_length=1, max_length=CONTENT_MAX)]
    next_on: dt.date | None = Field(None, description="Remind the member on this day (09:00).")


class FollowUpCreateIn(FollowUpIn):
    happened_at: dt.datetime | None = Field(None, description="Default: now.")


class FollowUpOut(Schema):
    id: int
    relation_id: int
    kind: str
    content: str
    happened_at: dt.datetime
    next_on: dt.date | None
    reminded_at: dt.datetime | None
    author: str
    created_at: dt.datetime
    updated_at: dt.datetime
