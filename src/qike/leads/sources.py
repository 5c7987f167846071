"""Tell engagement which lead form an add's State names, for its welcome message and tags."""

from __future__ import annotations

from qike.core.models import Corp
from qike.engagement.sources import Source
from qike.leads.models import LEAD_STATE_PREFIX, Lead


def resolve_state(corp: Corp, state: str) -> Source | None:
    if not state.startswith(LEAD_STATE_PREFIX):
        return None
    lead = Lead.objects.filter(corp=corp, state=state).select_related("form").first()
    if lead is None:
        return None
    return Source(
        kind="lead",
        object_id=lead.pk,
        label=lead.form.name,
        welcome_message_id=lead.form.welcome_message_id,
        tag_ids=tuple(lead.form.tags.values_list("pk", flat=True)),
    )
