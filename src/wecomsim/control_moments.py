"""Control API for moments (same conventions as control.py: JSON in and out, no access_token,
errors {error, detail} with 4xx). Registered into control.URLS when `control` is imported.

- POST {C}/moments/<moment_id>/publish {userid}: the member publishes the moment (not calling it
  is the member who never publishes).
- POST {C}/moments/<moment_id>/comment {userid, external_userid | member, text}: a customer (or a
  member) comments on that member's moment; /like likewise (once per person).
- GET {C}/moments: every moment with senders, reach and interactions (comment text included).
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from . import moments
from .control import URLS, C, _body, _corp, _need, handler
from .state import SimState

M = f"{C}/moments"
RULES = [
    Rule(M, methods=["GET"], endpoint="moments"),
    Rule(f"{M}/<moment_id>/publish", methods=["POST"], endpoint="moment_publish"),
    Rule(f"{M}/<moment_id>/comment", methods=["POST"], endpoint="moment_comment"),
    Rule(f"{M}/<moment_id>/like", methods=["POST"], endpoint="moment_like"),
]


@handler("moments")
def moment_list(state: SimState, request: Request, corpid: str) -> list[dict[str, Any]]:
    return moments.listing(state, _corp(state, corpid))


@handler("moment_publish")
def moment_publish(state: SimState, request: Request, corpid: str, moment_id: str) -> dict:
    userid = str(_need(_body(request), "userid"))
    return moments.publish(state, _corp(state, corpid), moment_id, userid)


@handler("moment_comment")
def moment_comment(state: SimState, request: Request, corpid: str, moment_id: str) -> dict:
    body = {**_body(request), "kind": "comment"}
    return moments.interact(state, _corp(state, corpid), moment_id, body)


@handler("moment_like")
def moment_like(state: SimState, request: Request, corpid: str, moment_id: str) -> dict:
    body = {**_body(request), "kind": "like"}
    return moments.interact(state, _corp(state, corpid), moment_id, body)


def register() -> None:
    for rule in RULES:
        URLS.add(rule)
