"""Which domain handler processes which WeCom event. Domain apps register in their handlers.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from qike.core.models import Corp
from qike.wecom.events import Event


class Handler(Protocol):
    def __call__(self, *, corp: Corp, event: Event) -> None: ...


_handlers: dict[str, list[tuple[int, Handler]]] = {}


def handles(*kinds: str, order: int = 100) -> Callable[[Handler], Handler]:
    """Register a handler for "Event/ChangeType" kinds (or "Event" alone for events without one).

    Handlers of one kind run by ascending `order`, then in registration order. Time-critical work
    (a welcome message has 20 seconds) registers a low order so slower handlers can't delay it."""

    def register(handler: Handler) -> Handler:
        for kind in kinds:
            bucket = _handlers.setdefault(kind, [])
            if all(existing is not handler for _order, existing in bucket):
                bucket.append((order, handler))
                bucket.sort(key=lambda entry: entry[0])  # stable: registration order within one
        return handler

    return register


def handlers_for(kind: str) -> list[Handler]:
    return [handler for _order, handler in _handlers.get(kind, ())]
