"""Tell engagement which live code or staff card an add's State names, for its welcome message
and auto-tags."""

from __future__ import annotations

from django.utils.translation import gettext as _

from qike.acquisition.models import (
    LIVE_CODE_STATE_PREFIX,
    STAFF_CARD_STATE_PREFIX,
    LiveCode,
    StaffCard,
)
from qike.core.models import Corp
from qike.engagement.sources import Source, register


def resolve_state(corp: Corp, state: str) -> Source | None:
    if state.startswith(LIVE_CODE_STATE_PREFIX):
        code = LiveCode.objects.filter(corp=corp, state=state).first()
        if code is None:
            return None
        return Source(
            kind="live_code",
            object_id=code.pk,
            label=code.name,
            welcome_message_id=code.welcome_message_id,
            tag_ids=tuple(code.tags.values_list("pk", flat=True)),
        )
    if state.startswith(STAFF_CARD_STATE_PREFIX):
        card = StaffCard.objects.filter(corp=corp, state=state).select_related("staff").first()
        if card is None:
            return None
        label = _("QR card of %(name)s") % {"name": card.staff.name or card.staff.userid}
        return Source(kind="staff_card", object_id=card.pk, label=label)
    return None


def resolve_link_state(corp: Corp, state: str) -> Source | None:
    """An acquisition link's State (its own, or a sub-channel's customer_channel)."""
    from qike.acquisition.links import link_for_state

    found = link_for_state(corp, state)
    if found is None:
        return None
    link, channel = found
    return Source(
        kind="acquisition_link",
        object_id=link.pk,
        label=f"{link.name} · {channel.name}" if channel else link.name,
        welcome_message_id=link.welcome_message_id,
        tag_ids=tuple(link.tags.values_list("pk", flat=True)),
    )


# Links' states never look like another feature's (see links.on_friend_request), so the order of
# registration against resolve_state does not matter.
register(resolve_link_state)
