"""Events of a transfer: transfer_fail settles a refused or over-the-limit customer; the takeover's
add_external_contact makes Qike ask WeCom for the result at once (instead of the next poll).

Registered after the customers app's handlers (INSTALLED_APPS order), so the relation exists."""

from __future__ import annotations

from qike.core.models import Corp
from qike.intake.registry import handles
from qike.transfers import services
from qike.wecom.events import ExternalContactEvent


@handles("change_external_contact/transfer_fail")
def transfer_failed(*, corp: Corp, event: ExternalContactEvent) -> None:
    services.record_failure(
        corp=corp,
        takeover_userid=event.user_id,
        external_userid=event.external_user_id,
        reason=event.fail_reason,
    )


@handles("change_external_contact/add_external_contact")
def takeover_added(*, corp: Corp, event: ExternalContactEvent) -> None:
    transfer = services.waiting_transfer_of(
        corp=corp, takeover_userid=event.user_id, external_userid=event.external_user_id
    )
    if transfer is not None:
        services.refresh(corp=corp, transfer=transfer)
