"""Text app messages (message/send) to staff members: reminders and alerts.

One place for what every sender needs: the corp's app agent, the WeCom call through
`qike.core.services.client_for`, WeCom's `invaliduser` (members the app cannot reach) and its
refusals, turned into a result the caller stores instead of an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from qike.core.models import Corp
from qike.core.services import client_for
from qike.wecom.errors import WeComError

TEXT_LIMIT = 2000  # bytes; WeCom truncates a text app message past 2048


@dataclass
class Notified:
    reached: list[str] = field(default_factory=list)  # userids WeCom accepted
    error: str = ""  # why some or all were not reached ("" when all were)
    msgid: str = ""


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` cut to at most `limit` UTF-8 bytes (on a character boundary)."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "…"


def send_text(*, corp: Corp, userids: list[str], text: str) -> Notified:
    """Send `text` to the members; never raises for WeCom's answers."""
    userids = [u for u in dict.fromkeys(userids) if u]
    if not userids:
        return Notified(error=_("No staff member to tell."))
    if corp.agent_id is None:
        return Notified(error=_("The corp has no app agent id configured."))
    try:
        with client_for(corp) as client:
            answer = client.send_app_message(
                agentid=corp.agent_id, touser=userids, content=clip(text)
            )
    except WeComError as exc:
        return Notified(error=f"{exc.errcode} {exc.errmsg}"[:255])
    invalid = set(filter(None, str(answer.get("invaliduser", "")).split("|")))
    reached = [u for u in userids if u not in invalid]
    error = _("WeCom could not reach %(ids)s with the app.") % {"ids": "|".join(sorted(invalid))}
    return Notified(
        reached=reached, error=error if invalid else "", msgid=str(answer.get("msgid", ""))
    )
