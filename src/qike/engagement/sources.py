"""Where a new customer came from decides their welcome message and auto-tags.

Features that hand out contact ways or links (live codes, store codes, lead forms, referrals,
acquisition links) register a resolver here; engagement asks them, in registration order, about the
`State` WeCom sent with the add event. The first resolver that recognises the state wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from qike.core.models import Corp


@dataclass(frozen=True)
class Source:
    """What a state says about an add."""

    kind: str  # "live_code", "store_code", "lead", "referral", "acquisition_link", ...
    object_id: int
    label: str
    welcome_message_id: int | None = None  # the source's own welcome message, if it has one
    tag_ids: tuple[int, ...] = field(default=())  # Qike Tag primary keys to apply on add


Resolver = Callable[[Corp, str], Source | None]
_resolvers: list[Resolver] = []


def register(resolver: Resolver) -> Resolver:
    if resolver not in _resolvers:
        _resolvers.append(resolver)
    return resolver


def source_for_state(corp: Corp, state: str) -> Source | None:
    if not state:
        return None
    for resolver in _resolvers:
        found = resolver(corp, state)
        if found is not None:
            return found
    return None


def unregister(resolver: Resolver) -> None:
    """Forget a resolver (tests register their own and take them away again)."""
    if resolver in _resolvers:
        _resolvers.remove(resolver)
