"""API shapes for lost customers, churn stats, the shared pool and the settings."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Field, Schema

from qike.api.schemas import CursorPageMeta, Text
from qike.retention.models import MAX_REASONS, NOTE_MAX, REASON_MAX
from qike.retention.services import MAX_DAYS, MAX_LIMIT


class LostOut(Schema):
    id: int
    external_userid: str
    customer_name: str
    staff: str = Field(description="WeCom UserID of the member the customer was lost by.")
    kind: str = Field(description="deleted_by_customer | deleted_by_staff")
    lost_at: dt.datetime
    state: str = Field(description="Channel state of the relation (empty: none).")
    add_way: int
    stage: str = Field(description="Stage at the loss, when the lifecycle tracked one.")
    reason: str
    reason_note: str
    won_back_at: dt.datetime | None
    alert: str = Field(description="pending | sent | failed | none")


class LostPage(CursorPageMeta):
    items: list[LostOut]


class ReasonIn(Schema):
    reason: Annotated[Text, Field(max_length=REASON_MAX)] = Field(
        "", description="One of the corp's reasons; empty to clear."
    )
    note: Annotated[Text, Field(max_length=NOTE_MAX)] = ""


class StatOut(Schema):
    key: str
    label: str
    lost: int
    won_back: int
    by_staff: int = Field(description="Of `lost`, deleted by the member.")


class StatsOut(Schema):
    start: dt.date
    end: dt.date
    total: StatOut
    staff: list[StatOut]
    channel: list[StatOut] = Field(description="Keys `state:<state>` or `add_way:<n>`.")
    stage: list[StatOut] = Field(description="Key: the stage name; empty key: no stage.")


class PoolItemOut(Schema):
    external_userid: str
    customer_id: int
    name: str
    reason: str = Field(description="no_follower | idle | given_back")
    from_staff: str | None = Field(description="UserID of the member who had the customer.")
    pooled_at: dt.datetime


class PoolPage(CursorPageMeta):
    items: list[PoolItemOut]
    claims_left: int | None = Field(
        description="Claims the token's member has left today (null: the user is no member)."
    )


class ClaimIn(Schema):
    staff: Annotated[Text, Field(max_length=64)] = Field(
        "", description="Managers and corp-wide roles: claim for this UserID."
    )


class ClaimOut(Schema):
    external_userid: str
    staff: str
    claimed_at: dt.datetime
    transfer_id: int | None = Field(description="The on-job transfer started (transfers API).")
    transfer_note: str = Field(description="Why no transfer was started, if one was due.")


class SettingsIO(Schema):
    alert_staff: bool
    alert_manager: bool
    delete_limit: int = Field(ge=1, le=MAX_LIMIT)
    reasons: list[Annotated[Text, Field(max_length=REASON_MAX)]] = Field(max_length=MAX_REASONS)
    pool_idle_days: int = Field(ge=0, le=MAX_DAYS)
    claim_limit: int = Field(ge=0, le=MAX_LIMIT)
