"""The WeCom HTTP API under /cgi-bin/: same paths, fields, error codes and cursors as WeCom.

Every answer is HTTP 200 with a JSON object carrying errcode/errmsg, as WeCom does. Order of checks
for a call: path → injected fault (latency, errcode) → rate limit (45009) → access_token → method →
JSON body → the handler's own rules.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from . import (
    acquisition,
    contact_ways,
    customers,
    directory,
    groupmsg,
    media,
    messages,
    moments,
    tags,
    transfers,
    welcome,
)
from .errors import ERRMSG, WeComError
from .state import SimState


@dataclass
class Call:
    state: SimState
    corpid: str
    args: MultiDict
    body: dict[str, Any] = field(default_factory=dict)
    agentid: int | None = None
    files: MultiDict = field(default_factory=MultiDict)


# A handler answers a JSON object, or a ready Response (media/get sends the file itself).
Handler = Callable[[Call], "dict[str, Any] | Response"]
# A feature module's handler: (state, corpid, JSON body, query args) -> the answer's fields.
PlainHandler = Callable[[SimState, str, dict[str, Any], MultiDict], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    method: str
    handler: Handler
    needs_token: bool = True
    multipart: bool = False  # uploads: a multipart/form-data body, not JSON


def _int_arg(call: Call, name: str, default: int | None = None) -> int | None:
    raw = call.args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise WeComError(40058, f"{name} must be an integer") from exc


def _list_field(body: dict[str, Any], key: str) -> list[Any]:
    value = body.get(key) or []
    if not isinstance(value, list):
        raise WeComError(40058, f"{key} must be a list")
    return value


# -- contacts ---------------------------------------------------------------------------------------


def department_list(call: Call) -> dict[str, Any]:
    return {"department": directory.list_departments(call.state, call.corpid, _int_arg(call, "id"))}


def department_simplelist(call: Call) -> dict[str, Any]:
    items = directory.list_departments(call.state, call.corpid, _int_arg(call, "id"))
    return {"department_id": [{k: d[k] for k in ("id", "parentid", "order")} for d in items]}


def department_get(call: Call) -> dict[str, Any]:
    dept_id = _int_arg(call, "id")
    if dept_id is None:
        raise WeComError(60123, "id is required")
    return {"department": directory.get_department(call.state, call.corpid, dept_id)}


def department_create(call: Call) -> dict[str, Any]:
    body = call.body
    try:
        parentid = int(body["parentid"])
        order = int(body["order"]) if body.get("order") is not None else None
        dept_id = int(body["id"]) if body.get("id") is not None else None
    except (KeyError, TypeError, ValueError) as exc:
        raise WeComError(40058, "parentid (and order, id when given) must be integers") from exc
    new_id = directory.create_department(
        call.state,
        call.corpid,
        name=body.get("name"),
        parentid=parentid,
        order=order,
        dept_id=dept_id,
        name_en=str(body.get("name_en") or ""),
    )
    return {"errmsg": "created", "id": new_id}  # errmsg is "created", not "ok" (API-FACTS §8)


def user_get(call: Call) -> dict[str, Any]:
    return directory.get_user(call.state, call.corpid, call.args.get("userid", ""))


def _user_list(call: Call, simple: bool) -> dict[str, Any]:
    users = directory.list_users(
        call.state,
        call.corpid,
        _int_arg(call, "department_id"),
        bool(_int_arg(call, "fetch_child", 0)),
        simple,
    )
    return {"userlist": users}


def user_list_id(call: Call) -> dict[str, Any]:
    limit = int(call.body.get("limit") or 10000)
    if not 1 <= limit <= 10000:
        raise WeComError(40058, "limit must be 1-10000")
    page, next_cursor = directory.list_user_ids(
        call.state, call.corpid, str(call.body.get("cursor") or ""), limit
    )
    return {"next_cursor": next_cursor, "dept_user": page}


# -- customers ----------------------------------------------------------------------------------------


def follow_user_list(call: Call) -> dict[str, Any]:
    return {"follow_user": directory.follow_user_list(call.state, call.corpid)}


def external_list(call: Call) -> dict[str, Any]:
    userid = call.args.get("userid", "")
    return {"external_userid": customers.list_for_member(call.state, call.corpid, userid)}


def external_get(call: Call) -> dict[str, Any]:
    return customers.get_detail(
        call.state, call.corpid, call.args.get("external_userid", ""), call.args.get("cursor", "")
    )


def batch_get_by_user(call: Call) -> dict[str, Any]:
    body = call.body
    userids = _list_field(body, "userid_list")
    if not userids and body.get("userid"):
        userids = [body["userid"]]  # the older single-userid form (wechatpy)
    try:
        limit = int(body.get("limit") or 0)
    except (TypeError, ValueError) as exc:
        raise WeComError(40058, "limit must be an integer") from exc
    return customers.batch_by_user(
        call.state, call.corpid, [str(u) for u in userids], str(body.get("cursor") or ""), limit
    )


def remark(call: Call) -> dict[str, Any]:
    customers.remark(call.state, call.corpid, call.body)
    return {}


def mark_tag(call: Call) -> dict[str, Any]:
    customers.mark_tag(call.state, call.corpid, call.body)
    return {}


# -- tags ------------------------------------------------------------------------------------------------


def get_corp_tag_list(call: Call) -> dict[str, Any]:
    groups = tags.tag_library(
        call.state,
        call.corpid,
        _list_field(call.body, "tag_id"),
        _list_field(call.body, "group_id"),
    )
    return {"tag_group": groups}


def add_corp_tag(call: Call) -> dict[str, Any]:
    body = call.body
    group = tags.add_tags(
        call.state,
        call.corpid,
        group_id=body.get("group_id") or None,
        group_name=body.get("group_name"),
        group_order=_order(body.get("order")),
        tags=_list_field(body, "tag"),
        owner_agentid=call.agentid,
    )
    return {"tag_group": group}


def _order(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError) as exc:
        raise WeComError(40058, "order must be an integer") from exc


def edit_corp_tag(call: Call) -> dict[str, Any]:
    body = call.body
    if body.get("name") is None and body.get("order") is None:
        raise WeComError(40058, "name or order is required")
    tags.edit_tag(
        call.state,
        call.corpid,
        item_id=str(body.get("id") or ""),
        name=body.get("name"),
        order=_order(body["order"]) if body.get("order") is not None else None,
        agentid=call.agentid,
    )
    return {}


def del_corp_tag(call: Call) -> dict[str, Any]:
    tags.delete_tags(
        call.state,
        call.corpid,
        tag_ids=_list_field(call.body, "tag_id"),
        group_ids=_list_field(call.body, "group_id"),
        agentid=call.agentid,
    )
    return {}


# -- contact ways and welcome ------------------------------------------------------------------------------


def add_contact_way(call: Call) -> dict[str, Any]:
    return contact_ways.add_way(call.state, call.corpid, call.body)


def get_contact_way(call: Call) -> dict[str, Any]:
    way = contact_ways.get_way(call.state, call.corpid, call.body.get("config_id"))
    return {"contact_way": way}


def update_contact_way(call: Call) -> dict[str, Any]:
    contact_ways.update_way(call.state, call.corpid, call.body)
    return {}


def list_contact_way(call: Call) -> dict[str, Any]:
    ways, next_cursor = contact_ways.list_ways(call.state, call.corpid, call.body)
    return {"contact_way": ways, "next_cursor": next_cursor}


def del_contact_way(call: Call) -> dict[str, Any]:
    contact_ways.delete_way(call.state, call.corpid, call.body.get("config_id"))
    return {}


def send_welcome_msg(call: Call) -> dict[str, Any]:
    welcome.send(call.state, call.corpid, call.body)
    return {}


def message_send(call: Call) -> dict[str, Any]:
    return messages.send(call.state, call.corpid, call.agentid, call.body)


# -- acquisition links ------------------------------------------------------------------------------------


def acquisition_create(call: Call) -> dict[str, Any]:
    return acquisition.create_link(call.state, call.corpid, call.agentid, call.body)


def acquisition_update(call: Call) -> dict[str, Any]:
    acquisition.update_link(call.state, call.corpid, call.body)
    return {}


def acquisition_delete(call: Call) -> dict[str, Any]:
    acquisition.delete_link(call.state, call.corpid, call.body.get("link_id"))
    return {}


# -- transfers ----------------------------------------------------------------------------------------------


def transfer_customer(call: Call, resigned: bool = False) -> dict[str, Any]:
    return transfers.transfer_customer(call.state, call.corpid, call.body, resigned)


def transfer_result(call: Call, resigned: bool = False) -> dict[str, Any]:
    return transfers.transfer_result(call.state, call.corpid, call.body, resigned)


# -- media ----------------------------------------------------------------------------------------------------


def media_get(call: Call) -> Response:
    row = media.download(call.state, call.corpid, call.args.get("media_id", ""))
    return Response(
        row["data"],
        content_type=row["content_type"],
        headers={"Content-Disposition": f'attachment; filename="{row["filename"]}"'},
    )


def getcallbackip(call: Call) -> dict[str, Any]:
    return {"ip_list": ["127.0.0.1"]}


EC = "externalcontact/"
ROUTES: dict[str, Route] = {
    "gettoken": Route("GET", lambda call: {}, needs_token=False),  # handled in dispatch
    "getcallbackip": Route("GET", getcallbackip),
    "get_api_domain_ip": Route("GET", getcallbackip),
    "department/list": Route("GET", department_list),
    "department/simplelist": Route("GET", department_simplelist),
    "department/get": Route("GET", department_get),
    "department/create": Route("POST", department_create),
    "user/get": Route("GET", user_get),
    "user/simplelist": Route("GET", lambda call: _user_list(call, simple=True)),
    "user/list": Route("GET", lambda call: _user_list(call, simple=False)),
    "user/list_id": Route("POST", user_list_id),
    EC + "get_follow_user_list": Route("GET", follow_user_list),
    EC + "list": Route("GET", external_list),
    EC + "get": Route("GET", external_get),
    EC + "batch/get_by_user": Route("POST", batch_get_by_user),
    EC + "remark": Route("POST", remark),
    EC + "get_corp_tag_list": Route("POST", get_corp_tag_list),
    EC + "add_corp_tag": Route("POST", add_corp_tag),
    EC + "edit_corp_tag": Route("POST", edit_corp_tag),
    EC + "del_corp_tag": Route("POST", del_corp_tag),
    EC + "mark_tag": Route("POST", mark_tag),
    EC + "add_contact_way": Route("POST", add_contact_way),
    EC + "get_contact_way": Route("POST", get_contact_way),
    EC + "update_contact_way": Route("POST", update_contact_way),
    EC + "list_contact_way": Route("POST", list_contact_way),
    EC + "del_contact_way": Route("POST", del_contact_way),
    EC + "send_welcome_msg": Route("POST", send_welcome_msg),
    "message/send": Route("POST", message_send),
    EC + "customer_acquisition/list_link": Route(
        "POST", lambda call: acquisition.list_links(call.state, call.corpid, call.body)
    ),
    EC + "customer_acquisition/get": Route(
        "POST", lambda call: acquisition.get_link(call.state, call.corpid, call.body)
    ),
    EC + "customer_acquisition/create_link": Route("POST", acquisition_create),
    EC + "customer_acquisition/update_link": Route("POST", acquisition_update),
    EC + "customer_acquisition/delete_link": Route("POST", acquisition_delete),
    EC + "customer_acquisition/customer": Route(
        "POST", lambda call: acquisition.list_customers(call.state, call.corpid, call.body)
    ),
    EC + "customer_acquisition/statistic": Route(
        "POST", lambda call: acquisition.statistic(call.state, call.corpid, call.body)
    ),
    EC + "transfer_customer": Route("POST", transfer_customer),
    EC + "transfer_result": Route("POST", transfer_result),
    EC + "resigned/transfer_customer": Route("POST", lambda c: transfer_customer(c, True)),
    EC + "resigned/transfer_result": Route("POST", lambda c: transfer_result(c, True)),
    EC + "get_unassigned_list": Route(
        "POST", lambda call: transfers.unassigned(call.state, call.corpid, call.body)
    ),
    "media/upload": Route(
        "POST", lambda c: media.upload(c.state, c.corpid, c.args, c.files), multipart=True
    ),
    "media/upload_attachment": Route(
        "POST",
        lambda c: media.upload_attachment(c.state, c.corpid, c.args, c.files),
        multipart=True,
    ),
    "media/uploadimg": Route(
        "POST", lambda c: media.upload_image(c.state, c.corpid, c.files), multipart=True
    ),
    "media/get": Route("GET", media_get),
    # Note the path: the quota call is not under customer_acquisition/ (API-FACTS §3.10).
    EC + "customer_acquisition_quota": Route(
        "GET", lambda call: acquisition.quota(call.state, call.corpid)
    ),
}


def _plug(routes: dict[str, tuple[str, PlainHandler]]) -> None:
    """Add a feature module's endpoints: {path under /cgi-bin/: (method, fn(state, corpid, body,
    args))}; the path check, faults, rate limit, token and body parsing apply as to every route."""
    for path, (method, fn) in routes.items():
        ROUTES[path] = Route(
            method, lambda call, fn=fn: fn(call.state, call.corpid, call.body, call.args)
        )


_plug(groupmsg.API_ROUTES)
_plug(moments.API_ROUTES)

# App messages have their own per-member limits and do not count towards the base API limit
# ("发消息频率不计入基础频率", doc 90312); an injected burst fault still applies.
UNMETERED = frozenset({"message/send"})


# -- dispatch -----------------------------------------------------------------------------------------------


def _errmsg(errcode: int, text: str, request: Request) -> str:
    """WeCom appends a hint, the caller's IP and a help link to every error message."""
    hint = f"[{int(time.time())}_{secrets.randbelow(100)}_{secrets.token_hex(16)}]"
    return (
        f"{text}, hint: {hint}, from ip: {request.remote_addr}, "
        f"more info at https://open.work.weixin.qq.com/devtool/query?e={errcode}"
    )


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=UTF-8",
    )


