"""Tell engagement which live code, store or staff card an add's State names, for its welcome
message and auto-tags."""

from __future__ import annotations

from django.utils.translation import gettext as _

from qike.acquisition.models import (
    LIVE_CODE_STATE_PREFIX,
    STAFF_CARD_STATE_PREFIX,
    STORE_CODE_KIND,
    LiveCode,
    StaffCard,
    Store,
)
from qike.core.models import Corp
from qike.engagement.sources import Source, register


def code_source(code: LiveCode) -> Source:
    """What an add through this live code says: the store when the code is a store's (store
    codes are live codes underneath), else the live code itself."""
    store = Store.objects.filter(live_code=code).first()
    kind, object_id, label = ("live_code", code.pk, code.name)
    if store is not None:
        kind, object_id, label = (STORE_CODE_KIND, store.pk, store.name)
    return Source(
        kind=kind,
        object_id=object_id,
        label=label,
        welcome_message_id=code.welcome_message_id,
        tag_ids=tuple(code.tags.values_list("pk", flat=True)),
    )


def channel_data(code: LiveCode) -> dict:
    """The customer timeline's CHANNEL entry for an add through this code."""
    source = code_source(code)
    data = {"kind": source.kind, "label": source.label, "code_id": code.pk}
    if source.kind == STORE_CODE_KIND:
        data["store_id"] = source.object_id
    return data


def resolve_state(corp: Corp, state: str) -> Source | None:
    if state.startswith(LIVE_CODE_STATE_PREFIX):
        code = LiveCode.objects.filter(corp=corp, state=state).first()
        return None if code is None else code_source(code)
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
