"""A seeded wecomsim corp connected to Qike and synced, console users in every role, a lead form."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from qike.leads import services
from qike.leads.services import FormSpec
from qike.org.access import access_for
from qike.org.models import Membership, Role, Staff, StaffStatus
from qike.sync.full import full_sync
from qike.tags.models import Tag


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


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


@pytest.fixture
def lead_form(corp, admin, userids):
    tag = Tag.objects.filter(corp=corp, type=1).order_by("pk").first()
    return services.save_form(
        access=admin,
        spec=FormSpec(
            name="官网留资",
            slug="website",
            fields=(("name", True), ("phone", True), ("company", False), ("region", False)),
            userids=tuple(userids[:2]),
            tag_ids=(tag.wecom_id,),
            thank_you="感谢您的关注",
        ),
    )


def form_url(form) -> str:
    return f"/f/{form.corp.corpid}/{form.slug}/"


def submit(client, form, **answers):
    body = {"name": "张三", "phone": "13812345678", "company": "星河科技", **answers}
    return client.post(form_url(form), body, HTTP_ACCEPT_LANGUAGE="zh-hans")
