import pytest
from django.core.exceptions import ValidationError

from qike.core.models import Corp
from qike.org import services
from qike.org.models import Department, Staff, StaffStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def corp():
    return Corp.objects.create(corpid="wwo", secret="s")


def _chain(corp, depth: int) -> None:
    for level in range(1, depth + 1):
        services.upsert_department(
            corp=corp, wecom_id=level, name=f"L{level}", parent_wecom_id=level - 1
        )


def test_departments_nest_fourteen_levels_and_no_more(corp):
    _chain(corp, 14)
    assert (
        Department.objects.get(corp=corp, wecom_id=14).path
        == "/" + "/".join(map(str, range(1, 15))) + "/"
    )
    with pytest.raises(ValidationError, match="14"):
        services.upsert_department(corp=corp, wecom_id=15, name="too deep", parent_wecom_id=14)
    assert not Department.objects.filter(wecom_id=15).exists()


def test_moving_a_department_moves_its_subtree(corp):
    _chain(corp, 3)
    services.upsert_department(corp=corp, wecom_id=9, name="other", parent_wecom_id=1)
    services.upsert_department(corp=corp, wecom_id=2, name="L2", parent_wecom_id=9)
    assert Department.objects.get(corp=corp, wecom_id=3).path == "/1/9/2/3/"


def test_duplicate_mobile_or_email_is_refused_with_a_clear_error(corp):
    services.upsert_staff(corp=corp, userid="a", mobile="13800000000", email="a@x.cn")
    with pytest.raises(ValidationError, match="13800000000 is already used by a"):
        services.upsert_staff(corp=corp, userid="b", mobile="13800000000")
    with pytest.raises(ValidationError, match="already used by a"):
        services.upsert_staff(corp=corp, userid="b", email="a@x.cn")
    assert not Staff.objects.filter(userid="b").exists()


def test_same_mobile_in_two_corps_is_fine(corp):
    other = Corp.objects.create(corpid="wwo2", secret="s")
    services.upsert_staff(corp=corp, userid="a", mobile="13800000000")
    services.upsert_staff(corp=other, userid="a", mobile="13800000000")
    assert Staff.objects.filter(userid="a").count() == 2


def test_replace_staff_marks_missing_members_as_left(corp):
    services.upsert_staff(corp=corp, userid="stays")
    services.upsert_staff(corp=corp, userid="goes")
    services.replace_staff(corp=corp, users=[{"userid": "stays", "name": "留下", "status": 1}])
    assert Staff.objects.get(userid="goes").status == StaffStatus.LEFT
    assert Staff.objects.get(userid="stays").name == "留下"
