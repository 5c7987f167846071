"""Customer acquisition links (获客助手), API-FACTS §3.10, §5, §6 and §8.

A link (`https://work.weixin.qq.com/ca/<link_id>`) has a range of members (user_list ≤ 100,
departments covering ≤ 100 people). A customer who opens it is given to one member of the range:
the member they already have a relation with, otherwise the next usable member in turn
(round-robin over the range in order: listed users, then department members by join order).
WeCom does not document its assignment rule; round-robin keeps tests deterministic.

Quota: a corp starts with the 50 free adds (seed article, API-FACTS §6); each customer whose
friendship through a link is established consumes 1. balance_low fires when the balance drops below
20 (once per crossing; a top-up to ≥ 20 re-arms it), balance_exhausted at 0, balance_increased when a
top-up lifts it from 0 (doc 97299). At 0 the link shows as unavailable and adds nothing.

Events (Event=customer_acquisition): friend_request (LinkId, State) when the customer sends the
request and State is non-empty (doc 99485: "且State非空时"); customer_start_chat (UserID,
ExternalUserID) on the customer's first message; link_unavailable (LinkId) when no member of the
range can take customers any more; delete_link (LinkId) when an admin deletes the link in the
console. API calls (create/update/delete_link) send no callback ("通过API进行的操作不会产生回调").
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from . import contact_ways, customers, directory, ids, welcome
from .errors import ControlError, WeComError
from .state import SimState

FREE_QUOTA = 50
LOW_MARK = 20
QUOTA_VALIDITY = 365 * 86400  # the free quota's expiry is not documented; one year is our guess
RANGE_USERS_MAX = 100
RANGE_PEOPLE_MAX = 100
LINK_LIMIT = 10_000  # 41095's real threshold is undocumented
LIST_MAX = 100
CUSTOMER_LIST_MAX = 1000
STATE_MAX_BYTES = 64
STAT_MAX_DAYS, STAT_HISTORY_DAYS = 30, 180
ACQUISITION_ADD_WAY = 16
URL_BASE = "https://work.weixin.qq.com/ca/"
BEIJING = timezone(timedelta(hours=8))
EVENT = "customer_acquisition"


# -- links --------------------------------------------------------------------------------------------


def _link(db: sqlite3.Connection, corpid: str, link_id: Any) -> sqlite3.Row | None:
    return db.execute(
        "SELECT * FROM acquisition_links WHERE corpid = ? AND link_id = ?", (corpid, str(link_id))
    ).fetchone()


def _require_link(db: sqlite3.Connection, corpid: str, link_id: Any) -> sqlite3.Row:
    if not link_id:
        raise WeComError(40058, "link_id is required")
    row = _link(db, corpid, link_id)
    if row is None or row["status"] == "deleted":
        raise WeComError(40058, f"invalid link_id {link_id}")
    return row


def _link_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "link_id": row["link_id"],
        "link_name": row["link_name"],
        "url": URL_BASE + row["link_id"],
        "create_time": row["create_time"],
        "skip_verify": bool(row["skip_verify"]),
    }


def _pool(db: sqlite3.Connection, corpid: str, users: list[str], parties: list[int]) -> list[str]:
    """Usable members of a range, in assignment order: listed users first, then departments."""
    everyone = contact_ways.member_pool(db, corpid, {"user": users, "party": parties})
    lowered = {u.lower(): i for i, u in enumerate(users)}
    listed = sorted((u for u in everyone if u.lower() in lowered), key=lambda u: lowered[u.lower()])
    return listed + [u for u in everyone if u.lower() not in lowered]


def _link_pool(db: sqlite3.Connection, corpid: str, row: sqlite3.Row) -> list[str]:
    return _pool(db, corpid, json.loads(row["user_list"]), json.loads(row["department_list"]))


def _validate_range(state: SimState, corpid: str, value: Any) -> tuple[list[str], list[int]]:
    if not isinstance(value, dict):
        raise WeComError(40058, "range must be an object with user_list and department_list")
    users, parties = value.get("user_list") or [], value.get("department_list") or []
    if not isinstance(users, list) or not isinstance(parties, list):
        raise WeComError(40058, "user_list and department_list must be lists")
    if not users and not parties:
        raise WeComError(40058, "user_list and department_list cannot both be empty")
    if len(users) > RANGE_USERS_MAX:
        raise WeComError(40058, f"user_list holds at most {RANGE_USERS_MAX} members")
    canonical = []
    for userid in users:
        row = directory.require_user(state, corpid, str(userid), active=False)
        if row["status"] != directory.STATUS_ACTIVE:
            raise WeComError(41054, f"userid {userid}")
        canonical.append(row["userid"])
    with state.store.read() as db:
        known = {
            r["id"] for r in db.execute("SELECT id FROM departments WHERE corpid = ?", (corpid,))
        }
        for party in parties:
            if party not in known:
                raise WeComError(60123, f"department {party}")
        if len(contact_ways.member_pool(db, corpid, {"party": parties})) > RANGE_PEOPLE_MAX:
            raise WeComError(40058, f"departments may cover at most {RANGE_PEOPLE_MAX} people")
    return canonical, [int(p) for p in parties]


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise WeComError(40058, "link_name is required")
    return value


def create_link(state: SimState, corpid: str, agentid: int | None, body: dict) -> dict:
    name = _name(body.get("link_name"))
    users, parties = _validate_range(state, corpid, body.get("range"))
    link_id = ids.link_id()
    now = state.now()
    with state.tx() as db:
        count = db.execute(
            "SELECT COUNT(*) FROM acquisition_links WHERE corpid = ? AND status != 'deleted'",
            (corpid,),
        ).fetchone()[0]
        if count >= LINK_LIMIT:
            raise WeComError(41095)
        db.execute(
            "INSERT INTO acquisition_links (corpid, link_id, link_name, create_time, user_list, "
            "department_list, skip_verify, owner_agentid) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                corpid,
                link_id,
                name,
                now,
                json.dumps(users, ensure_ascii=False),
                json.dumps(parties),
                int(bool(body.get("skip_verify", True))),
                agentid,
            ),
        )
        row = _link(db, corpid, link_id)
    link = _link_json(row)
    link.pop("skip_verify")
    return {"link": link}


def get_link(state: SimState, corpid: str, body: dict) -> dict:
    with state.store.read() as db:
        row = _require_link(db, corpid, body.get("link_id"))
    return {
        "link": _link_json(row),
        "range": {
            "user_list": json.loads(row["user_list"]),
            "department_list": json.loads(row["department_list"]),
        },
        # The doc sample has skip_verify inside link; WXJ reads it at the top level. Send both.
        "skip_verify": bool(row["skip_verify"]),
    }


def update_link(state: SimState, corpid: str, body: dict) -> None:
    """Values overwrite; a given range replaces the old one in full."""
    with state.store.read() as db:
        row = _require_link(db, corpid, body.get("link_id"))
    updates: dict[str, Any] = {}
    if "link_name" in body:
        updates["link_name"] = _name(body["link_name"])
    if "range" in body:
        users, parties = _validate_range(state, corpid, body["range"])
        updates["user_list"] = json.dumps(users, ensure_ascii=False)
        updates["department_list"] = json.dumps(parties)
        if row["status"] == "unavailable":
            updates["status"] = "active"  # members again: the link works again
    if "skip_verify" in body:
        updates["skip_verify"] = int(bool(body["skip_verify"]))
    if not updates:
        return
    with state.tx() as db:
        sets = ", ".join(f"{k} = ?" for k in updates)
        db.execute(
            f"UPDATE acquisition_links SET {sets} WHERE corpid = ? AND link_id = ?",
            [*updates.values(), corpid, row["link_id"]],
        )


def delete_link(state: SimState, corpid: str, link_id: Any, by_admin: bool = False) -> None:
    with state.tx() as db:
        row = _require_link(db, corpid, link_id)
        db.execute(
            "UPDATE acquisition_links SET status = 'deleted' WHERE corpid = ? AND link_id = ?",
            (corpid, row["link_id"]),
        )
        if by_admin:
            state.emit(db, corpid, EVENT, "delete_link", [("LinkId", row["link_id"])])


def _offset_cursor(cursor: Any) -> int:
    text = str(cursor or "")
    if text and not text.isdigit():
        raise WeComError(40058, "invalid cursor")
    return int(text or 0)


def _limit(body: dict, maximum: int) -> int:
    try:
        limit = int(body.get("limit") or maximum)
    except (TypeError, ValueError) as exc:
        raise WeComError(40058, "limit must be an integer") from exc
    return max(1, min(limit, maximum))


def list_links(state: SimState, corpid: str, body: dict) -> dict:
    """Links still valid (not deleted), oldest first, ≤ 100 per page."""
    offset, limit = _offset_cursor(body.get("cursor")), _limit(body, LIST_MAX)
    rows = state.store.all(
        "SELECT link_id FROM acquisition_links WHERE corpid = ? AND status != 'deleted' "
        "ORDER BY create_time, rowid LIMIT ? OFFSET ?",
        (corpid, limit + 1, offset),
    )
    more = len(rows) > limit
    return {
        "link_id_list": [r["link_id"] for r in rows[:limit]],
        "next_cursor": str(offset + limit) if more else "",
    }


def list_customers(state: SimState, corpid: str, body: dict) -> dict:
    with state.store.read() as db:
        row = _require_link(db, corpid, body.get("link_id"))
    offset, limit = _offset_cursor(body.get("cursor")), _limit(body, CUSTOMER_LIST_MAX)
    rows = state.store.all(
        "SELECT * FROM acquisition_customers WHERE corpid = ? AND link_id = ? "
        "AND status = 'added' ORDER BY id LIMIT ? OFFSET ?",
        (corpid, row["link_id"], limit + 1, offset),
    )
    more = len(rows) > limit
    return {
        "customer_list": [
            {
                "external_userid": r["external_userid"],
                "userid": r["userid"],
                "chat_status": r["chat_status"],
                "state": r["state"],
            }
            for r in rows[:limit]
        ],
        "next_cursor": str(offset + limit) if more else "",
    }


def _beijing_day_start(unix: int) -> int:
    day = datetime.fromtimestamp(unix, BEIJING).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(day.astimezone(UTC).timestamp())


def statistic(state: SimState, corpid: str, body: dict) -> dict:
    """Clicks (distinct customers) and new customers of a link, whole Beijing days."""
    with state.store.read() as db:
        row = _require_link(db, corpid, body.get("link_id"))
    try:
        start, end = int(body["start_time"]), int(body["end_time"])
    except (KeyError, TypeError, ValueError) as exc:
        raise WeComError(40058, "start_time and end_time are required integers") from exc
    first, last = _beijing_day_start(start), _beijing_day_start(end)
    if last < first:
        raise WeComError(40058, "end_time is before start_time")
    if (last - first) // 86400 + 1 > STAT_MAX_DAYS:
        raise WeComError(40058, f"at most {STAT_MAX_DAYS} days per query")
    if first < _beijing_day_start(state.now()) - STAT_HISTORY_DAYS * 86400:
        raise WeComError(40058, f"only the last {STAT_HISTORY_DAYS} days are kept")
    window = (corpid, row["link_id"], first, last + 86400)
    clicks = state.store.one(
        "SELECT COUNT(DISTINCT external_userid) AS n FROM acquisition_clicks WHERE corpid = ? "
        "AND link_id = ? AND clicked_at >= ? AND clicked_at < ?",
        window,
    )
    added = state.store.one(
        "SELECT COUNT(*) AS n FROM acquisition_customers WHERE corpid = ? AND link_id = ? "
        "AND status = 'added' AND added_at >= ? AND added_at < ?",
        window,
    )
    return {"click_link_customer_cnt": clicks["n"], "new_customer_cnt": added["n"]}


def snapshot_links(state: SimState, corpid: str) -> list[dict[str, Any]]:
    """Every link with its range and status (active | unavailable | deleted), for the snapshot."""
    rows = state.store.all(
        "SELECT * FROM acquisition_links WHERE corpid = ? ORDER BY create_time, rowid", (corpid,)
    )
    return [
        {
            **_link_json(r),
            "range": {
                "user_list": json.loads(r["user_list"]),
                "department_list": json.loads(r["department_list"]),
            },
            "status": r["status"],
        }
        for r in rows
    ]


# -- quota --------------------------------------------------------------------------------------------


def _quota(db: sqlite3.Connection, state: SimState, corpid: str) -> sqlite3.Row:
    row = db.execute("SELECT * FROM acquisition_quota WHERE corpid = ?", (corpid,)).fetchone()
    if row is None:
        corp = db.execute("SELECT created_at FROM corps WHERE corpid = ?", (corpid,)).fetchone()
        db.execute(
            "INSERT INTO acquisition_quota (corpid, balance, expire_date) VALUES (?, ?, ?)",
            (corpid, FREE_QUOTA, int(corp["created_at"]) + QUOTA_VALIDITY),
        )
        row = db.execute("SELECT * FROM acquisition_quota WHERE corpid = ?", (corpid,)).fetchone()
    return row


def _quota_json(row: sqlite3.Row) -> dict[str, Any]:
    packages = [{"expire_date": row["expire_date"], "balance": row["balance"]}]
    return {
        "total": row["used"],  # historical cumulative usage (API-FACTS §8)
        "balance": row["balance"],
        "quota_list": packages if row["balance"] > 0 else [],
    }


def quota(state: SimState, corpid: str) -> dict[str, Any]:
    with state.tx() as db:
        return _quota_json(_quota(db, state, corpid))


def set_quota(state: SimState, corpid: str, balance: int, expire_date: int | None) -> dict:
    """Control API: the corp buys usage (or a test sets the balance)."""
    if balance < 0:
        raise ControlError(400, "invalid_field", "balance must be ≥ 0")
    with state.tx() as db:
        old = _quota(db, state, corpid)
        low_sent = old["low_sent"] if balance < LOW_MARK else 0
        db.execute(
            "UPDATE acquisition_quota SET balance = ?, low_sent = ?, expire_date = ? "
            "WHERE corpid = ?",
            (
                balance,
                low_sent,
                expire_date or state.now() + QUOTA_VALIDITY,
                corpid,
            ),
        )
        if old["balance"] == 0 and balance > 0:
            state.emit(db, corpid, EVENT, "balance_increased", [])
        return _quota_json(_quota(db, state, corpid))


def _consume(db: sqlite3.Connection, state: SimState, corpid: str) -> None:
    row = _quota(db, state, corpid)
    if row["balance"] <= 0:
        return  # an add already in flight when the balance ran out; it cannot go negative
    balance = row["balance"] - 1
    low_sent = row["low_sent"]
    if 0 < balance < LOW_MARK and not low_sent:
        state.emit(db, corpid, EVENT, "balance_low", [])
        low_sent = 1
    if balance == 0:
        state.emit(db, corpid, EVENT, "balance_exhausted", [])
        low_sent = 1
    db.execute(
        "UPDATE acquisition_quota SET balance = ?, used = used + 1, low_sent = ? WHERE corpid = ?",
        (balance, low_sent, corpid),
    )


# -- people (control API) ----------------------------------------------------------------------------


def _channel(value: Any) -> str:
    """customer_channel: ≤ 64 bytes, truncated beyond (doc 42923), never mid-character."""
    return str(value or "").encode("utf-8")[:STATE_MAX_BYTES].decode("utf-8", "ignore")


def _mark_unavailable(db: sqlite3.Connection, state: SimState, corpid: str, link_id: str) -> None:
    db.execute(
        "UPDATE acquisition_links SET status = 'unavailable' WHERE corpid = ? AND link_id = ?",
        (corpid, link_id),
    )
    state.emit(db, corpid, EVENT, "link_unavailable", [("LinkId", link_id)])


def _pick_member(db, corpid: str, link: sqlite3.Row, pool: list[str], ext: str) -> str:
    known = {
        r["userid"]: r["status"]
        for r in db.execute(
            "SELECT userid, status FROM follows WHERE corpid = ? AND external_userid = ? "
            "AND status IN ('active', 'one_way', 'half', 'pending')",
            (corpid, ext),
        )
    }
    for userid in pool:
        if userid in known:
            return userid
    userid = pool[link["next_pick"] % len(pool)]
    db.execute(
        "UPDATE acquisition_links SET next_pick = next_pick + 1 WHERE corpid = ? AND link_id = ?",
        (corpid, link["link_id"]),
    )
    return userid


def click(state: SimState, corpid: str, link_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A customer opens the link and taps "add": one click, then a request or an add."""
    channel = _channel(body.get("customer_channel"))
    with state.tx() as db:
        link = _link(db, corpid, link_id)
        if link is None:
            raise ControlError(404, "unknown_link", link_id)
        if link["status"] == "deleted":
            return {"link_id": link_id, "status": "link_unavailable", "reason": "deleted"}
        customer = customers._resolve_customer(db, state, corpid, body)
        ext = customer["external_userid"]
        db.execute(
            "INSERT INTO acquisition_clicks (corpid, link_id, external_userid, state, clicked_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (corpid, link_id, ext, channel, state.clock.now()),
        )
        result = {"link_id": link_id, "external_userid": ext, "state": channel}
        if _quota(db, state, corpid)["balance"] <= 0:
            return {**result, "status": "link_unavailable", "reason": "quota_exhausted"}
        pool = _link_pool(db, corpid, link) if link["status"] == "active" else []
        if not pool:
            if link["status"] == "active":
                _mark_unavailable(db, state, corpid, link_id)
            return {**result, "status": "link_unavailable", "reason": "no_member"}
        userid = _pick_member(db, corpid, link, pool, ext)
        outcome = _request(db, state, corpid, link, userid, ext, channel)
    result.update(userid=userid, **outcome)
    if outcome["status"] == "half" and body.get("auto_accept"):
        accepted = customers.accept(state, corpid, userid, ext)
        result.update(status="added", accept_welcome_code=accepted["welcome_code"])
    return result


