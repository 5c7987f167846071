"""API schemas: segments, their rules, counts and previews."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field

from qike.api.schemas import Text
from qike.segments.models import DESCRIPTION_MAX, NAME_MAX
from qike.segments.services import PREVIEW_MAX

RULES_DOC = (
    "Rules, all ANDed (staff and departments together name the followers): tags_any, tags_all, "
    "tags_none (WeCom tag ids), states (channel states), staff (userids), departments (WeCom "
    "department ids, with their subtrees), added_from, added_to (YYYY-MM-DD), added_within_days, "
    "statuses (active, deleted_by_customer, deleted_by_staff; default active), include_half, "
    "interacted_within_days, inactive_for_days, stages (lifecycle stage ids)."
)


class SegmentIn(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=NAME_MAX)]
    description: Annotated[Text, Field(max_length=DESCRIPTION_MAX)] = ""
    owner: Annotated[Text, Field(max_length=64)] = Field(
        "", description="UserID of the member mass messages may send through; empty for none."
    )
    rules: dict = Field(default_factory=dict, description=RULES_DOC)


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    owner: str = Field(description="UserID of the owner, or empty.")
    rules: dict
    created_at: dt.datetime
    updated_at: dt.datetime


class SegmentCountOut(SegmentOut):
    count: int = Field(description="Matching customers within the caller's scope, now.")


class RulesIn(Schema):
    rules: dict = Field(default_factory=dict, description=RULES_DOC)


class CountOut(Schema):
    count: int = Field(description="Distinct customers matching, within the caller's scope.")


class MemberOut(Schema):
    relation_id: int
    external_userid: str
    name: str
    staff: str = Field(description="UserID of the member whose relation matched (newest added).")
    added_at: dt.datetime


class PreviewIn(RulesIn):
    limit: int = Field(20, ge=1, le=PREVIEW_MAX)


class PreviewOut(Schema):
    count: int
    members: list[MemberOut]
