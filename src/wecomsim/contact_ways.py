"""「联系我」 contact ways, API-FACTS §3.2 and §6.

Rules enforced: type 1 needs exactly one user and no party; at most 100 members after department
expansion (41041); remark and state at most 30 characters; members must be active (41054);
qr_code only for scene 2; temporary ways expire (default 7 days, max 14) and are never listed;
API-created configs share a quota of 500,000 (41045).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from . import directory, ids
from .errors import WeComError
from .state import SimState

MAX_MEMBERS = 100
MAX_TEXT = 30
QUOTA = 500_000
TEMP_DEFAULT_EXPIRES, TEMP_MAX_EXPIRES = 7 * 86400, 14 * 86400
CHAT_DEFAULT_EXPIRES = 86400
LIST_DEFAULT, LIST_MAX = 100, 1000
LIST_WINDOW = 90 * 86400
_EDITABLE = (
    "remark",
    "skip_verify",
    "style",
    "state",
    "user",
    "party",
    "expires_in",
    "chat_expires_in",
    "unionid",
    "is_exclusive",
    "mark_source",
    "conclusions",
)


def load_way(db: sqlite3.Connection, corpid: str, config_id: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT data FROM contact_ways WHERE corpid = ? AND config_id = ?", (corpid, config_id)
    ).fetchone()
    return json.loads(row["data"]) if row else None


def member_pool(db: sqlite3.Connection, corpid: str, way: dict[str, Any]) -> list[str]:
    """The way's users plus the members of its departments (sub-departments included)."""
    departments = {
        r["id"]: r
        for r in db.execute("SELECT id, parentid FROM departments WHERE corpid = ?", (corpid,))
    }
    wanted: set[int] = set()
    for party in way.get("party") or []:
        if party in departments:
            wanted.update(directory.subtree_ids(departments, party))
    rows = db.execute(
        "SELECT userid, departments FROM users WHERE corpid = ? AND status = 1 "
        "AND customer_contact = 1 ORDER BY created_at, userid",
        (corpid,),
    ).fetchall()
    chosen = {u.lower() for u in way.get("user") or []}
    return [
        r["userid"]
        for r in rows
        if r["userid"].lower() in chosen or wanted.intersection(json.loads(r["departments"]))
    ]


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise WeComError(40058, f"{key} must be a string of at most {MAX_TEXT} characters")
    return value


def _validate_members(state: SimState, corpid: str, way: dict[str, Any]) -> None:
    users, parties = way.get("user") or [], way.get("party") or []
    if not isinstance(users, list) or not isinstance(parties, list):
        raise WeComError(40058, "user and party must be lists")
    if way["type"] == 1 and (len(users) != 1 or parties):
        raise WeComError(40058, "type 1 (single) needs exactly one user and no party")
    if not users and not parties:
        raise WeComError(40058, "user and party cannot both be empty")
    for userid in users:
        row = directory.require_user(state, corpid, str(userid), active=False)
        if row["status"] != directory.STATUS_ACTIVE:
            raise WeComError(41054, f"userid {userid}")
    with state.store.read() as db:
        known = {
            r["id"] for r in db.execute("SELECT id FROM departments WHERE corpid = ?", (corpid,))
        }
        for party in parties:
            if party not in known:
                raise WeComError(60123, f"party {party}")
        if len(member_pool(db, corpid, way)) > MAX_MEMBERS:
            raise WeComError(41041, f"at most {MAX_MEMBERS} members after expanding departments")


def _apply_editable(way: dict[str, Any], body: dict[str, Any]) -> None:
    for key in _EDITABLE:
        if key not in body:
            continue
        if key in ("remark", "state"):
            way[key] = _text(body, key)
        elif key == "skip_verify":
            way[key] = bool(body[key])
        elif key in ("style", "expires_in", "chat_expires_in"):
            try:
                way[key] = int(body[key])
            except (TypeError, ValueError) as exc:
                raise WeComError(40058, f"{key} must be an integer") from exc
        else:
            way[key] = body[key]