def _request(db, state: SimState, corpid: str, link, userid: str, ext: str, channel: str) -> dict:
    current = customers._follow(db, corpid, userid, ext)
    if current is not None and current["status"] in ("active", "half", "pending"):
        names = {"active": "already_friends", "half": "half", "pending": "pending_request"}
        return {"status": names[current["status"]], "welcome_code": None}
    if channel:
        state.emit(
            db, corpid, EVENT, "friend_request", [("LinkId", link["link_id"]), ("State", channel)]
        )
    if current is not None and current["status"] == "one_way":
        # The member still has the customer: the re-add is immediate and is not a new customer.
        code = welcome.issue(db, state, corpid, userid, ext)
        db.execute("UPDATE follows SET status = 'active' WHERE id = ?", (current["id"],))
        state.emit(
            db,
            corpid,
            "change_external_contact",
            "add_external_contact",
            customers._add_fields(userid, ext, current["state"], code),
        )
        return {"status": "added", "welcome_code": code}
    common = {
        "createtime": state.now(),
        "oper_userid": ext,
        "add_way": ACQUISITION_ADD_WAY,
        "state": channel,
    }
    db.execute(
        "INSERT INTO acquisition_customers (corpid, link_id, external_userid, userid, state, "
        "status) VALUES (?, ?, ?, ?, ?, 'pending') ON CONFLICT (corpid, userid, external_userid, "
        "link_id) DO UPDATE SET state = excluded.state, status = 'pending'",
        (corpid, link["link_id"], ext, userid, channel),
    )
    if link["skip_verify"]:
        code = welcome.issue(db, state, corpid, userid, ext)
        customers._upsert_follow(
            db, corpid, userid, ext, status="half", welcome_code=code, **common
        )
        state.emit(
            db,
            corpid,
            "change_external_contact",
            "add_half_external_contact",
            customers._add_fields(userid, ext, channel, code),
        )
        return {"status": "half", "welcome_code": code}
    customers._upsert_follow(db, corpid, userid, ext, status="pending", **common)
    return {"status": "pending_request", "welcome_code": None}


