"""change_external_contact events: customers arriving, changing and leaving."""

from __future__ import annotations

from qike.core import clock
from qike.core.models import Corp
from qike.core.services import client_for
from qike.customers import services
from qike.customers.models import RelationStatus
from qike.intake.registry import handles
from qike.wecom.errors import WeComError
from qike.wecom.events import ExternalContactEvent

# WeCom answers these when the customer is gone or no longer visible; the event still counts.
CUSTOMER_GONE = {84061, 40096}


def refresh_customer(*, corp: Corp, external_userid: str) -> bool:
    """Read the customer as WeCom has it now and store it; False when WeCom no longer has them."""
    try:
        answer = client_for(corp).get_external_contact(external_userid)
    except WeComError as exc:
        if exc.errcode in CUSTOMER_GONE:
            return False
        raise
    services.apply_contacts(corp=corp, contacts=[services.contact_from_get(answer)])
    return True


@handles(
    "change_external_contact/add_external_contact",
    "change_external_contact/add_half_external_contact",
)
def customer_added(*, corp: Corp, event: ExternalContactEvent) -> None:
    refresh_customer(corp=corp, external_userid=event.external_user_id)
    services.record_relation_status(
        corp=corp,
        external_userid=event.external_user_id,
        userid=event.user_id,
        status=RelationStatus.ACTIVE,
        at=clock.from_timestamp(event.create_time),
        is_half=event.change_type == "add_half_external_contact",
        state=event.state,
    )


@handles("change_external_contact/edit_external_contact")
def customer_edited(*, corp: Corp, event: ExternalContactEvent) -> None:
    if refresh_customer(corp=corp, external_userid=event.external_user_id):
        services.record_edit(
            corp=corp,
            external_userid=event.external_user_id,
            userid=event.user_id,
            at=clock.from_timestamp(event.create_time),
        )


@handles("change_external_contact/del_external_contact")
def customer_deleted_by_staff(*, corp: Corp, event: ExternalContactEvent) -> None:
    services.record_relation_status(
        corp=corp,
        external_userid=event.external_user_id,
        userid=event.user_id,
        status=RelationStatus.DELETED_BY_STAFF,
        at=clock.from_timestamp(event.create_time),
    )


@handles("change_external_contact/del_follow_user")
def staff_deleted_by_customer(*, corp: Corp, event: ExternalContactEvent) -> None:
    # WeCom keeps a one-way relation after a customer deletes the member, so the data is still there.
    refresh_customer(corp=corp, external_userid=event.external_user_id)
    services.record_relation_status(
        corp=corp,
        external_userid=event.external_user_id,
        userid=event.user_id,
        status=RelationStatus.DELETED_BY_CUSTOMER,
        at=clock.from_timestamp(event.create_time),
    )
