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


# --- acquisition links (获客助手) -------------------------------------------------------------

from qike.acquisition import link_tasks, links  # noqa: E402, F401  (link_tasks: periodic jobs)
from qike.wecom.events import CustomerAcquisitionEvent  # noqa: E402


@handles(
    "change_external_contact/add_external_contact",
    "change_external_contact/add_half_external_contact",
)
def acquisition_link_add(*, corp: Corp, event: ExternalContactEvent) -> None:
    if event.state:
        links.on_add(
            corp=corp,
            state=event.state,
            external_userid=event.external_user_id,
            userid=event.user_id,
        )


@handles("customer_acquisition/friend_request")
def acquisition_friend_request(*, corp: Corp, event: CustomerAcquisitionEvent) -> None:
    links.on_friend_request(corp=corp, link_id=event.link_id, state=event.state)


@handles("customer_acquisition/balance_low", "customer_acquisition/balance_exhausted")
def acquisition_balance(*, corp: Corp, event: CustomerAcquisitionEvent) -> None:
    links.alert_admins(
        corp=corp, kind=event.change_type, event_at=clock.from_timestamp(event.create_time)
    )


@handles("customer_acquisition/delete_link", "customer_acquisition/link_unavailable")
def acquisition_link_gone(*, corp: Corp, event: CustomerAcquisitionEvent) -> None:
    links.mark_gone(
        corp=corp, link_id=event.link_id, unavailable=event.change_type == "link_unavailable"
    )
