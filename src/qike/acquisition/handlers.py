"""Adds that carry a live code's State: attribute them, tag them, and steer the code's pool.

Registered after the customers app's handler (INSTALLED_APPS order), so the relation exists."""

from __future__ import annotations

from qike.acquisition import services
from qike.core import clock
from qike.core.models import Corp
from qike.intake.registry import handles
from qike.wecom.events import ExternalContactEvent


@handles(
    "change_external_contact/add_external_contact",
    "change_external_contact/add_half_external_contact",
)
def live_code_add(*, corp: Corp, event: ExternalContactEvent) -> None:
    if not event.state:
        return
    services.attribute_add(
        corp=corp,
        state=event.state,
        external_userid=event.external_user_id,
        userid=event.user_id,
        at=clock.from_timestamp(event.create_time),
    )
    services.apply_auto_tags(
        corp=corp,
        state=event.state,
        external_userid=event.external_user_id,
        userid=event.user_id,
    )
