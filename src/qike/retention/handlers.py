"""Deletions and re-adds, read after the customers app recorded the relation's status (order 200:
its handlers run first), so a lost customer is opened only when the event decided the status."""

from __future__ import annotations

from qike.core import clock
from qike.core.models import Corp
from qike.intake.registry import handles
from qike.jobs import enqueue_on_commit
from qike.retention import services
from qike.retention.models import AlertState, LostKind
from qike.wecom.events import ExternalContactEvent

AFTER_CUSTOMERS = 200
BY_TRANSFER = "DELETE_BY_TRANSFER"  # a hand-over ended the relation, not the member


@handles("change_external_contact/del_follow_user", order=AFTER_CUSTOMERS)
def customer_left(*, corp: Corp, event: ExternalContactEvent) -> None:
    from qike.retention.tasks import alert_lost_job

    lost = services.record_lost(
        corp=corp,
        external_userid=event.external_user_id,
        userid=event.user_id,
        kind=LostKind.DELETED_BY_CUSTOMER,
        at=clock.from_timestamp(event.create_time),
    ).lost
    if lost is not None and lost.alert == AlertState.PENDING:
        enqueue_on_commit(alert_lost_job, corp.pk, lost.pk)


@handles("change_external_contact/del_external_contact", order=AFTER_CUSTOMERS)
def staff_deleted(*, corp: Corp, event: ExternalContactEvent) -> None:
    from qike.retention.tasks import alert_deletions_job

    if event.source == BY_TRANSFER:
        return
    found = services.record_lost(
        corp=corp,
        external_userid=event.external_user_id,
        userid=event.user_id,
        kind=LostKind.DELETED_BY_STAFF,
        at=clock.from_timestamp(event.create_time),
    )
    if found.lost is None:
        return
    alert = services.check_deletions(corp=corp, lost=found.lost)
    if alert is not None:
        enqueue_on_commit(alert_deletions_job, corp.pk, alert.pk)


@handles("change_external_contact/add_external_contact", order=AFTER_CUSTOMERS)
def customer_back(*, corp: Corp, event: ExternalContactEvent) -> None:
    services.mark_won_back(
        corp=corp,
        external_userid=event.external_user_id,
        userid=event.user_id,
        at=clock.from_timestamp(event.create_time),
    )