def add_way(state: SimState, corpid: str, body: dict[str, Any]) -> dict[str, Any]:
    if "type" not in body:
        raise WeComError(41037)
    if "scene" not in body:
        raise WeComError(41038)
    if body["type"] not in (1, 2):
        raise WeComError(41039)
    if body["scene"] not in (1, 2):
        raise WeComError(41040)
    way: dict[str, Any] = {
        "type": body["type"],
        "scene": body["scene"],
        "style": 0,
        "remark": "",
        "skip_verify": True,
        "state": "",
        "user": [],
        "party": [],
        "is_temp": bool(body.get("is_temp", False)),
        "expires_in": 0,
        "chat_expires_in": 0,
        "unionid": "",
        "is_exclusive": False,
        "mark_source": False,
        "conclusions": {},
    }
    _apply_editable(way, body)
    _validate_members(state, corpid, way)
    if way["is_temp"]:
        if way["type"] != 1:
            raise WeComError(40058, "temporary contact ways are single-user (type 1) only")
        way["expires_in"] = way["expires_in"] or TEMP_DEFAULT_EXPIRES
        way["chat_expires_in"] = way["chat_expires_in"] or CHAT_DEFAULT_EXPIRES
        if way["expires_in"] > TEMP_MAX_EXPIRES:
            raise WeComError(40058, "expires_in is at most 14 days")
    config_id = ids.config_id()
    way["config_id"] = config_id
    now = state.now()
    way["created_at"] = now
    with state.tx() as db:
        count = db.execute("SELECT COUNT(*) FROM contact_ways WHERE corpid = ?", (corpid,))
        if count.fetchone()[0] >= QUOTA:
            raise WeComError(41045)
        db.execute(
            "INSERT INTO contact_ways (corpid, config_id, created_at, data) VALUES (?, ?, ?, ?)",
            (corpid, config_id, now, json.dumps(way, ensure_ascii=False)),
        )
    result = {"config_id": config_id}
    if way["scene"] == 2:
        result["qr_code"] = qr_url(state, config_id)
    return result


def qr_url(state: SimState, config_id: str) -> str:
    return f"{state.base_url}/sim/qr/{config_id}"


def _require_way(state: SimState, corpid: str, config_id: Any) -> dict[str, Any]:
    if not config_id:
        raise WeComError(41043)
    with state.store.read() as db:
        way = load_way(db, corpid, str(config_id))
    if way is None or _expired(state, way):
        raise WeComError(41044, f"config_id {config_id}")
    return way


def _expired(state: SimState, way: dict[str, Any]) -> bool:
    return bool(way.get("is_temp")) and state.now() > way["created_at"] + way["expires_in"]


def get_way(state: SimState, corpid: str, config_id: Any) -> dict[str, Any]:
    way = _require_way(state, corpid, config_id)
    data = {k: v for k, v in way.items() if k != "created_at"}
    if way["scene"] == 2:
        data["qr_code"] = qr_url(state, way["config_id"])
    return data


def update_way(state: SimState, corpid: str, body: dict[str, Any]) -> None:
    way = _require_way(state, corpid, body.get("config_id"))
    _apply_editable(way, body)  # values overwrite; user/party replace the old lists
    _validate_members(state, corpid, way)
    with state.tx() as db:
        db.execute(
            "UPDATE contact_ways SET data = ? WHERE corpid = ? AND config_id = ?",
            (json.dumps(way, ensure_ascii=False), corpid, way["config_id"]),
        )


def delete_way(state: SimState, corpid: str, config_id: Any) -> None:
    way = _require_way(state, corpid, config_id)
    with state.tx() as db:
        db.execute(
            "DELETE FROM contact_ways WHERE corpid = ? AND config_id = ?",
            (corpid, way["config_id"]),
        )


def list_ways(state: SimState, corpid: str, body: dict[str, Any]) -> tuple[list[dict], str]:
    """list_contact_way: non-temporary ways created in [start_time, end_time] (default: the last
    90 days), oldest first, `limit` per page (default 100, max 1000)."""
    now = state.now()
    try:
        end = int(body.get("end_time") or now)
        start = int(body.get("start_time") or end - LIST_WINDOW)
        limit = int(body.get("limit") or LIST_DEFAULT)
        offset = int(body.get("cursor") or 0)
    except (TypeError, ValueError) as exc:
        raise WeComError(40058, "start_time, end_time, limit and cursor must be integers") from exc
    limit = max(1, min(limit, LIST_MAX))
    rows = state.store.all(
        "SELECT config_id, data FROM contact_ways WHERE corpid = ? AND created_at BETWEEN ? AND ? "
        "ORDER BY created_at, config_id",
        (corpid, start, end),
    )
    ways = [r["config_id"] for r in rows if not json.loads(r["data"]).get("is_temp")]
    page = ways[offset : offset + limit]
    next_cursor = str(offset + limit) if offset + limit < len(ways) else ""
    return [{"config_id": c} for c in page], next_cursor
