"""Which domain handler processes which WeCom event. Domain apps register in their handlers.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from qike.core.models import Corp
from qike.wecom.events import Event


class Handler(Protocol):
    def __call__(self, *, corp: Corp, event: Event) -> None: ...


_handlers: dict[str, list[tuple[int, Handler]]] = {}
_urgent: set[Handler] = set()


def handles(*kinds: str, order: int = 100, urgent: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler for "Event/ChangeType" kinds (or "Event" alone for events without one).

    Handlers of one kind run by ascending `order`, then in registration order. An `urgent` handler
    (a welcome message has 20 seconds) also runs in a job of its own, queued ahead of all others
    the moment the event is stored, so a backlog of slower event work can't delay it; it still
    runs with the others too (replays), so it must be idempotent like every handler."""

    def register(handler: Handler) -> Handler:
        for kind in kinds:
            bucket = _handlers.setdefault(kind, [])
            if all(existing is not handler for _order, existing in bucket):
                bucket.append((order, handler))
                bucket.sort(key=lambda entry: entry[0])  # stable: registration order within one
        if urgent:
            _urgent.add(handler)
        return handler

    return register


def handlers_for(kind: str) -> list[Handler]:
    return [handler for _order, handler in _handlers.get(kind, ())]


def urgent_handlers_for(kind: str) -> list[Handler]:
    return [handler for handler in handlers_for(kind) if handler in _urgent]
