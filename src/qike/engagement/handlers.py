"""Add events start a welcome: recorded once per add and sent at once, in the urgent part of the
event's processing (WeCom accepts the welcome code for 20 seconds only)."""

from __future__ import annotations

from qike.core import clock
from qike.core.models import Corp
from qike.engagement import services
from qike.intake.registry import handles
from qike.wecom.events import ExternalContactEvent


@handles(
    "change_external_contact/add_external_contact",
    "change_external_contact/add_half_external_contact",
    order=10,  # before the customer refresh, when the urgent run has not come first
    urgent=True,
)
def welcome_new_customer(*, corp: Corp, event: ExternalContactEvent) -> None:
    send = services.record_add(
        corp=corp,
        userid=event.user_id,
        external_userid=event.external_user_id,
        state=event.state,
        welcome_code=event.welcome_code,
        is_half=event.change_type == "add_half_external_contact",
        event_at=clock.from_timestamp(event.create_time),
    )
    if event.welcome_code:
        services.send_freshest_welcome(corp=corp)
        if send is not None:
            services.expire_if_stale(send_id=send.pk)
