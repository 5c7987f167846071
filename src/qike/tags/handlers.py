"""change_external_tag events: the corp's tag library changed in WeCom."""

from __future__ import annotations

from qike.core.models import Corp
from qike.core.services import client_for
from qike.intake.registry import handles
from qike.tags import services
from qike.wecom.events import ExternalTagEvent


@handles(
    "change_external_tag/create",
    "change_external_tag/update",
    "change_external_tag/delete",
    "change_external_tag/shuffle",
)
def corp_tags_changed(*, corp: Corp, event: ExternalTagEvent) -> None:
    # Any change (including a re-ordering "shuffle" of a whole group) is answered by reading the
    # library again: it is small (≤ 3000 tags), and the result is the same however often it runs.
    services.replace_corp_tags(corp=corp, groups=client_for(corp).get_corp_tag_list())
