"""A seeded wecomsim corp connected to Qike and synced, console users in every role, a referral
campaign with a welcome message, a tag and a reward every 3 new customers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from qike.core import clock
from qike.customers.models import FollowRelation, RelationStatus
from qike.engagement.models import WelcomeMessage
from qike.org.access import access_for
from qike.org.models import Membership, Role, Staff, StaffStatus
from qike.referrals import services
from qike.referrals.services import CampaignSpec
from qike.sync.full import full_sync
from qike.tags.models import Tag


@pytest.fixture
def corp(qike_corp):
    full_sync(qike_corp)
    return qike_corp


@pytest.fixture
def userids(corp) -> list[str]:
    return sorted(
        Staff.objects.filter(corp=corp, status=StaffStatus.ACTIVE).values_list("userid", flat=True)
    )


@pytest.fixture
def users(corp, userids) -> dict[str, User]:
    made = {}
    for role in (Role.CORP_ADMIN, Role.OPERATIONS, Role.MANAGER, Role.STAFF):
        user = User.objects.create_user(f"u-{role}", password="pw")
        staff = Staff.objects.get(corp=corp, userid=userids[0]) if role == Role.STAFF else None
        Membership.objects.create(user=user, corp=corp, role=role, staff=staff)
        made[role] = user
    return made


@pytest.fixture
def admin(corp, users):
    return access_for(users[Role.CORP_ADMIN], corp)


def today() -> dt.date:
    return timezone.localtime(clock.now()).date()


@pytest.fixture
def tag(corp) -> Tag:
    return Tag.objects.filter(corp=corp, type=1).order_by("pk").first()


@pytest.fixture
def campaign(corp, admin, tag):
    welcome = WelcomeMessage.objects.create(
        corp=corp,
        name="老带新欢迎语",
        text="您好 %NICKNAME%，欢迎！",
        nickname_fallback="新朋友",  # a half-added customer's name is not readable yet
    )
    return services.save_campaign(
        access=admin,
        spec=CampaignSpec(
            name="春季老带新",
            starts_on=today(),
            intro="扫码添加顾问，领取新人礼包",
            tag_ids=(tag.wecom_id,),
            welcome_message_id=welcome.pk,
            reward_every=3,
            reward_text="送一张 50 元优惠券",
        ),
    )


def referrer(corp, userid: str, skip: int = 0) -> FollowRelation:
    """A confirmed, active relation of the member `userid`: an existing customer who can refer."""
    return (
        FollowRelation.objects.filter(
            corp=corp, staff__userid=userid, status=RelationStatus.ACTIVE, is_half=False
        )
        .select_related("customer", "staff")
        .order_by("pk")[skip]
    )


def scan(sim_corp, code, name: str = "新朋友", **extra) -> dict:
    """A friend scans the referrer's code (a half add: the code skips verification), Qike handles
    it, then the member confirms, as happens in the WeCom client."""
    body = {"customer": {"name": name}} if "external_userid" not in extra else {}
    answer = sim_corp.post("/customers/scan", config_id=code.config_id, **body, **extra)
    sim_corp.wait_for_callbacks()
    if answer["status"] == "half":
        sim_corp.post(
            f"/members/{answer['userid']}/accept", external_userid=answer["external_userid"]
        )
        sim_corp.wait_for_callbacks()
    return answer
