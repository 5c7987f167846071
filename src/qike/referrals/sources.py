"""Tell engagement which referral code an add's State names, for the campaign's welcome message
and tags."""

from __future__ import annotations

from django.utils.translation import gettext as _

from qike.core.models import Corp
from qike.engagement.sources import Source
from qike.referrals.models import REFERRAL_STATE_PREFIX, ReferralCode
from qike.referrals.services import display_name


def resolve_state(corp: Corp, state: str) -> Source | None:
    if not state.startswith(REFERRAL_STATE_PREFIX):
        return None
    code = (
        ReferralCode.objects.filter(corp=corp, state=state)
        .select_related("campaign", "customer")
        .first()
    )
    if code is None:
        return None
    return Source(
        kind="referral",
        object_id=code.pk,
        label=_("referred by %(name)s") % {"name": display_name(code.customer)},
        welcome_message_id=code.campaign.welcome_message_id,
        tag_ids=tuple(code.campaign.tags.values_list("pk", flat=True)),
    )
