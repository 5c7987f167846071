"""Which domain handler processes which WeCom event. Domain apps register in their handlers.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from qike.core.models import Corp
from qike.wecom.events import Event


class Handler(Protocol):
    def __call__(self, *, corp: Corp, event: Event) -> None: ...


_handlers: dict[str, list[Handler]] = {}


def handles(*kinds: str) -> Callable[[Handler], Handler]:
    """Register a handler for "Event/ChangeType" kinds (or "Event" alone for events without one)."""

    def register(handler: Handler) -> Handler:
        for kind in kinds:
            bucket = _handlers.setdefault(kind, [])
            if handler not in bucket:
                bucket.append(handler)
        return handler

    return register


def handlers_for(kind: str) -> list[Handler]:
    return list(_handlers.get(kind, ()))