def on_established(db: sqlite3.Connection, state: SimState, corpid: str, userid: str, ext: str):
    """Called when a member confirms an add_way-16 relation: it becomes the link's customer."""
    row = db.execute(
        "SELECT id FROM acquisition_customers WHERE corpid = ? AND userid = ? "
        "AND external_userid = ? AND status = 'pending' ORDER BY id DESC LIMIT 1",
        (corpid, userid, ext),
    ).fetchone()
    if row is None:
        return
    db.execute(
        "UPDATE acquisition_customers SET status = 'added', added_at = ? WHERE id = ?",
        (state.clock.now(), row["id"]),
    )
    _consume(db, state, corpid)


def start_chat(state: SimState, corpid: str, ext: str, userid: str | None) -> dict[str, Any]:
    """The customer sends the member their first message: customer_start_chat, once."""
    with state.tx() as db:
        sql = (
            "SELECT * FROM acquisition_customers WHERE corpid = ? AND external_userid = ? "
            "AND status = 'added'"
        )
        params: list[Any] = [corpid, ext]
        if userid:
            sql += " AND userid = ? COLLATE NOCASE"
            params.append(userid)
        rows = db.execute(sql + " ORDER BY id", params).fetchall()
        if not rows:
            raise ControlError(409, "not_a_link_customer", f"{ext} was not added through a link")
        first = [r for r in rows if r["chat_status"] == 0]
        if first:
            db.execute(
                "UPDATE acquisition_customers SET chat_status = 1 WHERE corpid = ? "
                "AND external_userid = ? AND userid = ?",
                (corpid, ext, first[0]["userid"]),
            )
            state.emit(
                db,
                corpid,
                EVENT,
                "customer_start_chat",
                [("UserID", first[0]["userid"]), ("ExternalUserID", ext)],
            )
    return {"external_userid": ext, "userid": rows[0]["userid"], "event_sent": bool(first)}


def make_unavailable(state: SimState, corpid: str, link_id: str) -> dict[str, Any]:
    """Control API: WeCom flags the link (e.g. a review finding); link_unavailable."""
    with state.tx() as db:
        link = _link(db, corpid, link_id)
        if link is None or link["status"] == "deleted":
            raise ControlError(404, "unknown_link", link_id)
        if link["status"] == "active":
            _mark_unavailable(db, state, corpid, link_id)
    return {"link_id": link_id, "status": "unavailable"}


def on_members_changed(db: sqlite3.Connection, state: SimState, corpid: str) -> None:
    """After a member leaves: links whose range has nobody usable left become unavailable."""
    links = db.execute(
        "SELECT * FROM acquisition_links WHERE corpid = ? AND status = 'active' ORDER BY rowid",
        (corpid,),
    ).fetchall()
    for link in links:
        if not _link_pool(db, corpid, link):
            _mark_unavailable(db, state, corpid, link["link_id"])


def admin_delete(state: SimState, corpid: str, link_id: str) -> dict[str, Any]:
    try:
        delete_link(state, corpid, link_id, by_admin=True)
    except WeComError as exc:
        raise ControlError(404, "unknown_link", link_id) from exc
    return {"link_id": link_id, "status": "deleted"}
