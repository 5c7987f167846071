"""What moves with a customer handed over from one staff member to another.

A transfer (on-job or resigned, WeCom's 在职继承 / 离职继承) ends the handover member's relation
and starts a fresh one for the takeover member. Features that keep something per relation (stage,
follow-ups, lead bindings, tags…) register a mover here; the transfers app calls
`move_with_customer` once the takeover has happened, and each mover copies or re-points its rows.
Movers must be idempotent: a takeover may be reported more than once (result polling and events).
"""

from __future__ import annotations

from collections.abc import Callable

from qike.core.models import Corp
from qike.customers.models import FollowRelation

Mover = Callable[[Corp, FollowRelation, FollowRelation], None]
_movers: list[Mover] = []


def register_mover(mover: Mover) -> Mover:
    if mover not in _movers:
        _movers.append(mover)
    return mover


def move_with_customer(*, corp: Corp, handover: FollowRelation, takeover: FollowRelation) -> None:
    """Run every registered mover, in registration order, for one completed takeover."""
    for mover in _movers:
        mover(corp, handover, takeover)
