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
