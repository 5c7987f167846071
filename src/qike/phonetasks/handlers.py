"""A member adding (or editing) a customer may complete one of their phone tasks.

Registered after the customers app's handlers (a higher order), so the relation and its remark
mobiles are read fresh from WeCom before we look at them."""

from __future__ import annotations

from qike.core.models import Corp
from qike.intake.registry import handles
from qike.phonetasks import services
from qike.wecom.events import ExternalContactEvent


@handles(
    "change_external_contact/add_external_contact",
    "change_external_contact/edit_external_contact",
    order=200,
)
def phone_task_added(*, corp: Corp, event: ExternalContactEvent) -> None:
    services.complete_for_relation(
        corp=corp, external_userid=event.external_user_id, userid=event.user_id
    )
