"""A customer added by a member enters the first stage of the pipeline.

Registered after the customers app's handler (INSTALLED_APPS order), so the relation exists."""

from __future__ import annotations

from qike.core.models import Corp
from qike.customers.models import FollowRelation, RelationStatus
from qike.intake.registry import handles
from qike.lifecycle import services
from qike.wecom.events import ExternalContactEvent


@handles(
    "change_external_contact/add_external_contact",
    "change_external_contact/add_half_external_contact",
)
def customer_added(*, corp: Corp, event: ExternalContactEvent) -> None:
    relation = (
        FollowRelation.objects.filter(
            corp=corp,
            customer__external_userid=event.external_user_id,
            staff__userid=event.user_id,
            status=RelationStatus.ACTIVE,
        )
        .select_related("corp")
        .first()
    )
    if relation is not None:
        services.start(corp=corp, relation=relation)
