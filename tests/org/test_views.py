"""The organisation page: the department tree with staff and customer counts, scoped by role."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qike.org.models import Department, Staff, StaffDepartment
from tests.console.world import World, build_world, department, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def as_user(client, world):
    def login(key: str):
        client.force_login(world.users[key])
        return client

    return login


def _tree(html: str) -> dict[int, str]:
    """Department wecom_id → its "staff · customers" figure, as the tree shows them."""
    found = re.findall(
        r'data-department="(\d+)">.*?<span class="counts"[^>]*>([^<]+)</span>', html, re.S
    )
    return {int(wecom_id): counts.strip() for wecom_id, counts in found}


def _staff_customers(html: str) -> dict[str, int]:
    rows = re.findall(r'data-userid="([^"]+)">.*?data-customers="(\d+)"', html, re.S)
    return {userid: int(n) for userid, n in rows}


def test_corp_admin_sees_every_department_with_subtree_counts(as_user):
    html = as_user("admin").get("/org/").content.decode()
    # root: 4 members, 4 active follow-ups (the customer who deleted li.lei does not count)
    assert _tree(html) == {1: "4 · 4", 2: "2 · 2", 3: "1 · 1", 4: "1 · 2"}
    assert _staff_customers(html) == {"zhang.san": 2, "li.lei": 1, "han.mei": 1, "boss": 0}
    assert "可见范围内共 4 条客户跟进关系" in html


def test_choosing_a_department_lists_its_subtree_staff(as_user):
    html = as_user("admin").get("/org/?department=2").content.decode()
    assert _staff_customers(html) == {"li.lei": 1, "han.mei": 1}
    assert 'aria-current="true"' in html


def test_a_manager_sees_only_their_subtree(as_user):
    html = as_user("manager").get("/org/").content.decode()
    assert _tree(html) == {2: "2 · 2", 3: "1 · 1"}
    assert set(_staff_customers(html)) == {"li.lei", "han.mei"}
    assert "客服部" not in html and "zhang.san" not in html
    assert "可见范围内共 2 条客户跟进关系" in html


def test_a_department_outside_the_managers_scope_shows_nothing_of_it(as_user):
    response = as_user("manager").get("/org/?department=4")
    assert response.status_code == 200
    html = response.content.decode()
    assert "zhang.san" not in html
    assert set(_staff_customers(html)) == {"li.lei", "han.mei"}


def test_another_corps_department_id_reveals_nothing(as_user, world):
    department(world.other, 77, "别家部门", None)
    html = as_user("admin").get("/org/?department=77").content.decode()
    assert "别家部门" not in html


def test_staff_role_may_not_open_the_organisation(as_user):
    assert as_user("seller").get("/org/").status_code == 403


def test_search_and_left_staff(as_user, world):
    gone = member(world.corp, "gone", "离职员工", world.departments["sales"])
    Staff.objects.filter(pk=gone.pk).update(status=5)
    client = as_user("admin")
    assert "gone" not in _staff_customers(client.get("/org/").content.decode())
    assert "gone" in _staff_customers(client.get("/org/?left=on").content.decode())
    assert set(_staff_customers(client.get("/org/?q=韩").content.decode())) == {"han.mei"}


def _grow(world: World, departments: int, per_department: int) -> None:
    parent = world.departments["sales"]
    for index in range(departments):
        dept = department(world.corp, 100 + index, f"组{index}", parent)
        for n in range(per_department):
            member(world.corp, f"m{index}-{n}", f"成员{index}-{n}", dept)


def test_the_page_costs_the_same_number_of_queries_however_big_the_corp(as_user, world):
    client = as_user("admin")
    client.get("/org/")  # the first request also sets up the session
    with CaptureQueriesContext(connection) as small:
        assert client.get("/org/").status_code == 200
    _grow(world, departments=8, per_department=5)
    assert Department.objects.filter(corp=world.corp).count() == 12
    assert StaffDepartment.objects.filter(corp=world.corp).count() > 40
    with CaptureQueriesContext(connection) as big:
        assert client.get("/org/").status_code == 200
    assert len(big) == len(small)
