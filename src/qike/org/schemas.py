"""API schemas for departments and staff."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field

from qike.api.schemas import Id, PageMeta, Text
from qike.org.models import StaffStatus


class StaffQuery(Schema):
    department: Id | None = Field(None, description="WeCom department id: its whole subtree.")
    status: StaffStatus | None = Field(
        None, description="1 activated, 2 disabled, 4 not activated, 5 left."
    )
    q: Annotated[Text, Field(max_length=64)] = Field("", description="Search UserID or name.")


class DepartmentRef(Schema):
    id: int
    name: str
    is_leader: bool


class StaffOut(Schema):
    userid: str
    name: str
    alias: str
    position: str
    gender: str
    avatar: str
    status: int
    main_department: int | None
    left_at: dt.datetime | None
    departments: list[DepartmentRef]
    customer_count: int = Field(description="Customers this member follows now (active).")


class StaffPage(PageMeta):
    items: list[StaffOut]


class DepartmentOut(Schema):
    id: int = Field(description="WeCom department id.")
    name: str
    name_en: str
    parent_id: int
    order: int = Field(description="Larger comes first among siblings, as in WeCom.")
    path: list[int] = Field(description="Department ids from the root down to this one.")
    depth: int
    staff_count: int = Field(description="Members directly in this department (not left).")


class DepartmentPage(PageMeta):
    items: list[DepartmentOut]


class DepartmentNode(DepartmentOut):
    children: list[DepartmentNode]


DepartmentNode.model_rebuild()
