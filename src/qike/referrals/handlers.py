"""Adds whose State names a referral code: record who brought whom (and any reward), then put the
campaign's tags on the referred customer.

Registered after the customers app's handler (INSTALLED_APPS order), so the relation exists."""

from __future__ import annotations

from qike.core import clock
from qike.core.models import Corp
from qike.intake.registry import handles
from qike.referrals import services
from qike.referrals.models import REFERRAL_STATE_PREFIX
from qike.wecom.events import ExternalContactEvent


@handles(
    "change_external_contact/add_external_contact",
    "change_external_contact/add_half_external_contact",
)
def referral_added(*, corp: Corp, event: ExternalContactEvent) -> None:
    if not (event.state or "").startswith(REFERRAL_STATE_PREFIX):
        return
    services.record_referral(
        corp=corp,
        state=event.state,
        external_userid=event.external_user_id,
        userid=event.user_id,
        at=clock.from_timestamp(event.create_time),
    )
    services.apply_tags(
        corp=corp,
        state=event.state,
        external_userid=event.external_user_id,
        userid=event.user_id,
    )
