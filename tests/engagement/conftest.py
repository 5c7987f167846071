"""Shared pieces for welcome-message tests: a library message builder, a fake channel resolver,
and moving Qike's and wecomsim's clocks together."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qike.core import clock
from qike.engagement import sources
from qike.engagement.models import WelcomeMessage

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def message(corp, name: str, text: str = "", **fields) -> WelcomeMessage:
    return WelcomeMessage.objects.create(corp=corp, name=name, text=text, **fields)


@pytest.fixture
def channel() -> Iterator[dict[str, sources.Source]]:
    """A stand-in for a live-code feature: states it knows map to a Source (tests fill the dict)."""
    known: dict[str, sources.Source] = {}

    def resolve(corp, state: str) -> sources.Source | None:
        return known.get(state)

    sources.register(resolve)
    yield known
    sources.unregister(resolve)


def move_clocks(sim_corp, seconds: float) -> None:
    """Time passes for WeCom and for Qike alike."""
    clock.advance(seconds)
    sim_corp.control.post("/sim/clock/advance", json={"seconds": seconds}).raise_for_status()


MP4 = b"\x00\x00\x00\x18ftypmp42" + b"0" * 256


def png_upload(name: str = "cover.png", data: bytes = PNG):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/png")


def library_admin(corp):
    """A corp admin's access to `corp` (a fresh console user)."""
    from django.contrib.auth.models import User

    from qike.org.access import access_for
    from qike.org.models import Membership, Role

    user = User.objects.create_user(f"lib-admin-{corp.pk}", password="pw")
    Membership.objects.create(user=user, corp=corp, role=Role.CORP_ADMIN)
    return access_for(user, corp)
