"""Excel files built in memory, the console's small corp (tests.console.world) for import and page
tests, and a seeded wecomsim corp connected to Qike for the WeCom parts."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from qike.org.access import access_for
from qike.org.models import Staff, StaffStatus
from qike.phonetasks import services
from qike.sync.full import full_sync
from tests.console.world import World, build_world


def xlsx(rows: list[list], header: list | None = None) -> bytes:
    """An .xlsx whose first sheet holds `header` then `rows` (None cells stay empty)."""
    book = Workbook()
    sheet = book.active
    sheet.append(header if header is not None else ["姓名", "手机号"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def phones(count: int, start: int = 0) -> list[list]:
    return [[f"客户{i}", f"139{i:08d}"] for i in range(start, start + count)]


def import_list(access, data: bytes, **options) -> services.Confirmed:
    """Upload and confirm at once (what a user does when the preview shows no problem)."""
    options.setdefault("name", "测试名单")
    preview = services.upload(
        access=access, options=services.ImportOptions(**options), filename="list.xlsx", data=data
    )
    return services.confirm(access=access, preview_id=preview.pk)


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def ops(world):
    return access_for(world.users["ops"], world.corp)


# --- wecomsim ----------------------------------------------------------------------------------


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
def admin(corp):
    from django.contrib.auth.models import User

    from qike.org.models import Membership, Role

    user = User.objects.create_user("pt-admin", password="pw")
    Membership.objects.create(user=user, corp=corp, role=Role.CORP_ADMIN)
    return access_for(user, corp)
