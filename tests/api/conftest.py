"""A small corp built with the model layer and services, users in every role, and API tokens.

Corp A's tree:  1 总部 ─┬─ 2 销售部 ── 3 华东组
                        └─ 4 市场部
Members: east (华东组), sales (销售部, its leader), market (市场部), gone (市场部, left).
Customers: wm_east (east), wm_sales (sales), wm_market (market), wm_shared (east and market),
wm_lost (east; deleted by the customer).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from qike.api import services as api_services
from qike.core import clock
from qike.core.models import Corp
from qike.customers.models import Customer, FollowRelation, RelationStatus
from qike.intake.models import CallbackEvent, EventStatus
from qike.org import services as org_services
from qike.org.access import access_for
from qike.org.models import Department, Membership, Role, Staff, StaffStatus
from qike.tags.models import Tag, TagAssignment, TagGroup

BASE = "/api/v1"


@dataclass
class World:
    corp: Corp
    other: Corp
    users: dict[str, User]
    relations: dict[tuple[str, str], FollowRelation]
    events: dict[str, CallbackEvent]
    other_objects: dict[str, str] = field(default_factory=dict)


class Api:
    """The Django test client speaking to /api/v1 with one bearer token."""

    def __init__(self, token: str) -> None:
        self.client = Client()
        self.token = token

    def _headers(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}", "HTTP_ACCEPT_LANGUAGE": "en"}

    def get(self, path: str, **params):
        return self.client.get(f"{BASE}{path}", params, **self._headers())

    def post(self, path: str, body: dict | None = None):
        return self.client.post(
            f"{BASE}{path}", body or {}, content_type="application/json", **self._headers()
        )

    def patch(self, path: str, body: dict):
        return self.client.patch(
            f"{BASE}{path}", body, content_type="application/json", **self._headers()
        )

    def delete(self, path: str):
        return self.client.delete(f"{BASE}{path}", **self._headers())


def _staff(
    corp: Corp, userid: str, name: str, dept: int, *, status: int = 1, leader: bool = False
) -> Staff:
    return org_services.upsert_staff(
        corp=corp,
        userid=userid,
        name=name,
        departments=[dept],
        leader_in=[dept] if leader else [],
        status=status,
    )


def _relation(corp, customer, staff, *, days_ago: int, **extra) -> FollowRelation:
    return FollowRelation.objects.create(
        corp=corp,
        customer=customer,
        staff=staff,
        added_at=clock.now() - dt.timedelta(days=days_ago),
        **extra,
    )


def contact_xml(corpid: str, change_type: str, userid: str, external_userid: str, at: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{corpid}]]></ToUserName>"
        "<FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_contact]]></Event>"
        f"<ChangeType><![CDATA[{change_type}]]></ChangeType>"
        f"<UserID><![CDATA[{userid}]]></UserID>"
        f"<ExternalUserID><![CDATA[{external_userid}]]></ExternalUserID></xml>"
    )


def build_corp(corpid: str, prefix: str = "") -> tuple[Corp, dict]:
    # No WeCom behind these corps: a call that slipped through would fail at once, not hang.
    corp = Corp.objects.create(
        corpid=corpid, name=f"{corpid} 公司", secret="s", api_base_url="http://127.0.0.1:9"
    )
    for wecom_id, name, parent in [
        (1, "总部", 0),
        (2, "销售部", 1),
        (3, "华东组", 2),
        (4, "市场部", 1),
    ]:
        org_services.upsert_department(
            corp=corp, wecom_id=wecom_id, name=name, parent_wecom_id=parent
        )
    staff = {
        "east": _staff(corp, f"{prefix}east", "华东张三", 3),
        "sales": _staff(corp, f"{prefix}sales", "销售李四", 2, leader=True),
        "market": _staff(corp, f"{prefix}market", "市场王五", 4),
        "gone": _staff(corp, f"{prefix}gone", "离职赵六", 4, status=StaffStatus.LEFT),
    }
    customers = {
        name: Customer.objects.create(corp=corp, external_userid=f"{prefix}{name}", name=label)
        for name, label in [
            ("wm_east", "华东客户"),
            ("wm_sales", "销售客户"),
            ("wm_market", "市场客户"),
            ("wm_shared", "共同客户"),
            ("wm_lost", "流失客户"),
        ]
    }
    relations = {
        ("wm_east", "east"): _relation(
            corp,
            customers["wm_east"],
            staff["east"],
            days_ago=1,
            remark="老客户",
            remark_mobiles=["13812345678"],
            state="spring",
            add_way=1,
        ),
        ("wm_sales", "sales"): _relation(corp, customers["wm_sales"], staff["sales"], days_ago=2),
        ("wm_market", "market"): _relation(
            corp, customers["wm_market"], staff["market"], days_ago=3, add_way=3
        ),
        ("wm_shared", "east"): _relation(corp, customers["wm_shared"], staff["east"], days_ago=4),
        ("wm_shared", "market"): _relation(
            corp, customers["wm_shared"], staff["market"], days_ago=5
        ),
        ("wm_lost", "east"): _relation(
            corp,
            customers["wm_lost"],
            staff["east"],
            days_ago=6,
            status=RelationStatus.DELETED_BY_CUSTOMER,
        ),
    }
    group = TagGroup.objects.create(
        corp=corp, wecom_id=f"{prefix}etGROUP", name="客户等级", order=1
    )
    vip = Tag.objects.create(corp=corp, wecom_id=f"{prefix}etVIP", group=group, name="VIP", order=2)
    new = Tag.objects.create(
        corp=corp, wecom_id=f"{prefix}etNEW", group=group, name="新客", order=1
    )
    for key, tag in [
        (("wm_east", "east"), vip),
        (("wm_shared", "market"), vip),
        (("wm_shared", "east"), new),
        (("wm_market", "market"), new),
    ]:
        TagAssignment.objects.create(corp=corp, relation=relations[key], tag=tag)
    now = int(clock.now().timestamp())
    events = {
        # `east` deleting a customer: its handler only records the loss (no WeCom call).
        "failed": CallbackEvent.objects.create(
            corp=corp,
            dedupe_key=f"{prefix}lost",
            kind="change_external_contact/del_external_contact",
            payload=contact_xml(
                corpid, "del_external_contact", f"{prefix}east", f"{prefix}wm_east", now
            ),
            status=EventStatus.FAILED,
            attempts=1,
            last_error="OperationalError: database is locked",
        ),
        "done": CallbackEvent.objects.create(
            corp=corp,
            dedupe_key=f"{prefix}edit",
            kind="change_external_contact/edit_external_contact",
            payload=contact_xml(
                corpid, "edit_external_contact", f"{prefix}east", f"{prefix}wm_east", now
            ),
            status=EventStatus.DONE,
            attempts=1,
        ),
    }
    return corp, {"staff": staff, "customers": customers, "relations": relations, "events": events}


def _user(username: str, corp: Corp | None, role: str | None, **membership) -> User:
    user = User.objects.create_user(username, password="pw")
    if corp is not None and role is not None:
        departments = membership.pop("departments", [])
        member = Membership.objects.create(user=user, corp=corp, role=role, **membership)
        member.departments.set(departments)
    return user


@pytest.fixture(autouse=True)
def _english():
    """Service calls outside a request speak the default language (zh-Hans); these tests read
    English messages. API calls choose their language per request (Accept-Language)."""
    with translation.override("en"):
        yield


@pytest.fixture
def world(db) -> World:
    corp, a = build_corp("wwA")
    other, b = build_corp("wwB", prefix="b_")
    users = {
        "admin": _user("admin", corp, Role.CORP_ADMIN),
        "ops": _user("ops", corp, Role.OPERATIONS),
        "manager": _user(
            "manager",
            corp,
            Role.MANAGER,
            departments=[Department.objects.get(corp=corp, wecom_id=2)],
        ),
        "staff": _user("staff", corp, Role.STAFF, staff=a["staff"]["east"]),
        "root": User.objects.create_superuser("root", password="pw"),
        "b_admin": _user("b_admin", other, Role.CORP_ADMIN),
    }
    return World(
        corp=corp,
        other=other,
        users=users,
        relations=a["relations"],
        events=a["events"],
        other_objects={
            "customer": "b_wm_east",
            "relation": str(b["relations"][("wm_east", "east")].pk),
            "tag": "b_etVIP",
            "group": "b_etGROUP",
            "event": str(b["events"]["failed"].pk),
            "staff": "b_east",
        },
    )


def make_token(corp: Corp, user: User, scopes: str = "read write") -> str:
    """A token acting as `user`, created by the corp's admin (or by `user` when they may)."""
    creator = user
    access = access_for(creator, corp)
    if not access.can(api_services.Action.MANAGE_API_TOKENS):
        creator = Membership.objects.filter(corp=corp, role=Role.CORP_ADMIN).first().user
        access = access_for(creator, corp)
    _token, plaintext = api_services.create_token(
        access=access, name=f"{user.username} {scopes}", scopes=scopes, user=user
    )
    return plaintext


@pytest.fixture
def api_as(world):
    """api_as("manager") → an Api client whose token acts as that user in corp A."""

    def build(role: str, scopes: str = "read write") -> Api:
        return Api(make_token(world.corp, world.users[role], scopes))

    return build
