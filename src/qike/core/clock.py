"""The one source of "now" for Qike code, so tests and the demo can move time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

_offset = dt.timedelta(0)


def now() -> dt.datetime:
    return timezone.now() + _offset


def advance(seconds: float) -> None:
    global _offset
    _offset += dt.timedelta(seconds=seconds)


def reset() -> None:
    global _offset
    _offset = dt.timedelta(0)


@contextmanager
def shifted(seconds: float) -> Iterator[None]:
    advance(seconds)
    try:
        yield
    finally:
        advance(-seconds)


def from_timestamp(value: int | str | None) -> dt.datetime | None:
    if value in (None, "", 0, "0"):
        return None
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
