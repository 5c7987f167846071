"""API schemas for tag groups, tags and tagging customers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field

from qike.api.schemas import PageMeta, Text

MAX_TAGS_PER_CALL = 100
TagName = Annotated[Text, Field(max_length=64)]
WeComId = Annotated[Text, Field(max_length=64)]
Order = Annotated[int, Field(ge=0, le=2**32 - 1, description="Larger comes first, as in WeCom.")]


class TagOut(Schema):
    id: str = Field(description="WeCom tag id.")
    name: str
    order: int
    created_at: dt.datetime | None
    usage: int = Field(description="Customers (active follow relations you may see) with this tag.")


class TagGroupOut(Schema):
    id: str = Field(description="WeCom tag group id.")
    name: str
    order: int
    created_at: dt.datetime | None
    tags: list[TagOut]


class TagGroupPage(PageMeta):
    items: list[TagGroupOut]


class TagDetail(TagOut):
    group_id: str | None
    group_name: str | None


class GroupCreate(Schema):
    name: TagName
    tags: Annotated[list[TagName], Field(min_length=1, max_length=MAX_TAGS_PER_CALL)]
    order: Order = 0


class TagsAdd(Schema):
    names: Annotated[list[TagName], Field(min_length=1, max_length=MAX_TAGS_PER_CALL)]


class Change(Schema):
    """Rename, reorder, or both."""

    name: TagName | None = None
    order: Order | None = None


class MarkTags(Schema):
    add: Annotated[list[WeComId], Field(max_length=MAX_TAGS_PER_CALL)] = Field(
        default_factory=list, description="WeCom tag ids to put on the customer."
    )
    remove: Annotated[list[WeComId], Field(max_length=MAX_TAGS_PER_CALL)] = Field(
        default_factory=list, description="WeCom tag ids to take off."
    )
