"""API shapes of phone-task batches and tasks. Staff by WeCom UserID, tags by WeCom id."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from qike.api.schemas import CursorPageMeta


class ProgressOut(Schema):
    total: int = Field(..., description="Tasks not cancelled.")
    added: int = Field(..., description="Added by their staff member (done).")
    already: int = Field(..., description="The staff member already had the phone as a customer.")
    open: int = Field(..., description="Waiting (pending or sent in a daily list).")
    overdue: int = Field(..., description="Open and scheduled before today (Asia/Shanghai).")
    cancelled: int


class StaffProgressOut(ProgressOut):
    staff: str = Field(..., description="WeCom UserID.")
    staff_name: str


class BatchOut(Schema):
    id: int
    name: str
    filename: str
    assign_mode: str = Field(..., description="even or by_column.")
    daily_cap: int
    tags: list[str]
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    progress: ProgressOut


class BatchDetailOut(BatchOut):
    by_staff: list[StaffProgressOut]


class TaskOut(Schema):
    id: int
    batch_id: int
    row: int = Field(..., description="The row in the imported file (the header is row 1).")
    name: str
    phone: str = Field(..., description="Masked (lists always mask phone numbers).")
    extra: dict[str, str] = Field(..., description="The file's other columns.")
    staff: str = Field(..., description="WeCom UserID of the assigned staff member.")
    scheduled_on: dt.date | None
    status: str = Field(
        ..., description="pending, sent (in a daily list), added, already_customer or cancelled."
    )
    overdue: bool
    sent_on: dt.date | None
    completed_at: dt.datetime | None
    matched_by: str = Field(..., description="remark_mobile or name, once added.")
    external_userid: str | None


class TaskPage(CursorPageMeta):
    items: list[TaskOut]
