"""A small corp built straight in the database for console tests: a department tree, members in it,
customers followed by them, tags, timeline entries, and one console user per role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User

from qike.core import clock
from qike.core.models import Corp
from qike.customers.models import (
    Customer,
    FollowRelation,
    RelationStatus,
    TimelineEntry,
    TimelineKind,
)
from qike.org.models import Department, Membership, Role, Staff, StaffDepartment
from qike.tags.models import Tag, TagAssignment, TagGroup

PASSWORD = "pw-for-tests-1"


@dataclass
class World:
    corp: Corp
    other: Corp
    departments: dict[str, Department]
    staff: dict[str, Staff]
    customers: dict[str, Customer]
    relations: dict[tuple[str, str], FollowRelation]
    tags: dict[str, Tag]
    users: dict[str, User]


def department(corp: Corp, wecom_id: int, name: str, parent: Department | None) -> Department:
    path = f"{parent.path if parent else '/'}{wecom_id}/"
    return Department.objects.create(
        corp=corp,
        wecom_id=wecom_id,
        name=name,
        parent_wecom_id=parent.wecom_id if parent else 0,
        path=path,
        depth=path.count("/") - 1,
    )


def member(corp: Corp, userid: str, name: str, dept: Department, leader: bool = False) -> Staff:
    staff = Staff.objects.create(corp=corp, userid=userid, name=name, main_department=dept.wecom_id)
    StaffDepartment.objects.create(corp=corp, staff=staff, department=dept, is_leader=leader)
    return staff


def follow(
    corp: Corp,
    customer: Customer,
    staff: Staff,
    *,
    added_at: dt.datetime | None = None,
    tags: tuple[Tag, ...] = (),
    **values,
) -> FollowRelation:
    relation = FollowRelation.objects.create(
        corp=corp, customer=customer, staff=staff, added_at=added_at or clock.now(), **values
    )
    for tag in tags:
        TagAssignment.objects.create(corp=corp, relation=relation, tag=tag)
    return relation


def user(username: str, corp: Corp | None = None, role: str = "", **membership) -> User:
    account = User.objects.create_user(username, password=PASSWORD)
    if corp is not None:
        departments = membership.pop("departments", [])
        link = Membership.objects.create(user=account, corp=corp, role=role, **membership)
        link.departments.set(departments)
    return account


def build_world() -> World:
    corp = Corp.objects.create(corpid="wwconsole", name="云帆科技", secret="s")
    other = Corp.objects.create(corpid="wwother", name="别家公司", secret="s")
    root = department(corp, 1, "云帆科技", None)
    sales = department(corp, 2, "销售部", root)
    north = department(corp, 3, "华北销售", sales)
    service = department(corp, 4, "客服部", root)
    staff = {
        "boss": member(corp, "boss", "王总", root),
        "sales": member(corp, "li.lei", "李雷", sales, leader=True),
        "north": member(corp, "han.mei", "韩梅梅", north),
        "service": member(corp, "zhang.san", "张三", service),
        "other": member(other, "bob", "鲍勃", department(other, 1, "Other", None)),
    }
    group = TagGroup.objects.create(corp=corp, wecom_id="etgLevel", name="客户等级")
    tags = {
        "vip": Tag.objects.create(corp=corp, wecom_id="etVIP", name="VIP", group=group, order=2),
        "normal": Tag.objects.create(corp=corp, wecom_id="etNormal", name="普通", group=group),
    }
    customers = {
        key: Customer.objects.create(corp=corp, external_userid=f"wm{key}", name=name)
        for key, name in [("c1", "周杰"), ("c2", "吴晓"), ("c3", "郑琳"), ("c4", "钱多多")]
    }
    customers["cb"] = Customer.objects.create(corp=other, external_userid="wmcb", name="外人")
    now = clock.now()
    relations = {
        ("c1", "sales"): follow(
            corp,
            customers["c1"],
            staff["sales"],
            added_at=now - dt.timedelta(days=3),
            tags=(tags["vip"],),
            remark="周杰-老客户",
            remark_mobiles=["13800001111"],
            add_way=1,
            state="spring-fair",
        ),
        ("c2", "north"): follow(
            corp, customers["c2"], staff["north"], tags=(tags["normal"],), add_way=2
        ),
        ("c3", "service"): follow(corp, customers["c3"], staff["service"], add_way=1),
        ("c4", "service"): follow(
            corp,
            customers["c4"],
            staff["service"],
            added_at=now - dt.timedelta(days=10),
            tags=(tags["vip"],),
            add_way=16,
        ),
        ("c4", "sales"): follow(
            corp,
            customers["c4"],
            staff["sales"],
            status=RelationStatus.DELETED_BY_CUSTOMER,
            status_changed_at=now,
            added_at=now - dt.timedelta(days=5),
        ),
        ("cb", "other"): follow(other, customers["cb"], staff["other"]),
    }
    TimelineEntry.objects.create(
        corp=corp,
        customer=customers["c4"],
        staff=staff["sales"],
        kind=TimelineKind.DELETED_BY_CUSTOMER,
        occurred_at=now,
    )
    TimelineEntry.objects.create(
        corp=corp,
        customer=customers["c4"],
        staff=staff["service"],
        kind=TimelineKind.ADDED,
        occurred_at=now - dt.timedelta(days=10),
    )
    users = {
        "admin": user("admin1", corp, Role.CORP_ADMIN),
        "ops": user("ops1", corp, Role.OPERATIONS),
        "manager": user("li.lei", corp, Role.MANAGER, staff=staff["sales"], departments=[sales]),
        "seller": user("han.mei", corp, Role.STAFF, staff=staff["north"]),
        "outsider": user("bob", other, Role.CORP_ADMIN),
        "nobody": user("nobody"),
    }
    return World(
        corp, other, {"root": root, "sales": sales}, staff, customers, relations, tags, users
    )
