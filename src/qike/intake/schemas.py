"""API schemas for the intake event store."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field

from qike.api.schemas import CursorPageMeta, Text
from qike.intake.models import EventStatus


class EventQuery(Schema):
    status: EventStatus | None = Field(None, description="pending / done / failed / ignored.")
    kind: Annotated[Text, Field(max_length=96)] = Field(
        "", description='Exact kind, e.g. "change_external_contact/add_external_contact".'
    )


class EventOut(Schema):
    id: int
    kind: str
    status: EventStatus
    event_time: dt.datetime | None = Field(description="When WeCom says it happened.")
    received_at: dt.datetime
    processed_at: dt.datetime | None
    deliveries: int = Field(description="How many times WeCom delivered it (repeats are ignored).")
    attempts: int = Field(description="How many times Qike ran its handlers.")
    last_error: str


class EventDetail(EventOut):
    payload: str = Field(description="The decrypted callback XML, as received.")


class EventPage(CursorPageMeta):
    items: list[EventOut]
