"""API schemas for customers and follow relations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field, model_validator

from qike.api.schemas import CursorPageMeta, Id, Text
from qike.customers.models import RelationStatus
from qike.customers.queries import CustomerFilter

MAX_SEARCH_LENGTH = 64
TagMode = Literal["any", "all", "none"]
WECOM_INT = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class CustomerFilterQuery(Schema):
    """The console's customer filters, as query parameters. Repeat `staff` and `tags` for several."""

    staff: list[Text] = Field(default_factory=list, description="Staff UserIDs (any of them).")
    department: Id | None = Field(None, description="WeCom department id: its whole subtree.")
    tags: list[Text] = Field(default_factory=list, description="WeCom tag ids.")
    tag_mode: TagMode = Field("any", description="any / all / none of `tags`.")
    added_from: dt.date | None = Field(None, description="Added on or after this day (Shanghai).")
    added_to: dt.date | None = Field(None, description="Added on or before this day (Shanghai).")
    add_way: WECOM_INT | None = Field(None, description="WeCom add_way code.")
    state: Annotated[Text, Field(max_length=64)] = Field("", description="Channel state.")
    status: RelationStatus | None = Field(None, description="Relation status.")
    q: Annotated[Text, Field(max_length=MAX_SEARCH_LENGTH)] = Field(
        "", description="Search customer name or remark."
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> CustomerFilterQuery:
        if self.added_from and self.added_to and self.added_from > self.added_to:
            raise ValueError(_("added_from must not be after added_to."))
        return self

    def to_filter(self) -> CustomerFilter:
        return CustomerFilter(
            staff=list(self.staff),
            department=self.department,
            tags=list(self.tags),
            tag_mode=self.tag_mode,
            added_from=self.added_from,
            added_to=self.added_to,
            add_way=self.add_way,
            state=self.state,
            status=self.status.value if self.status else "",
            q=self.q.strip(),
        )


class StaffRef(Schema):
    userid: str
    name: str


class TagRef(Schema):
    id: str = Field(description="WeCom tag id.")
    name: str
    group_id: str | None
    group_name: str | None
    type: int = Field(description="1 corp tag, 2 personal tag, 3 rule-group tag.")


class CustomerSummary(Schema):
    external_userid: str
    name: str
    avatar: str
    type: int = Field(description="1 WeChat user, 2 WeCom user.")


class RelationOut(Schema):
    id: int
    staff: StaffRef
    remark: str
    description: str
    remark_corp_name: str
    remark_mobiles: list[str] = Field(description="Masked in lists, in full on single items.")
    oper_userid: str
    add_way: int
    state: str
    added_at: dt.datetime
    status: RelationStatus
    is_half: bool
    tags: list[TagRef]


class RelationWithCustomer(RelationOut):
    customer: CustomerSummary


class CustomerOut(CustomerSummary):
    gender: int
    unionid: str
    position: str
    corp_name: str
    corp_full_name: str
    first_seen_at: dt.datetime = Field(description="When Qike first recorded the customer.")
    relations: list[RelationOut] = Field(description="Every follow relation you may see.")


class CustomerPage(CursorPageMeta):
    items: list[CustomerOut]


class RelationPage(CursorPageMeta):
    items: list[RelationWithCustomer]
