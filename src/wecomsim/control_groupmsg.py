"""Control API for mass messages (same conventions as control.py: JSON in and out, no access_token,
errors {error, detail} with 4xx). Registered into control.URLS when `control` is imported.

- POST {C}/groupmsg/<msgid>/confirm {userid}   the member sends the task (statuses 1/2/3)
- POST {C}/groupmsg/<msgid>/ignore {userid}    the member leaves it unsent
- POST {C}/groupmsg/confirm_all                every member sends every pending task
- POST {C}/groupmsg/personal {userid, external_userids, text}   a member's own mass message
- POST {C}/groupmsg/policy {rule: daily|monthly}  the corp's per-customer receiving limit
- GET  {C}/groupmsg[?msgid=]                   tasks, recipients and reminders
- GET  {C}/groupmsg/stats                     rule checks over the corp's tasks (benchmarks)
- GET  {C}/groupmsg/receipts[?external_userid=]  what each customer received, when
- POST {C}/groupmsg/bulk_seed {staff, customers, shared_every, prefix}  a large corp (benchmarks)
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from . import groupmsg
from .control import URLS, C, _body, _corp, _int, _need, handler
from .errors import ControlError
from .state import SimState

G = f"{C}/groupmsg"
RULES = [
    Rule(G, methods=["GET"], endpoint="groupmsg_overview"),
    Rule(f"{G}/receipts", methods=["GET"], endpoint="groupmsg_receipts"),
    Rule(f"{G}/stats", methods=["GET"], endpoint="groupmsg_stats"),
    Rule(f"{G}/policy", methods=["POST"], endpoint="groupmsg_policy"),
    Rule(f"{G}/personal", methods=["POST"], endpoint="groupmsg_personal"),
    Rule(f"{G}/confirm_all", methods=["POST"], endpoint="groupmsg_confirm_all"),
    Rule(f"{G}/bulk_seed", methods=["POST"], endpoint="groupmsg_bulk_seed"),
    Rule(f"{G}/<msgid>/confirm", methods=["POST"], endpoint="groupmsg_confirm"),
    Rule(f"{G}/<msgid>/ignore", methods=["POST"], endpoint="groupmsg_ignore"),
]


@handler("groupmsg_overview")
def overview(state: SimState, request: Request, corpid: str) -> list[dict[str, Any]]:
    return groupmsg.overview(state, _corp(state, corpid), request.args.get("msgid"))


@handler("groupmsg_receipts")
def receipts(state: SimState, request: Request, corpid: str) -> list[dict[str, Any]]:
    return groupmsg.receipts(state, _corp(state, corpid), request.args.get("external_userid"))


@handler("groupmsg_stats")
def stats(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    return groupmsg.stats(state, _corp(state, corpid))


@handler("groupmsg_policy")
def policy(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    return groupmsg.set_rule(state, _corp(state, corpid), str(_need(_body(request), "rule")))


@handler("groupmsg_personal")
def personal(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    body = _body(request)
    exts = _need(body, "external_userids")
    if not isinstance(exts, list):
        raise ControlError(400, "invalid_field", "external_userids must be a list")
    return groupmsg.personal_message(
        state,
        _corp(state, corpid),
        str(_need(body, "userid")),
        [str(e) for e in exts],
        str(_need(body, "text")),
    )


@handler("groupmsg_confirm_all")
def confirm_all(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    return groupmsg.confirm_all(state, _corp(state, corpid))


@handler("groupmsg_confirm")
def confirm(state: SimState, request: Request, corpid: str, msgid: str) -> dict[str, Any]:
    userid = str(_need(_body(request), "userid"))
    return groupmsg.confirm(state, _corp(state, corpid), msgid, userid)


@handler("groupmsg_ignore")
def ignore(state: SimState, request: Request, corpid: str, msgid: str) -> dict[str, Any]:
    userid = str(_need(_body(request), "userid"))
    return groupmsg.ignore(state, _corp(state, corpid), msgid, userid)


@handler("groupmsg_bulk_seed")
def bulk_seed(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    body = _body(request)
    staff, customers = _int(body, "staff"), _int(body, "customers")
    if not 1 <= staff <= 100_000 or not 0 <= customers <= 20_000_000:
        raise ControlError(400, "invalid_field", "staff 1-100000, customers 0-20000000")
    return groupmsg.bulk_seed(
        state,
        _corp(state, corpid),
        staff=staff,
        customers=customers,
        shared_every=_int(body, "shared_every", 0),
        prefix=str(body.get("prefix") or "b"),
        added_at=_int(body, "added_at", state.clock.now_int() - 86400),
    )


def register() -> None:
    for rule in RULES:
        URLS.add(rule)
