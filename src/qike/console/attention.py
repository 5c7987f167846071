"""The dashboard's "needs attention" list: work waiting on someone, each with a link to where it is
done. Only what the user's role may see, counted within their data scope; nothing is listed when
there is nothing to do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _

from qike.core import clock
from qike.org.access import Access, Action

LOST_RECENTLY = dt.timedelta(days=7)


@dataclass(frozen=True)
class Attention:
    key: str
    label: str
    count: int
    url: str


def needs_attention(access: Access) -> list[Attention]:
    found = []
    if access.can(Action.RUN_CAMPAIGNS):
        found += [_campaigns_waiting(access), _moments_unpublished(access)]
    if access.can(Action.TRANSFER_CUSTOMERS):
        found.append(_transfers_waiting(access))
    if access.can(Action.VIEW_CUSTOMERS):
        found += [_lost_without_reason(access), _in_pool(access)]
    return [item for item in found if item.count]


def _campaigns_waiting(access: Access) -> Attention:
    from qike.campaigns.models import CampaignMessage, CampaignStatus, MessageStatus

    waiting = CampaignMessage.objects.filter(
        corp=access.corp,
        campaign__status=CampaignStatus.DISPATCHED,
        status=MessageStatus.WAITING,
    )
    return Attention(
        "campaigns",
        _("Staff yet to send a mass message"),
        waiting.values("userid").distinct().count(),
        reverse("console:campaigns"),
    )


def _moments_unpublished(access: Access) -> Attention:
    from qike.moments.models import Moment, MomentSender, MomentStatus
    from qike.moments.services import FOLLOW_FOR

    waiting = MomentSender.objects.filter(moment=OuterRef("pk"), published=False)
    moments = Moment.objects.filter(
        Exists(waiting),
        corp=access.corp,
        status=MomentStatus.ACTIVE,
        created_at__gte=clock.now() - FOLLOW_FOR,
    )
    return Attention(
        "moments",
        _("Moments not yet published by every staff member"),
        moments.count(),
        reverse("console:moments"),
    )


def _transfers_waiting(access: Access) -> Attention:
    from qike.transfers.models import ItemStatus, TransferItem
    from qike.transfers.services import transfers_in_scope

    items = TransferItem.objects.filter(
        transfer__in=transfers_in_scope(access), status=ItemStatus.WAITING
    )
    return Attention(
        "transfers",
        _("Customers waiting to be taken over"),
        items.count(),
        reverse("console:transfers"),
    )


def _lost_without_reason(access: Access) -> Attention:
    from qike.retention.services import lost_in_scope

    lost = lost_in_scope(access).filter(reason="", lost_at__gte=clock.now() - LOST_RECENTLY)
    return Attention(
        "lost",
        _("Customers lost this week without a reason"),
        lost.count(),
        reverse("console:lost_customers"),
    )


def _in_pool(access: Access) -> Attention:
    from qike.retention.services import pool_in_corp

    return Attention(
        "pool",
        _("Customers in the shared pool"),
        pool_in_corp(access).count(),
        reverse("console:pool"),
    )
