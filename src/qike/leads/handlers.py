"""Adds whose State names a lead: bind the lead, then (once confirmed) remark, tag and clean up.

Registered after the customers app's handler (INSTALLED_APPS order), so the relation exists."""

from __future__ import annotations

from qike.core import clock
from qike.core.models import Corp
from qike.intake.registry import handles
from qike.leads import services
from qike.leads.models import LEAD_STATE_PREFIX
from qike.wecom.events import ExternalContactEvent


@handles(
    "change_external_contact/add_external_contact",
    "change_external_contact/add_half_external_contact",
)
def lead_added(*, corp: Corp, event: ExternalContactEvent) -> None:
    if not (event.state or "").startswith(LEAD_STATE_PREFIX):
        return
    services.bind_add(
        corp=corp,
        state=event.state,
        external_userid=event.external_user_id,
        userid=event.user_id,
        at=clock.from_timestamp(event.create_time),
    )
    if event.change_type == "add_external_contact":
        services.convert(corp=corp, state=event.state)
