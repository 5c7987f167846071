"""What the transfers app itself moves with a customer taken over (registered in apps.py).

WeCom gives the takeover a fresh relation without the handover's tags (docs/wecomsim.md; some
third-party pages disagree, which is why re-applying is harmless: tags the takeover relation
already has are skipped). Lead bindings point at the relation and the staff member who works it.
"""

from __future__ import annotations

from django.db.models import Q

from qike.core.models import Corp
from qike.customers.models import FollowRelation
from qike.tags.models import Tag, TagType
from qike.tags.services import apply_auto_tags

TRANSFER_ACTOR = "transfer"


def move_tags(corp: Corp, handover: FollowRelation, takeover: FollowRelation) -> None:
    """The handover relation's corp tags, put on the takeover relation in WeCom and in Qike."""
    tags = Tag.objects.filter(
        corp=corp, type=TagType.CORP, assignments__relation=handover
    ).order_by("pk")
    apply_auto_tags(corp=corp, relation=takeover, tags=list(tags), actor=TRANSFER_ACTOR)


def move_leads(corp: Corp, handover: FollowRelation, takeover: FollowRelation) -> None:
    """Leads bound to the old relation (or the old member and this customer) follow the new one."""
    from qike.leads.models import Lead

    Lead.objects.filter(
        Q(relation=handover) | Q(customer_id=handover.customer_id, staff_id=handover.staff_id),
        corp=corp,
    ).update(relation=takeover, staff_id=takeover.staff_id, customer_id=takeover.customer_id)
