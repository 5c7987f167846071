from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Schema

from qike.api.schemas import CursorPageMeta, Text


class AuditQuery(Schema):
    action: Annotated[Text, Field(max_length=64)] = Field(
        "", description='An exact action ("tags.delete") or an app prefix ending in "." ("tags.").'
    )
    actor: Annotated[Text, Field(max_length=150)] = Field("", description="Part of the user name.")
    target: Annotated[Text, Field(max_length=255)] = Field(
        "", description="Part of the object's label, or its id."
    )
    date_from: dt.date | None = Field(None, description="From this day (Asia/Shanghai).")
    date_to: dt.date | None = Field(None, description="To this day, inclusive.")


class AuditOut(Schema):
    id: int
    at: dt.datetime
    actor: str = Field(description="The user (and API token) who acted; empty: the system.")
    via: str = Field(description="console, api, job, command or system.")
    ip: str | None
    action: str
    target_type: str
    target_id: str
    target_label: str
    before: dict[str, Any]
    after: dict[str, Any]


class AuditPage(CursorPageMeta):
    items: list[AuditOut]
