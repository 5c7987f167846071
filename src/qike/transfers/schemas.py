"""API shapes of transfers. Staff by WeCom UserID, customers by external_userid."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Field, Schema

from qike.api.schemas import Text
from qike.transfers.models import MAX_MESSAGE

UserId = Annotated[Text, Field(min_length=1, max_length=64)]
ExternalId = Annotated[Text, Field(min_length=1, max_length=64)]


class TransferIn(Schema):
    handover: UserId = Field(..., description="WeCom UserID of the staff member handing over.")
    takeover: UserId = Field(..., description="WeCom UserID of the staff member taking over.")
    external_userids: list[ExternalId] = Field(
        ..., min_length=1, max_length=2000, description="Customers to hand over."
    )
    message: Annotated[Text, Field(max_length=MAX_MESSAGE)] = Field(
        "", description="What the customers see (transfer_success_msg); WeCom's default if empty."
    )


class HeldOut(Schema):
    external_userid: str
    reason: str = Field(
        ..., description="not_follower, in_transfer, twice_in_90_days or takeover_follows."
    )
    message: str


class PreflightOut(Schema):
    handover: str
    takeover: str
    ready: list[str] = Field(..., description="Customers that would be sent to WeCom.")
    held: list[HeldOut] = Field(..., description="Customers WeCom would refuse: not sent.")


class ItemOut(Schema):
    external_userid: str
    customer_name: str
    status: str = Field(
        ..., description="waiting, done, refused, limit, no_record, or failed (see errcode)."
    )
    errcode: int
    takeover_at: dt.datetime | None
    finished_at: dt.datetime | None


class TransferOut(Schema):
    id: int
    kind: str = Field(..., description="onjob or resigned.")
    handover: str
    takeover: str
    message: str
    created_by: str
    created_at: dt.datetime
    checked_at: dt.datetime | None
    counts: dict[str, int] = Field(..., description="Customers per status.")


class TransferDetailOut(TransferOut):
    items: list[ItemOut]


class StartedOut(TransferDetailOut):
    held: list[HeldOut]


class UnassignedOut(Schema):
    handover: str
    external_userid: str
    customer_name: str
    left_at: dt.datetime | None


class ReassignIn(Schema):
    handover: UserId = Field(..., description="WeCom UserID of the member who left.")
    takeovers: list[UserId] = Field(
        ..., min_length=1, max_length=50, description="Customers are shared out evenly."
    )
    external_userids: list[ExternalId] | None = Field(
        None, max_length=2000, description="Which unassigned customers; all of them if omitted."
    )
