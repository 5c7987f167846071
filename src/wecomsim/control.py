"""The control API under /sim/: plays the people (customers, members, admins) and the world (clock,
faults, lost callbacks). JSON in, JSON out, no access_token; errors are {error, detail} with 4xx.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from qike.wecom.crypto import CallbackCrypto, CryptoError

from . import acquisition, contact_ways, customers, directory, tags, traffic, transfers
from . import seed as seeding
from . import welcome as welcome_module
from .errors import ControlError, WeComError
from .ratelimit import Fault
from .state import SimState

C = "/sim/corps/<corpid>"
URLS = Map(
    [
        Rule("/sim/corps", methods=["POST"], endpoint="create_corp"),
        Rule("/sim/corps", methods=["GET"], endpoint="list_corps"),
        Rule("/sim/seed", methods=["POST"], endpoint="seed"),
        Rule(f"{C}/callback", methods=["POST"], endpoint="set_callback"),
        Rule(f"{C}/snapshot", methods=["GET"], endpoint="snapshot"),
        Rule(f"{C}/deliveries", methods=["GET"], endpoint="deliveries"),
        Rule(f"{C}/deliveries/wait", methods=["POST"], endpoint="wait_deliveries"),
        Rule(f"{C}/welcome_messages", methods=["GET"], endpoint="welcome_messages"),
        Rule(f"{C}/tokens/expire", methods=["POST"], endpoint="expire_tokens"),
        Rule(f"{C}/callbacks/drop", methods=["POST"], endpoint="drop_callbacks"),
        Rule(f"{C}/customers/scan", methods=["POST"], endpoint="scan"),
        Rule(f"{C}/traffic/burst", methods=["POST"], endpoint="start_burst"),
        Rule(f"{C}/traffic/burst", methods=["GET"], endpoint="burst_report"),
        Rule(f"{C}/traffic/burst", methods=["DELETE"], endpoint="stop_burst"),
        Rule(f"{C}/customers/add", methods=["POST"], endpoint="add_customer"),
        Rule(f"{C}/customers/<ext>/delete_member", methods=["POST"], endpoint="delete_member"),
        Rule(f"{C}/members", methods=["POST"], endpoint="create_member"),
        Rule(f"{C}/members/<userid>/accept", methods=["POST"], endpoint="accept"),
        Rule(f"{C}/members/<userid>/delete_customer", methods=["POST"], endpoint="delete_customer"),
        Rule(f"{C}/members/<userid>/edit_customer", methods=["POST"], endpoint="edit_customer"),
        Rule(f"{C}/members/<userid>/leave", methods=["POST"], endpoint="leave"),
        Rule(f"{C}/members/<userid>/move", methods=["POST"], endpoint="move"),
        Rule(f"{C}/departments", methods=["POST"], endpoint="create_department"),
        Rule(f"{C}/admin/tags", methods=["POST"], endpoint="admin_add_tags"),
        Rule(f"{C}/admin/tags/<item_id>/rename", methods=["POST"], endpoint="admin_rename_tag"),
        Rule(f"{C}/admin/tags/<item_id>/delete", methods=["POST"], endpoint="admin_delete_tag"),
        Rule("/sim/clock", methods=["GET"], endpoint="clock"),
        Rule("/sim/clock/advance", methods=["POST"], endpoint="clock_advance"),
        Rule("/sim/clock/set", methods=["POST"], endpoint="clock_set"),
        Rule("/sim/faults", methods=["POST"], endpoint="add_fault"),
        Rule("/sim/faults", methods=["GET"], endpoint="list_faults"),
        Rule("/sim/faults", methods=["DELETE"], endpoint="clear_faults"),
        Rule("/sim/qr/<config_id>", methods=["GET"], endpoint="qr"),
    ]
)

Handler = Callable[..., Any]
HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[name] = func
        return func

    return register


def _body(request: Request) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ControlError(400, "invalid_json", str(exc)) from exc
    if not isinstance(body, dict):
        raise ControlError(400, "invalid_json", "expected a JSON object")
    return body


def _need(body: dict[str, Any], key: str) -> Any:
    if body.get(key) in (None, ""):
        raise ControlError(400, "missing_field", key)
    return body[key]


def _int(body: dict[str, Any], key: str, default: int | None = None) -> int:
    value = body.get(key, default)
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ControlError(400, "invalid_field", f"{key} must be an integer") from exc


def _number(body: dict[str, Any], key: str) -> float:
    try:
        return float(_need(body, key))
    except (TypeError, ValueError) as exc:
        raise ControlError(400, "invalid_field", f"{key} must be a number") from exc


def _corp(state: SimState, corpid: str) -> str:
    state.require_corp(corpid)
    return corpid


# -- corps, seeding, callbacks --------------------------------------------------------------------


@handler("create_corp")
def create_corp(state: SimState, request: Request) -> dict[str, Any]:
    body = _body(request)
    return state.create_corp(
        body.get("corpid"), body.get("name"), body.get("secret"), body.get("agentid")
    )


@handler("list_corps")
def list_corps(state: SimState, request: Request) -> dict[str, Any]:
    return {"corps": state.corp_ids()}


@handler("seed")
def seed(state: SimState, request: Request) -> dict[str, Any]:
    body = _body(request)
    return seeding.seed_corp(
        state,
        seed=_int(body, "seed", 1),
        departments=_int(body, "departments", 10),
        staff=_int(body, "staff", 20),
        customers=_int(body, "customers", 200),
        corpid=body.get("corpid"),
    )


@handler("set_callback")
def set_callback(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    body = _body(request)
    url, token, aes_key = _need(body, "url"), _need(body, "token"), _need(body, "aes_key")
    try:
        crypto = CallbackCrypto(token, aes_key, corpid)
    except CryptoError as exc:
        raise ControlError(400, "invalid_aes_key", exc.message) from exc
    _corp(state, corpid)
    if body.get("verify"):
        _verify_url(state, crypto, url)
    state.set_callback(corpid, url, token, aes_key)
    return {"corpid": corpid, "url": url, "verified": bool(body.get("verify"))}


def _verify_url(state: SimState, crypto: Any, url: str) -> None:
    """What the admin console does on save: GET with an encrypted echostr, expect the plaintext."""
    import httpx

    from . import ids

    echo = ids.nonce() + ids.nonce()
    timestamp, nonce = str(state.clock.now_int()), ids.nonce()
    echostr, signature = crypto.encrypt_message(echo.encode(), timestamp, nonce)
    params = {
        "msg_signature": signature,
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echostr,
    }
    try:
        response = httpx.get(url, params=params, timeout=5.0, trust_env=False)
    except httpx.HTTPError as exc:
        raise ControlError(400, "callback_verify_failed", str(exc)) from exc
    if response.status_code != 200 or response.content != echo.encode():
        raise ControlError(
            400,
            "callback_verify_failed",
            f"expected the echo back, got HTTP {response.status_code}",
        )


@handler("snapshot")
def snapshot(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    _corp(state, corpid)
    depts = directory.list_departments(state, corpid, None)
    users = state.store.all(
        "SELECT * FROM users WHERE corpid = ? ORDER BY created_at, userid", (corpid,)
    )
    library = tags.tag_library(state, corpid)
    customer_list, in_flight = customers.snapshot_customers(state, corpid)
    return {
        "departments": [{k: d[k] for k in ("id", "name", "parentid", "order")} for d in depts],
        "users": [directory.user_json(u) for u in users],
        "tag_groups": [
            {
                "group_id": g["group_id"],
                "group_name": g["group_name"],
                "order": g["order"],
                "tags": [{"id": t["id"], "name": t["name"], "order": t["order"]} for t in g["tag"]],
            }
            for g in library
        ],
        "customers": customer_list,
        "pending_relations": in_flight,
        "acquisition": {
            "links": acquisition.snapshot_links(state, corpid),
            "quota": acquisition.quota(state, corpid),
        },
        "transfers": transfers.all_transfers(state, corpid),
    }


@handler("deliveries")
def deliveries(state: SimState, request: Request, corpid: str) -> list[dict[str, Any]]:
    _corp(state, corpid)
    rows = state.deliveries(corpid, request.args.get("status"))
    include_xml = request.args.get("xml") in ("1", "true")
    return [{k: v for k, v in r.items() if include_xml or k != "xml"} for r in rows]


@handler("wait_deliveries")
def wait_deliveries(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    _corp(state, corpid)
    body = _body(request)
    timeout = float(body.get("timeout", 10))
    return {"pending": state.wait_deliveries(corpid, min(timeout, 600))}


@handler("welcome_messages")
def welcome_messages(state: SimState, request: Request, corpid: str) -> list[dict[str, Any]]:
    return welcome_module.messages(state, _corp(state, corpid))


@handler("expire_tokens")
def expire_tokens(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    return {"expired": state.expire_tokens(corpid)}


@handler("drop_callbacks")
def drop_callbacks(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    count = _int(_body(request), "count", 1)
    state.drop_next_callbacks(corpid, count)
    return {"drop_next": count}


# -- people ---------------------------------------------------------------------------------------------


@handler("scan")
def scan(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    body = _body(request)
    _need(body, "config_id")
    return customers.scan(state, _corp(state, corpid), body)


@handler("start_burst")
def start_burst(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    body = _body(request)
    rate, seconds = _number(body, "rate"), _number(body, "seconds")
    burst = traffic.start(state, _corp(state, corpid), rate, seconds)
    return traffic.report(state, burst)


@handler("burst_report")
def burst_report(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    return traffic.report(state, traffic.current(state, _corp(state, corpid)))


@handler("stop_burst")
def stop_burst(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    return traffic.report(state, traffic.stop(state, _corp(state, corpid)))


@handler("accept")
def accept(state: SimState, request: Request, corpid: str, userid: str) -> dict[str, Any]:
    ext = _need(_body(request), "external_userid")
    return customers.accept(state, _corp(state, corpid), userid, str(ext))


@handler("add_customer")
def add_customer(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    body = _body(request)
    _need(body, "userid")
    return customers.add_direct(state, _corp(state, corpid), body)


@handler("delete_member")
def delete_member(state: SimState, request: Request, corpid: str, ext: str) -> dict[str, Any]:
    userid = str(_need(_body(request), "userid"))
    return customers.customer_deletes_member(state, _corp(state, corpid), ext, userid)


@handler("delete_customer")
def delete_customer(state: SimState, request: Request, corpid: str, userid: str) -> dict:
    ext = str(_need(_body(request), "external_userid"))
    return customers.member_deletes_customer(state, _corp(state, corpid), userid, ext)


@handler("edit_customer")
def edit_customer(state: SimState, request: Request, corpid: str, userid: str) -> dict:
    body = _body(request)
    _need(body, "external_userid")
    return customers.member_edits_customer(state, _corp(state, corpid), userid, body)


@handler("create_member")
def create_member(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    return directory.create_member(state, _corp(state, corpid), _body(request))


@handler("leave")
def leave(state: SimState, request: Request, corpid: str, userid: str) -> dict[str, Any]:
    return directory.member_leaves(state, _corp(state, corpid), userid)


@handler("move")
def move(state: SimState, request: Request, corpid: str, userid: str) -> dict[str, Any]:
    body = _body(request)
    departments = _need(body, "department")
    if not isinstance(departments, list):
        raise ControlError(400, "invalid_field", "department must be a list of ids")
    leaders = body.get("is_leader_in_dept")
    if leaders is not None and not isinstance(leaders, list):
        raise ControlError(400, "invalid_field", "is_leader_in_dept must be a list of 0/1")
    try:
        department_ids = [int(d) for d in departments]
        leader_flags = None if leaders is None else [int(f) for f in leaders]
    except (TypeError, ValueError) as exc:
        raise ControlError(
            400, "invalid_field", "department and is_leader_in_dept hold numbers"
        ) from exc
    return directory.move_member(state, _corp(state, corpid), userid, department_ids, leader_flags)


@handler("create_department")
def create_department(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    body = _body(request)
    dept_id = directory.create_department(
        state,
        _corp(state, corpid),
        name=_need(body, "name"),
        parentid=_int(body, "parentid", 1),
        order=body.get("order"),
        by_person=True,
    )
    return {"id": dept_id}


@handler("admin_add_tags")
def admin_add_tags(state: SimState, request: Request, corpid: str) -> dict[str, Any]:
    body = _body(request)
    names = _need(body, "tags")
    specs = [t if isinstance(t, dict) else {"name": t} for t in names]
    group = tags.add_tags(
        state,
        _corp(state, corpid),
        group_id=body.get("group_id"),
        group_name=body.get("group_name"),
        group_order=_int(body, "order", 0),
        tags=specs,
        owner_agentid=None,
        emit=True,
    )
    return {"tag_group": group}


@handler("admin_rename_tag")
def admin_rename_tag(state: SimState, request: Request, corpid: str, item_id: str) -> dict:
    name = _need(_body(request), "name")
    tags.admin_item(state, _corp(state, corpid), item_id)
    tags.edit_tag(state, corpid, item_id=item_id, name=name, order=None, agentid=None, emit=True)
    return {"id": item_id, "name": name}


@handler("admin_delete_tag")
def admin_delete_tag(state: SimState, request: Request, corpid: str, item_id: str) -> dict:
    kind = tags.admin_item(state, _corp(state, corpid), item_id)
    tag_ids, group_ids = ([item_id], []) if kind == "tag" else ([], [item_id])
    tags.delete_tags(state, corpid, tag_ids=tag_ids, group_ids=group_ids, agentid=None, emit=True)
    return {"id": item_id, "deleted": kind}


# -- clock and faults -------------------------------------------------------------------------------------


@handler("clock")
def clock(state: SimState, request: Request) -> dict[str, Any]:
    return {"now": state.clock.now(), "offset": state.clock.offset}


@handler("clock_advance")
def clock_advance(state: SimState, request: Request) -> dict[str, Any]:
    seconds = float(_need(_body(request), "seconds"))
    return {"now": state.advance_clock(seconds), "offset": state.clock.offset}


@handler("clock_set")
def clock_set(state: SimState, request: Request) -> dict[str, Any]:
    now = float(_need(_body(request), "now"))
    return {"now": state.set_clock(now), "offset": state.clock.offset}


@handler("add_fault")
def add_fault(state: SimState, request: Request) -> dict[str, Any]:
    body = _body(request)
    path = str(_need(body, "path")).removeprefix("/").removeprefix("cgi-bin/")
    fault = Fault(
        path=path,
        corpid=body.get("corpid"),
        errcode=_int(body, "errcode") if body.get("errcode") is not None else None,
        latency_ms=_int(body, "latency_ms", 0),
        times=_int(body, "times") if body.get("times") is not None else None,
        burst=_int(body, "burst") if body.get("burst") is not None else None,
    )
    if fault.errcode is None and not fault.latency_ms and fault.burst is None:
        raise ControlError(400, "empty_fault", "give errcode, latency_ms or burst")
    state.faults.add(fault)
    return fault.as_dict()


@handler("list_faults")
def list_faults(state: SimState, request: Request) -> dict[str, Any]:
    return {"faults": state.faults.list()}


@handler("clear_faults")
def clear_faults(state: SimState, request: Request) -> dict[str, Any]:
    state.faults.clear()
    state.limiter.reset()
    return {"cleared": True}


@handler("qr")
def qr(state: SimState, request: Request, config_id: str) -> Response:
    """What a phone would show: the code, and a button that plays a customer scanning it."""
    with state.store.read() as db:
        row = db.execute(
            "SELECT corpid, data FROM contact_ways WHERE config_id = ?", (config_id,)
        ).fetchone()
    if row is None:
        raise ControlError(404, "unknown_contact_way", config_id)
    way = json.loads(row["data"])
    url = contact_ways.qr_url(state, config_id)
    try:
        import segno

        image = segno.make(url).svg_inline(scale=6)
    except ImportError:  # segno is optional for the simulator
        image = f"<pre>{html.escape(url)}</pre>"
    scan_url = f"/sim/corps/{row['corpid']}/customers/scan"
    page = f"""<!doctype html><meta charset="utf-8"><title>联系我 {html.escape(config_id)}</title>
