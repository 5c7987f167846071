"""Changing welcome messages and who gets which by default is in the audit trail."""

from __future__ import annotations

import pytest

from qike.audit.models import AuditEntry
from qike.engagement import services
from qike.org.models import Staff
from tests.console.world import build_world
from tests.engagement.conftest import library_admin

pytestmark = pytest.mark.django_db


def test_saving_a_welcome_message_and_defaults_are_audited():
    world = build_world()
    admin = library_admin(world.corp)
    message = services.save_message(access=admin, name="新客欢迎", text="你好", attachments=[])
    created = AuditEntry.objects.get(action="engagement.welcome_create")
    assert not created.before and created.after["text"] == "你好"

    services.save_message(
        access=admin, message=message, name="新客欢迎", text="你好", attachments=[]
    )
    assert not AuditEntry.objects.filter(action="engagement.welcome_update").exists()  # no change

    services.save_message(
        access=admin, message=message, name="新客欢迎", text="您好，欢迎！", attachments=[]
    )
    updated = AuditEntry.objects.get(action="engagement.welcome_update")
    assert (updated.before["text"], updated.after["text"]) == ("你好", "您好，欢迎！")

    services.set_corp_default(access=admin, message=message)
    staff = Staff.objects.filter(corp=world.corp).first()
    services.set_staff_default(access=admin, staff=staff, message=message)
    assert AuditEntry.objects.get(action="engagement.corp_default_welcome").after == {
        "message": message.pk
    }
    assert AuditEntry.objects.get(action="engagement.staff_default_welcome").target_label == str(
        staff
    )