def _error(request: Request, errcode: int, text: str | None = None) -> Response:
    text = text or ERRMSG.get(errcode, "error")
    return _json({"errcode": errcode, "errmsg": _errmsg(errcode, text, request)})


def _identify_corp(state: SimState, path: str, request: Request) -> str | None:
    if path == "gettoken":
        corpid = request.args.get("corpid", "")
        return corpid if state.corp_row(corpid) else None
    token = request.args.get("access_token", "")
    return state.token_corp(token)[0] if token else None


def _gettoken(state: SimState, request: Request) -> dict[str, Any]:
    corpid, secret = request.args.get("corpid", ""), request.args.get("corpsecret", "")
    if not corpid:
        raise WeComError(41002)
    if not secret:
        raise WeComError(41004)
    token, expires_in = state.get_token(corpid, secret)
    return {"access_token": token, "expires_in": expires_in}


def _authenticate(state: SimState, request: Request) -> str:
    token = request.args.get("access_token", "")
    if not token:
        raise WeComError(41001)
    corpid, expired = state.token_corp(token)
    if corpid is None:
        raise WeComError(40014)
    if expired:
        raise WeComError(42001)
    return corpid


def _parse_body(request: Request) -> dict[str, Any]:
    raw = request.get_data(cache=False)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise WeComError(47001)
    return body


