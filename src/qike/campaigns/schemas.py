"""API shapes of mass messages. Staff by WeCom UserID, customers by external_userid."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Field, Schema

from qike.api.schemas import Id, Text
from qike.campaigns.models import MAX_ATTACHMENTS, TITLE_MAX

ExternalId = Annotated[Text, Field(min_length=1, max_length=64)]


class CampaignIn(Schema):
    title: Annotated[Text, Field(max_length=TITLE_MAX)] = Field(
        "", description="Shown in the console; the first line of the text if empty."
    )
    text: Text = Field("", description="≤ 4000 bytes. Text or attachments (or both) are needed.")
    item_ids: list[Id] = Field(
        [], max_length=MAX_ATTACHMENTS, description="Content library items (≤ 9 attachments)."
    )
    segment_id: Id | None = Field(None, description="The audience: a segment…")
    external_userids: list[ExternalId] = Field(
        [], max_length=1_000_000, description="…or an explicit list of customers."
    )
    follower_rule: str = Field(
        "first",
        description="Who sends to a customer several staff follow: first, latest or owner "
        "(the segment's owner when they follow the customer, else the first follower).",
    )
    scheduled_at: dt.datetime | None = Field(
        None, description="Send at this time (with a time zone, in the future); now if omitted."
    )
    auto_remind: bool = Field(
        True, description="Remind staff who have not sent it, automatically (on by default)."
    )
    remind_after_hours: list[int] | None = Field(
        None,
        description="When, in whole hours after sending: 1 to 3 rising values within 168; "
        "[2, 6, 20] if omitted. Ignored when auto_remind is false.",
    )


class SkippedOut(Schema):
    reason: str = Field(
        ...,
        description="reached_today, reached_month, pending_elsewhere, no_active_follower, deleted.",
    )
    message: str
    count: int
    examples: list[str] = Field(..., description="Up to 20 external_userids.")


class PreflightOut(Schema):
    customers: int
    to_send: int = Field(..., description="Customers WeCom will be asked to send to.")
    staff: int = Field(..., description="Sending staff members.")
    calls: int = Field(..., description="add_msg_template calls (≤ 10,000 customers each).")
    duplicates: int = Field(..., description="Customers several staff follow, sent once.")
    limit_rule: str = Field(..., description="daily (1 per customer per day) or monthly (4).")
    receipts_checked: bool = Field(
        ..., description="False when WeCom could not list today's other mass messages."
    )
    skipped: list[SkippedOut]


class CountsOut(Schema):
    sent: int
    pending: int
    skipped: int
    failed: int
    cancelled: int


class CampaignOut(Schema):
    id: int
    title: str
    text: str
    item_ids: list[int]
    segment_id: int | None
    follower_rule: str
    limit_rule: str
    status: str = Field(
        ..., description="scheduled, dispatching, dispatched, finished, cancelled or failed."
    )
    scheduled_at: dt.datetime | None
    created_by: str
    created_at: dt.datetime
    dispatched_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    polled_at: dt.datetime | None
    error: str
    counts: CountsOut
    auto_remind: bool
    remind_after_hours: list[int] = Field(..., description="Empty when auto_remind is false.")
    next_auto_remind_at: dt.datetime | None = Field(
        ...,
        description="When the next automatic reminder is due; null when none will come "
        "(off, all taken, or the campaign no longer waits for staff).",
    )


class StaffOut(Schema):
    userid: str
    name: str
    status: str = Field(
        ...,
        description="waiting, sent, failed, cancelled, or unknown (WeCom's answer to the "
        "creation was lost; Qike is looking for the message in WeCom and never sends it twice).",
    )
    send_time: dt.datetime | None
    reminders: int = Field(..., description="Reminders in the last 24 hours (at most 3).")
    next_remind_at: dt.datetime | None
    counts: dict[str, int]


class ReminderOut(Schema):
    userid: str
    name: str
    at: dt.datetime
    auto: bool = Field(..., description="Sent by the automatic schedule.")
    step: int | None = Field(..., description="Automatic: which step (1, 2, 3).")
    by: str = Field(..., description="Manual: who asked (empty when not known).")


class SnapshotOut(Schema):
    at: dt.datetime
    sent: int
    pending: int
    skipped: int
    failed: int
    cancelled: int


class ProgressOut(Schema):
    done: int = Field(..., description="WeCom messages checked so far.")
    total: int = Field(..., description="WeCom messages this poll checks.")
    results: int = Field(..., description="Customer results read so far.")
    at: dt.datetime


class CampaignDetailOut(CampaignOut):
    progress: ProgressOut | None = Field(None, description="Set while a poll runs.")
    preflight: dict
    plan: dict
    staff: list[StaffOut]
    reminders: list[ReminderOut] = Field(..., description="Every reminder sent, oldest first.")
    history: list[SnapshotOut]


class DeliveryOut(Schema):
    external_userid: str
    customer_name: str
    staff: str
    status: str = Field(
        ...,
        description="pending, sent, skipped, not_friend, at_limit, failed or cancelled.",
    )
    reason: str
    send_time: dt.datetime | None


class RemindIn(Schema):
    userid: str = Field("", description="One staff member; everyone still waiting if empty.")


class RemindedOut(Schema):
    reminded: list[str]
    held: dict[str, dt.datetime] = Field(
        ..., description="Staff not reminded, with when WeCom allows it again (3 per 24 h)."
    )


class PolicyIn(Schema):
    limit_rule: str = Field(..., description="daily (current WeCom rule) or monthly (older).")


class PolicyOut(Schema):
    limit_rule: str
