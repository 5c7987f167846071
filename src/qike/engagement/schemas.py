"""API schemas for welcome messages, their files and their sends."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field, model_validator

from qike.api.schemas import CursorPageMeta, Id, PageMeta, Text
from qike.engagement.models import AttachmentKind, ChosenBy, SendStatus

# Generous caps so that a too-long list still reaches the service and gets its clear message
# (at most 9 attachments), while absurd bodies are refused early.
MAX_LIST = 50
MAX_FIELD = 8192

Short = Annotated[Text, Field(max_length=MAX_FIELD)]


class AttachmentIn(Schema):
    msgtype: AttachmentKind = Field(description="image, link, miniprogram, file or video.")
    title: Short = Field("", description="link and miniprogram: ≤ 128 / ≤ 64 bytes.")
    url: Short = Field("", description="link: the page to open (http/https).")
    desc: Short = Field("", description="link: ≤ 512 bytes.")
    picurl: Short = Field("", description="link: cover image URL.")
    appid: Short = Field("", description="miniprogram: the AppID (wx…).")
    page: Short = Field("", description="miniprogram: the page to open.")
    media: Id | None = Field(
        None,
        description="image, video, file, and a mini program's cover: the id of a file uploaded "
        "with POST /welcome-media.",
    )


class VariantIn(Schema):
    start: Annotated[Text, Field(max_length=5)] = Field(description="HH:MM, China time.")
    end: Annotated[Text, Field(max_length=5)] = Field(description="HH:MM; before start wraps.")
    text: Short = Field("", description="Replaces the message's text in this time range.")


class MessageIn(Schema):
    name: Annotated[Text, Field(max_length=64)]
    text: Short = Field("", description="≤ 4000 bytes; %NICKNAME% becomes the customer's name.")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_LIST)
    variants: list[VariantIn] = Field(default_factory=list, max_length=MAX_LIST)
    nickname_fallback: Annotated[Text, Field(max_length=32)] = Field(
        "", description="What %NICKNAME% becomes when WeCom does not tell the name."
    )
    is_corp_default: bool = False


class MessageOut(Schema):
    id: int
    name: str
    text: str
    attachments: list[dict[str, Any]]
    variants: list[dict[str, Any]]
    nickname_fallback: str
    is_corp_default: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class MessagePage(PageMeta):
    items: list[MessageOut]


class MediaOut(Schema):
    id: int
    kind: str
    filename: str
    size: int
    created_at: dt.datetime


class StaffDefaultIn(Schema):
    message_id: Id | None = Field(None, description="A library message; null for none.")


class StaffDefaultOut(Schema):
    userid: str
    message_id: int | None
    message_name: str | None


class SendFilters(Schema):
    status: SendStatus | None = Field(None, description="Result of the send.")
    staff: Annotated[Text, Field(max_length=64)] = Field("", description="Staff UserID.")
    customer: Annotated[Text, Field(max_length=64)] = Field(
        "", description="Customer's external UserID or part of the name."
    )
    since: dt.date | None = Field(None, description="On or after this day (China time).")
    until: dt.date | None = Field(None, description="On or before this day (China time).")

    @model_validator(mode="after")
    def _dates_in_order(self) -> SendFilters:
        if self.since and self.until and self.since > self.until:
            raise ValueError(_("since must not be after until."))
        return self


class SendOut(Schema):
    id: int
    status: SendStatus
    welcome_code: str
    userid: str
    external_userid: str
    customer_name: str
    state: str
    source: str
    message_id: int | None
    message_name: str
    chosen_by: ChosenBy | None
    variant: str
    text: str
    attachments: list[dict[str, Any]]
    errcode: int | None
    errmsg: str
    event_at: dt.datetime
    created_at: dt.datetime
    finished_at: dt.datetime | None


class SendPage(CursorPageMeta):
    items: list[SendOut]