def dispatch(state: SimState, request: Request) -> Response:
    path = request.path.removeprefix("/cgi-bin/").strip("/")
    route = ROUTES.get(path)
    if route is None:
        # An unknown cgi path: WeCom-shaped JSON with a 404 status and errcode.
        return _json(
            {
                "errcode": 404,
                "errmsg": f"unknown api path /cgi-bin/{path} (not simulated by wecomsim)",
            },
            status=404,
        )
    corpid = _identify_corp(state, path, request)
    latency_ms, fault_errcode = state.faults.take(corpid, path)
    if latency_ms:
        time.sleep(latency_ms / 1000)
    if fault_errcode is not None:
        return _error(request, fault_errcode, ERRMSG.get(fault_errcode, "injected fault"))
    if corpid is not None:
        burst = state.faults.burst_limit(corpid, path)
        metered = path not in UNMETERED or burst is not None
        if metered and not state.limiter.hit(corpid, path, state.clock.now(), burst):
            return _error(request, 45009)
    try:
        if path == "gettoken":
            return _json({"errcode": 0, "errmsg": "ok", **_gettoken(state, request)})
        call_corp = _authenticate(state, request)
        state.run_due()
        if route.method == "POST" and request.method != "POST":
            # A GET to a POST endpoint has no body, which WeCom reports as a bad parameter.
            raise WeComError(40058, "this api requires POST with a JSON body")
        json_body = route.method == "POST" and not route.multipart
        body = _parse_body(request) if json_body else {}
        corp = state.corp_row(call_corp)
        call = Call(state, call_corp, request.args, body, corp["agentid"] if corp else None)
        if route.multipart:
            call.files = request.files
        result = route.handler(call)
    except WeComError as exc:
        return _error(request, exc.errcode, exc.errmsg)
    if isinstance(result, Response):
        return result
    return _json({"errcode": 0, "errmsg": "ok", **result})