<h1>「联系我」 {html.escape(way.get("remark") or config_id)}</h1>{image}
<p>state: {html.escape(way.get("state") or "")} · members: {html.escape(", ".join(way.get("user") or []))}
· skip_verify: {way.get("skip_verify")}</p>
<button onclick="fetch('{scan_url}',{{method:'POST',body:JSON.stringify({{config_id:'{config_id}'}})}})
.then(r=>r.json()).then(j=>document.getElementById('out').textContent=JSON.stringify(j,null,2))">
Simulate a customer scanning</button><pre id="out"></pre>"""
    return Response(page, content_type="text/html; charset=utf-8")


# -- dispatch -------------------------------------------------------------------------------------------------


def dispatch(state: SimState, request: Request) -> Response:
    adapter = URLS.bind_to_environ(request.environ)
    state.run_due()  # the world has moved on: due takeovers happen before anyone looks
    try:
        endpoint, values = adapter.match()
        result = HANDLERS[endpoint](state, request, **values)
    except ControlError as exc:
        return _json({"error": exc.error, "detail": exc.detail}, exc.status)
    except WeComError as exc:
        # A business rule of WeCom's refused the control action (e.g. a bad department name).
        return _json({"error": "wecom_rule", "detail": exc.errmsg, "errcode": exc.errcode}, 400)
    except HTTPException as exc:
        return _json(
            {"error": exc.name.lower().replace(" ", "_"), "detail": exc.description},
            exc.code or 400,
        )
    except (TypeError, ValueError) as exc:
        return _json({"error": "invalid_request", "detail": str(exc)}, 400)
    if isinstance(result, Response):
        return result
    return _json(result, 200)


def _json(payload: Any, status: int) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


# The feature control calls live in their own module; importing it registers them.
from . import control_business, control_groupmsg, control_moments  # noqa: E402

control_business.register()
control_groupmsg.register()
control_moments.register()
