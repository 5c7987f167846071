"""Control API for app messages, acquisition links, transfers and media.

Registered into control.URLS/HANDLERS when `control` is imported; same conventions as control.py
(JSON in and out, no access_token, errors {error, detail} with 4xx).
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from . import acquisition, media, messages, transfers
from .control import URLS, C, _body, _corp, _int, _need, handler
from .errors import ControlError
from .state import SimState

A = f"{C}/acquisition"
RULES = [
    Rule(f"{C}/app_messages", methods=["GET"], endpoint="app_messages"),
    Rule(f"{A}/quota", methods=["GET"], endpoint="acquisition_quota"),
    Rule(f"{A}/quota", methods=["POST"], endpoint="acquisition_set_quota"),
    Rule(f"{A}/start_chat", methods=["POST"], endpoint="acquisition_start_chat"),
    Rule(f"{A}/<link_id>/click", methods=["POST"], endpoint="acquisition_click"),
    Rule(f"{A}/<link_id>/unavailable", methods=["POST"], endpoint="acquisition_unavailable"),
    Rule(f"{A}/<link_id>/delete", methods=["POST"], endpoint="acquisition_delete"),
    Rule(f"{C}/transfers", methods=["GET"], endpoint="transfers"),
    Rule(f"{C}/transfers/refuse", methods=["POST"], endpoint="transfer_refuse"),
    Rule(f"{C}/members/<userid>/customer_limit", methods=["POST"], endpoint="customer_limit"),
    Rule("/sim/media/<key>", methods=["GET"], endpoint="media_image"),
]


@handler("app_messages")
def app_messages(state: SimState, request: Request, corpid: str) -> list[dict[str, Any]]:
    include_dropped = request.args.get("include_dropped") in ("1", "true")
    return messages.received(
        state, _corp(state, corpid), request.args.get("userid"), include_dropped
    )


# -- acquisition links ------------------------------------------------------------------------------


@handler("acquisition_quota")
def acquisition_quota(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    return acquisition.quota(state, _corp(state, corpid))


@handler("acquisition_set_quota")
def acquisition_set_quota(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    body = _body(request)
    _need(body, "balance")
    expire = _int(body, "expire_date") if body.get("expire_date") else None
    return acquisition.set_quota(state, _corp(state, corpid), _int(body, "balance"), expire)


@handler("acquisition_click")
def acquisition_click(state: SimState, request: Request, corpid: str, link_id: str) -> dict:
    return acquisition.click(state, _corp(state, corpid), link_id, _body(request))


@handler("acquisition_start_chat")
def acquisition_start_chat(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    body = _body(request)
    ext = str(_need(body, "external_userid"))
    return acquisition.start_chat(state, _corp(state, corpid), ext, body.get("userid"))


@handler("acquisition_unavailable")
def acquisition_unavailable(state: SimState, request: Request, corpid: str, link_id: str) -> dict:
    return acquisition.make_unavailable(state, _corp(state, corpid), link_id)


@handler("acquisition_delete")
def acquisition_delete(state: SimState, request: Request, corpid: str, link_id: str) -> dict:
    return acquisition.admin_delete(state, _corp(state, corpid), link_id)


# -- transfers -------------------------------------------------------------------------------------------


@handler("transfers")
def transfer_list(state: SimState, request: Request, corpid: str) -> list[dict[str, Any]]:
    return transfers.all_transfers(state, _corp(state, corpid))


@handler("transfer_refuse")
def transfer_refuse(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    body = _body(request)
    ext, handover = str(_need(body, "external_userid")), str(_need(body, "handover_userid"))
    return transfers.refuse(state, _corp(state, corpid), ext, handover)


@handler("customer_limit")
def customer_limit(state: SimState, request: Request, corpid: str, userid: str) -> dict:
    limit = _int(_body(request), "limit")
    return transfers.set_customer_limit(state, _corp(state, corpid), userid, limit)


# -- media ------------------------------------------------------------------------------------------------


@handler("media_image")
def media_image(state: SimState, request: Request, key: str) -> Response:
    """The permanent URL uploadimg hands out (WeCom's CDN, played by the simulator)."""
    row = media.image_bytes(state, key)
    if row is None:
        raise ControlError(404, "unknown_image", key)
    return Response(row["data"], content_type=row["content_type"])


def register() -> None:
    for rule in RULES:
        URLS.add(rule)
