"""API schemas for welcome messages, their files and their sends."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field, model_validator

from qike.api.schemas import CursorPageMeta, Id, PageMeta, Text
from qike.engagement.models import AttachmentKind, ChosenBy, ContentKind, SendStatus

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
    item_ids: list[Id] = Field(
        default_factory=list,
        max_length=MAX_LIST,
        description="Content-library items in the order to send, after `attachments` (together "
        "≤ 9 attachments); a text item's text is appended to the text and to each variant's.",
    )
    variants: list[VariantIn] = Field(default_factory=list, max_length=MAX_LIST)
    nickname_fallback: Annotated[Text, Field(max_length=32)] = Field(
        "", description="What %NICKNAME% becomes when WeCom does not tell the name."
    )
    is_corp_default: bool = False


class PickedItemOut(Schema):
    id: int
    kind: str | None = Field(description="null when the item was deleted from the library.")
    title: str | None
    missing: bool = Field(description="Deleted from the library: sends skip it.")


class MessageOut(Schema):
    id: int
    name: str
    text: str
    attachments: list[dict[str, Any]]
    item_ids: list[int]
    items: list[PickedItemOut]
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


# --- content library ---------------------------------------------------------------------------


class ItemFilters(Schema):
    q: Annotated[Text, Field(max_length=100)] = Field("", description="In the title or text.")
    kind: ContentKind | None = Field(None, description="Only this kind.")
    folder: Id | None = Field(None, description="Only items in this folder.")
    unfiled: bool = Field(False, description="Only items in no folder.")
    tag: Id | None = Field(None, description="Only items with this library tag.")


class ItemOut(Schema):
    id: int
    kind: ContentKind
    title: str
    text: str = Field(description="A text item's text; a link's description.")
    url: str
    appid: str
    page: str
    cover_url: str
    has_cover: bool = Field(description="A cover image file is kept in Qike.")
    filename: str
    size: int
    tracked: bool = Field(description="Links: sent through Qike's /l/ redirect, opens counted.")
    folder_id: int | None
    tags: list[str]
    sent_count: int = Field(description="Times handed out for sending.")
    opens: int = Field(description="Tracked-link opens.")
    unique_customers: int = Field(description="Customers who opened the tracked link.")
    created_at: dt.datetime
    updated_at: dt.datetime


class ItemPage(PageMeta):
    items: list[ItemOut]


class FolderIn(Schema):
    name: Annotated[Text, Field(max_length=200)]


class FolderOut(Schema):
    id: int
    name: str
    items: int


class TagOut(Schema):
    id: int
    name: str
    items: int


class LinkOpenOut(Schema):
    opened_at: dt.datetime
    external_userid: str | None
    campaign_ref: str
    user_agent: str


class LinkOpenPage(PageMeta):
    items: list[LinkOpenOut]


# --- quick replies -----------------------------------------------------------------------------


class ReplyGroupIn(Schema):
    name: Annotated[Text, Field(max_length=200)]
    position: int = Field(0, ge=0, le=1_000_000, description="Groups are shown in this order.")


class ReplyGroupOut(Schema):
    id: int
    name: str
    position: int
    replies: int


class ReplyIn(Schema):
    group_id: Id
    title: Annotated[Text, Field(max_length=500)]
    text: Short = Field("", description="≤ 4000 bytes.")
    keywords: Annotated[Text, Field(max_length=1000)] = Field(
        "", description="Separated by commas or spaces."
    )
    item_ids: list[Id] = Field(
        default_factory=list, max_length=MAX_LIST, description="Library items (≤ 9 attachments)."
    )


class ReplyOut(Schema):
    id: int
    group_id: int
    group: str
    title: str
    text: str
    keywords: str
    item_ids: list[int]
    used_count: int
    last_used_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ReplyPage(PageMeta):
    items: list[ReplyOut]


class ReplyFilters(Schema):
    q: Annotated[Text, Field(max_length=100)] = Field(
        "", description="In the title, keywords or text."
    )
    group: Id | None = Field(None, description="Only this group.")


class ItemIn(Schema):
    """A library item as multipart form fields (files go in `file` and `cover`)."""

    kind: ContentKind = Field(description="text, image, link, miniprogram, file or video.")
    title: Annotated[Text, Field(max_length=500)] = Field(
        "", description="Required for links (≤ 128 bytes) and mini programs (≤ 64 bytes)."
    )
    text: Short = Field("", description="text: the text (≤ 4000 bytes); link: description.")
    url: Short = Field("", description="link: http(s) address.")
    appid: Annotated[Text, Field(max_length=64)] = Field("", description="miniprogram: wx…")
    page: Annotated[Text, Field(max_length=255)] = Field("", description="miniprogram: page.")
    cover_url: Short = Field("", description="link: cover image address (instead of `cover`).")
    tracked: bool = Field(True, description="link: count opens through Qike's redirect.")
    folder_id: Id | None = None
    tags: Annotated[Text, Field(max_length=1000)] = Field(
        "", description="Library tags, separated by commas."
    )
