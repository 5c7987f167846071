"""Mass messages to customers (企业群发), API-FACTS §3.6, §6 and the §8 corrections.

add_msg_template creates a task; nothing reaches a customer until the member confirms it in the
WeCom client (the control call `confirm`). At confirmation each recipient gets a send_result
status: 1 sent, 2 no longer a friend, 3 over the per-customer receiving limit. The limit counts
every mass message the customer received (corp-created and member-created alike) on the
simulator's clock: by default WeCom's current rule, 1 per customer per day (Beijing natural day);
a corp can be switched to the older rule, 4 per customer per natural month (control `policy`).

Rules and codes modelled:
- external_userid ≤ 10,000 per call, attachments ≤ 9 (41064), text ≤ 4000 bytes, text and
  attachments not both empty (44004), attachment media_ids must be live temporary media (40007);
- customers the sender does not follow (or unknown ids) come back in `fail_list`; a call with
  nobody to send to answers 41048;
- right after creation a task is still being dispatched for DISPATCH_SECONDS (+1 s per 10,000
  recipients): get_groupmsg_task/_send_result/remind answer 41063, as does get_groupmsg_list_v2
  when its page holds such a task;
- remind_groupmsg_send: at most 3 per message in 24 hours (41094); on a cancelled task 41093;
- cancel_groupmsg_send stops the unsent deliveries only (their status stays 0 for good).

Doubts (recorded, not invented): the task status of a member who sent is 2 in the official
table (LinkWechat's WeGroupMsgTaskVo: "0-未发送 2-已发送"), while the fact sheet says 1; the sim
answers 2 and Qike treats any non-zero status as sent. Without `sender`, a corp message goes to
the member who last interacted with the customer (current wording); the sim takes the member who
added the customer most recently. The day and month of the limit are Beijing calendar days.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from werkzeug.datastructures import MultiDict

from . import directory, ids, store, welcome
from .errors import ControlError, WeComError
from .state import SimState

SCHEMA = """
CREATE TABLE IF NOT EXISTS groupmsgs (
    msgid TEXT PRIMARY KEY, corpid TEXT NOT NULL, creator TEXT NOT NULL DEFAULT '',
    create_type INTEGER NOT NULL, chat_type TEXT NOT NULL, text TEXT NOT NULL,
    attachments TEXT NOT NULL, allow_select INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, ready_at REAL NOT NULL, cancelled_at REAL
);
CREATE INDEX IF NOT EXISTS groupmsgs_created ON groupmsgs (corpid, chat_type, created_at, msgid);
CREATE TABLE IF NOT EXISTS groupmsg_tasks (
    msgid TEXT NOT NULL, userid TEXT NOT NULL, status INTEGER NOT NULL DEFAULT 0,
    send_time INTEGER, ignored_at REAL, PRIMARY KEY (msgid, userid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS groupmsg_results (
    id INTEGER PRIMARY KEY, msgid TEXT NOT NULL, userid TEXT NOT NULL,
    external_userid TEXT NOT NULL, status INTEGER NOT NULL DEFAULT 0, send_time INTEGER
);
CREATE INDEX IF NOT EXISTS groupmsg_results_task ON groupmsg_results (msgid, userid, id);
CREATE TABLE IF NOT EXISTS groupmsg_receipts (
    corpid TEXT NOT NULL, external_userid TEXT NOT NULL, received_at REAL NOT NULL,
    msgid TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS groupmsg_receipts_customer
    ON groupmsg_receipts (corpid, external_userid, received_at);
CREATE TABLE IF NOT EXISTS groupmsg_reminds (msgid TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS groupmsg_reminds_msg ON groupmsg_reminds (msgid, at);
"""
store.EXTRA_SCHEMAS.append(SCHEMA)


MAX_EXTERNAL_USERIDS = 10_000
MAX_CHAT_IDS = 2000
DISPATCH_SECONDS = 1.0  # a task is "still sending" (41063) this long after add_msg_template
DISPATCH_PER_10K = 1.0
REMIND_MAX, REMIND_WINDOW = 3, 86400
LIST_DEFAULT, LIST_MAX = 50, 100  # get_groupmsg_list_v2 (a larger limit falls back to 50)
PAGE_DEFAULT, PAGE_MAX = 500, 1000  # get_groupmsg_task / get_groupmsg_send_result
LIST_MAX_SPAN = 31 * 86400  # start_time..end_time spans at most one month
BEIJING = timezone(timedelta(hours=8))
RULES = {"daily": 1, "monthly": 4}  # receipts per customer per window
CORP_MSG, PERSONAL_MSG = 0, 1  # create_type
TASK_SENT = 2

NOT_SENT, SENT, NOT_FRIEND, AT_LIMIT = 0, 1, 2, 3


# -- helpers --------------------------------------------------------------------------------------


def _msgid() -> str:
    return "msg" + ids.message_id()[:40]


def _int(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise WeComError(40058, f"{key} must be an integer") from exc


def _offset(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        value = int(str(cursor))
    except ValueError as exc:
        raise WeComError(40058, "invalid cursor") from exc
    if value < 0:
        raise WeComError(40058, "invalid cursor")
    return value


def _page_limit(body: dict[str, Any]) -> int:
    limit = _int(body, "limit", PAGE_DEFAULT)
    if not 1 <= limit <= PAGE_MAX:
        raise WeComError(40058, f"limit must be 1-{PAGE_MAX}")
    return limit


def rule_of(state: SimState, corpid: str) -> str:
    return state.store.get_meta(f"groupmsg_rule:{corpid}", "daily") or "daily"


def window_start(rule: str, now: float) -> float:
    """Start of the Beijing day (daily rule) or month (monthly rule) holding `now`."""
    local = datetime.fromtimestamp(now, BEIJING).replace(hour=0, minute=0, second=0, microsecond=0)
    if rule == "monthly":
        local = local.replace(day=1)
    return local.timestamp()


def _message(db: sqlite3.Connection, corpid: str, body: dict[str, Any]) -> sqlite3.Row:
    msgid = body.get("msgid")
    if not msgid:
        raise WeComError(41046)
    row = db.execute(
        "SELECT * FROM groupmsgs WHERE msgid = ? AND corpid = ?", (str(msgid), corpid)
    ).fetchone()
    if row is None:
        raise WeComError(41047, f"unknown msgid {msgid}")
    return row


def _require_dispatched(state: SimState, row: sqlite3.Row) -> None:
    if state.clock.now() < row["ready_at"]:
        raise WeComError(41063)


# -- add_msg_template -------------------------------------------------------------------------------


def _recipients(
    db: sqlite3.Connection, corpid: str, sender: str, wanted: list[str], tag_groups: list
) -> tuple[dict[str, list[str]], list[str]]:
    """{userid: [external_userid…]} and the fail_list."""
    if sender:
        rows = db.execute(
            "SELECT id, external_userid FROM follows WHERE corpid = ? AND userid = ? "
            "AND status IN ('active', 'one_way') ORDER BY id",
            (corpid, sender),
        ).fetchall()
        follows = {r["external_userid"]: r["id"] for r in rows}
        if wanted:
            chosen = [e for e in wanted if e in follows]
            failed = [e for e in wanted if e not in follows]
        else:
            chosen, failed = list(follows), []
        chosen = _tag_filtered(db, chosen, follows, tag_groups)
        return ({sender: chosen} if chosen else {}), failed
    # No sender: each customer goes to the member who added them most recently.
    params: list[Any] = [corpid]
    sql = (
        "SELECT f.id, f.userid, f.external_userid FROM follows f JOIN users u "
        "ON u.corpid = f.corpid AND u.userid = f.userid AND u.status = 1 "
        "WHERE f.corpid = ? AND f.status = 'active'"
    )
    rows = db.execute(sql + " ORDER BY f.createtime, f.id", params).fetchall()
    latest: dict[str, sqlite3.Row] = {}
    for row in rows:
        latest[row["external_userid"]] = row
    if wanted:
        failed = [e for e in wanted if e not in latest]
        latest = {e: latest[e] for e in wanted if e in latest}
    else:
        failed = []
    plan: dict[str, list[str]] = {}
    for ext, row in latest.items():
        if _tag_filtered(db, [ext], {ext: row["id"]}, tag_groups):
            plan.setdefault(row["userid"], []).append(ext)
    return plan, failed


def _tag_filtered(
    db: sqlite3.Connection, exts: list[str], follow_ids: dict[str, int], tag_groups: list
) -> list[str]:
    """tag_filter: a customer qualifies when, in every group, the follow has one of its tags."""
    groups = [set(g.get("tag_list") or []) for g in tag_groups if isinstance(g, dict)]
    groups = [g for g in groups if g]
    if not groups:
        return exts
    kept = []
    for ext in exts:
        tags = {
            r[0]
            for r in db.execute(
                "SELECT tag_id FROM follow_tags WHERE follow_id = ?", (follow_ids[ext],)
            )
        }
        if all(tags & group for group in groups):
            kept.append(ext)
    return kept


def _validate_targets(body: dict[str, Any]) -> tuple[str, str, list[str], list]:
    chat_type = body.get("chat_type") or "single"
    if chat_type not in ("single", "group"):
        raise WeComError(86214, "chat_type is single or group")
    wanted = body.get("external_userid") or []
    chats = body.get("chat_id_list") or []
    if not isinstance(wanted, list) or not isinstance(chats, list):
        raise WeComError(40058, "external_userid and chat_id_list must be lists")
    if len(wanted) > MAX_EXTERNAL_USERIDS:
        raise WeComError(40058, f"external_userid holds at most {MAX_EXTERNAL_USERIDS} ids")
    if len(chats) > MAX_CHAT_IDS:
        raise WeComError(40058, f"chat_id_list holds at most {MAX_CHAT_IDS} chats")
    sender = str(body.get("sender") or "")
    if chat_type == "group":
        if not sender:
            raise WeComError(40058, "a group mass message requires sender")
        # Customer groups are not simulated yet: a sender owns no group the sim could reach.
        raise WeComError(41048, "customer groups are not simulated")
    tag_filter = body.get("tag_filter") or {}
    groups = tag_filter.get("group_list") if isinstance(tag_filter, dict) else None
    return chat_type, sender, [str(e) for e in dict.fromkeys(wanted)], groups or []


def add_msg_template(
    state: SimState, corpid: str, body: dict[str, Any], args: MultiDict
) -> dict[str, Any]:
    chat_type, sender, wanted, tag_groups = _validate_targets(body)
    content, attachments = welcome.validate_content(body)
    now = state.clock.now()
    with state.tx() as db:
        if sender:
            directory.require_user(state, corpid, sender)
        welcome.check_media(db, state, corpid, attachments)
        plan, failed = _recipients(db, corpid, sender, wanted, tag_groups)
        total = sum(len(v) for v in plan.values())
        if total == 0:
            raise WeComError(41048)
        msgid = _msgid()
        ready = now + DISPATCH_SECONDS + DISPATCH_PER_10K * (total // MAX_EXTERNAL_USERIDS)
        db.execute(
            "INSERT INTO groupmsgs (msgid, corpid, creator, create_type, chat_type, text, "
            "attachments, allow_select, created_at, ready_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                msgid,
                corpid,
                sender,
                CORP_MSG,
                chat_type,
                content,
                json.dumps(attachments, ensure_ascii=False),
                1 if body.get("allow_select") else 0,
                now,
                ready,
            ),
        )
        _insert_tasks(db, msgid, plan)
    return {"fail_list": failed, "msgid": msgid}


def _insert_tasks(db: sqlite3.Connection, msgid: str, plan: dict[str, list[str]]) -> None:
    db.executemany(
        "INSERT INTO groupmsg_tasks (msgid, userid) VALUES (?, ?)", [(msgid, u) for u in plan]
    )
    db.executemany(
        "INSERT INTO groupmsg_results (msgid, userid, external_userid) VALUES (?, ?, ?)",
        [(msgid, userid, ext) for userid, exts in plan.items() for ext in exts],
    )


# -- reading ------------------------------------------------------------------------------------------


def _message_json(row: sqlite3.Row) -> dict[str, Any]:
    item: dict[str, Any] = {
        "msgid": row["msgid"],
        "creator": row["creator"],
        "create_time": str(int(row["created_at"])),
        "create_type": row["create_type"],
    }
    if row["text"]:
        item["text"] = {"content": row["text"]}
    attachments = json.loads(row["attachments"])
    if attachments:
        item["attachments"] = attachments
    return item


def get_groupmsg_list_v2(
    state: SimState, corpid: str, body: dict[str, Any], args: MultiDict
) -> dict[str, Any]:
    chat_type = body.get("chat_type")
    if chat_type not in ("single", "group"):
        raise WeComError(40058, "chat_type (single or group) is required")
    if body.get("start_time") in (None, "") or body.get("end_time") in (None, ""):
        raise WeComError(40058, "start_time and end_time are required")
    start, end = _int(body, "start_time", 0), _int(body, "end_time", 0)
    if end < start or end - start > LIST_MAX_SPAN:
        raise WeComError(40058, "start_time..end_time spans at most one month")
    filter_type = _int(body, "filter_type", 2)
    if filter_type not in (0, 1, 2):
        raise WeComError(40058, "filter_type is 0, 1 or 2")
    limit = _int(body, "limit", LIST_DEFAULT)
    if not 1 <= limit <= LIST_MAX:
        limit = LIST_DEFAULT
    offset = _offset(body.get("cursor"))
    sql = (
        "SELECT * FROM groupmsgs WHERE corpid = ? AND chat_type = ? AND created_at BETWEEN ? AND ?"
    )
    params: list[Any] = [corpid, chat_type, start, end + 0.999]
    if filter_type != 2:
        sql += " AND create_type = ?"
        params.append(filter_type)
    if body.get("creator"):
        sql += " AND creator = ?"
        params.append(str(body["creator"]))
    rows = state.store.all(
        sql + " ORDER BY created_at, msgid LIMIT ? OFFSET ?", [*params, limit + 1, offset]
    )
    page = rows[:limit]
    for row in page:
        _require_dispatched(state, row)
    more = len(rows) > limit
    return {
        "group_msg_list": [_message_json(r) for r in page],
        "next_cursor": str(offset + limit) if more else "",
    }


def get_groupmsg_task(
    state: SimState, corpid: str, body: dict[str, Any], args: MultiDict
) -> dict[str, Any]:
    limit, offset = _page_limit(body), _offset(body.get("cursor"))
    with state.store.read() as db:
        row = _message(db, corpid, body)
        _require_dispatched(state, row)
        rows = db.execute(
            "SELECT userid, status, send_time FROM groupmsg_tasks WHERE msgid = ? "
            "ORDER BY userid LIMIT ? OFFSET ?",
            (row["msgid"], limit + 1, offset),
        ).fetchall()
    tasks = []
    for task in rows[:limit]:
        item: dict[str, Any] = {"userid": task["userid"], "status": task["status"]}
        if task["send_time"]:
            item["send_time"] = task["send_time"]  # not returned while unsent
        tasks.append(item)
    more = len(rows) > limit
    return {"task_list": tasks, "next_cursor": str(offset + limit) if more else ""}


def get_groupmsg_send_result(
    state: SimState, corpid: str, body: dict[str, Any], args: MultiDict
) -> dict[str, Any]:
    limit, offset = _page_limit(body), _offset(body.get("cursor"))
    userid = str(body.get("userid") or "")
    if not userid:
        raise WeComError(41009)
    with state.store.read() as db:
        row = _message(db, corpid, body)
        _require_dispatched(state, row)
        rows = db.execute(
            "SELECT external_userid, userid, status, send_time FROM groupmsg_results "
            "WHERE msgid = ? AND userid = ? ORDER BY id LIMIT ? OFFSET ?",
            (row["msgid"], userid, limit + 1, offset),
        ).fetchall()
    sends = []
    for result in rows[:limit]:
        item: dict[str, Any] = {
            "external_userid": result["external_userid"],
            "userid": result["userid"],
            "status": result["status"],
        }
        if result["send_time"]:
            item["send_time"] = result["send_time"]
        sends.append(item)
    more = len(rows) > limit
    return {"send_list": sends, "next_cursor": str(offset + limit) if more else ""}


# -- remind and cancel --------------------------------------------------------------------------------


def remind_groupmsg_send(
    state: SimState, corpid: str, body: dict[str, Any], args: MultiDict
) -> dict[str, Any]:
    now = state.clock.now()
    with state.tx() as db:
        row = _message(db, corpid, body)
        if row["create_type"] != CORP_MSG:
            raise WeComError(41047, "only corp mass messages can be reminded")
        if row["cancelled_at"] is not None:
            raise WeComError(41093)
        _require_dispatched(state, row)
        recent = db.execute(
            "SELECT COUNT(*) FROM groupmsg_reminds WHERE msgid = ? AND at > ?",
            (row["msgid"], now - REMIND_WINDOW),
        ).fetchone()[0]
        if recent >= REMIND_MAX:
            raise WeComError(41094, f"at most {REMIND_MAX} reminders in 24 hours")
        db.execute("INSERT INTO groupmsg_reminds (msgid, at) VALUES (?, ?)", (row["msgid"], now))
    return {}


def cancel_groupmsg_send(
    state: SimState, corpid: str, body: dict[str, Any], args: MultiDict
) -> dict[str, Any]:
    with state.tx() as db:
        row = _message(db, corpid, body)
        if row["create_type"] != CORP_MSG:
            raise WeComError(41047, "only corp mass messages can be cancelled")
        if row["cancelled_at"] is not None:
            raise WeComError(41093)
        db.execute(
            "UPDATE groupmsgs SET cancelled_at = ? WHERE msgid = ?",
            (state.clock.now(), row["msgid"]),
        )
    return {}


# -- the member's side (control calls) -----------------------------------------------------------------


def _deliver(
    db: sqlite3.Connection, state: SimState, corpid: str, msgid: str, userid: str
) -> dict[str, int]:
    """The member sends: each recipient gets 1, 2 (not a friend) or 3 (over the limit)."""
    now = state.clock.now()
    rule = rule_of(state, corpid)
    since, cap = window_start(rule, now), RULES[rule]
    friends = {
        r[0]
        for r in db.execute(
            "SELECT external_userid FROM follows WHERE corpid = ? AND userid = ? AND status = 'active'",
            (corpid, userid),
        )
    }
    rows = db.execute(
        "SELECT id, external_userid FROM groupmsg_results WHERE msgid = ? AND userid = ? "
        "AND status = 0 ORDER BY id",
        (msgid, userid),
    ).fetchall()
    updates: list[tuple[int, int | None, int]] = []
    receipts: list[tuple[str, str, float, str]] = []
    counts = {SENT: 0, NOT_FRIEND: 0, AT_LIMIT: 0}
    for row in rows:
        ext = row["external_userid"]
        if ext not in friends:
            status = NOT_FRIEND
        elif _received(db, corpid, ext, since) >= cap:
            status = AT_LIMIT
        else:
            status = SENT
            receipts.append((corpid, ext, now, msgid))
            db.execute(
                "INSERT INTO groupmsg_receipts (corpid, external_userid, received_at, msgid) "
                "VALUES (?, ?, ?, ?)",
                receipts[-1],
            )
        counts[status] += 1
        updates.append((status, int(now) if status == SENT else None, row["id"]))
    db.executemany("UPDATE groupmsg_results SET status = ?, send_time = ? WHERE id = ?", updates)
    db.execute(
        "UPDATE groupmsg_tasks SET status = ?, send_time = ? WHERE msgid = ? AND userid = ?",
        (TASK_SENT, int(now), msgid, userid),
    )
    return {"sent": counts[SENT], "not_friend": counts[NOT_FRIEND], "at_limit": counts[AT_LIMIT]}


def _received(db: sqlite3.Connection, corpid: str, ext: str, since: float) -> int:
    return db.execute(
        "SELECT COUNT(*) FROM groupmsg_receipts WHERE corpid = ? AND external_userid = ? "
        "AND received_at >= ?",
        (corpid, ext, since),
    ).fetchone()[0]


def _task(db: sqlite3.Connection, corpid: str, msgid: str, userid: str) -> sqlite3.Row:
    row = db.execute(
        "SELECT t.*, m.cancelled_at, m.ready_at FROM groupmsg_tasks t JOIN groupmsgs m "
        "ON m.msgid = t.msgid WHERE t.msgid = ? AND t.userid = ? AND m.corpid = ?",
        (msgid, userid, corpid),
    ).fetchone()
    if row is None:
        raise ControlError(404, "unknown_task", f"{userid} has no task in {msgid}")
    return row


def confirm(state: SimState, corpid: str, msgid: str, userid: str) -> dict[str, Any]:
    """The member taps 发送 in the WeCom client."""
    with state.tx() as db:
        task = _task(db, corpid, msgid, userid)
        if task["cancelled_at"] is not None:
            raise ControlError(409, "cancelled", "the task was cancelled; nothing can be sent")
        if state.clock.now() < task["ready_at"]:
            raise ControlError(409, "dispatching", "the task has not reached the member yet")
        if task["status"] != 0:
            raise ControlError(409, "already_sent", f"{userid} already sent {msgid}")
        counts = _deliver(db, state, corpid, msgid, userid)
    return {"msgid": msgid, "userid": userid, **counts}


def ignore(state: SimState, corpid: str, msgid: str, userid: str) -> dict[str, Any]:
    """The member sees the task and leaves it: it stays unsent (status 0)."""
    with state.tx() as db:
        task = _task(db, corpid, msgid, userid)
        db.execute(
            "UPDATE groupmsg_tasks SET ignored_at = ? WHERE msgid = ? AND userid = ?",
            (state.clock.now(), msgid, userid),
        )
    return {"msgid": msgid, "userid": userid, "status": task["status"], "ignored": True}


def confirm_all(state: SimState, corpid: str) -> dict[str, int]:
    """Every member sends every pending, dispatched, uncancelled corp task (load tests)."""
    now = state.clock.now()
    totals = {"tasks": 0, "sent": 0, "not_friend": 0, "at_limit": 0}
    with state.tx() as db:
        rows = db.execute(
            "SELECT t.msgid, t.userid FROM groupmsg_tasks t JOIN groupmsgs m ON m.msgid = t.msgid "
            "WHERE m.corpid = ? AND t.status = 0 AND m.cancelled_at IS NULL AND m.ready_at <= ? "
            "ORDER BY m.created_at, t.userid",
            (corpid, now),
        ).fetchall()
        for row in rows:
            counts = _deliver(db, state, corpid, row["msgid"], row["userid"])
            totals["tasks"] += 1
            for key, value in counts.items():
                totals[key] += value
    return totals


def personal_message(
    state: SimState, corpid: str, userid: str, external_userids: list[str], text: str
) -> dict[str, Any]:
    """A member's own mass message (个人群发, create_type 1), sent at once; it counts towards the
    customers' receiving limit like any other and shows in get_groupmsg_list_v2."""
    if not external_userids or not text:
        raise ControlError(400, "missing_field", "external_userids and text are required")
    now = state.clock.now()
    with state.tx() as db:
        directory.require_user(state, corpid, userid)
        msgid = _msgid()
        db.execute(
            "INSERT INTO groupmsgs (msgid, corpid, creator, create_type, chat_type, text, "
            "attachments, created_at, ready_at) VALUES (?, ?, ?, ?, 'single', ?, '[]', ?, ?)",
            (msgid, corpid, userid, PERSONAL_MSG, text, now, now),
        )
        _insert_tasks(db, msgid, {userid: list(dict.fromkeys(external_userids))})
        counts = _deliver(db, state, corpid, msgid, userid)
    return {"msgid": msgid, **counts}


def set_rule(state: SimState, corpid: str, rule: str) -> dict[str, Any]:
    if rule not in RULES:
        raise ControlError(400, "invalid_field", "rule is daily or monthly")
    state.store.set_meta(f"groupmsg_rule:{corpid}", rule)
    return {"rule": rule, "per_window": RULES[rule]}


def overview(state: SimState, corpid: str, msgid: str | None = None) -> list[dict[str, Any]]:
    """Every task of the corp (or one), with its members, recipients and reminders (tests)."""
    sql, params = "SELECT * FROM groupmsgs WHERE corpid = ?", [corpid]
    if msgid:
        sql, params = sql + " AND msgid = ?", [corpid, msgid]
    messages = state.store.all(sql + " ORDER BY created_at, msgid", params)
    out = []
    for row in messages:
        tasks = state.store.all(
            "SELECT userid, status, send_time, ignored_at FROM groupmsg_tasks WHERE msgid = ? "
            "ORDER BY userid",
            (row["msgid"],),
        )
        results = state.store.all(
            "SELECT userid, external_userid, status, send_time FROM groupmsg_results "
            "WHERE msgid = ? ORDER BY id",
            (row["msgid"],),
        )
        reminds = state.store.all(
            "SELECT at FROM groupmsg_reminds WHERE msgid = ? ORDER BY at", (row["msgid"],)
        )
        out.append(
            {
                **_message_json(row),
                "sender": row["creator"],
                "cancelled": row["cancelled_at"] is not None,
                "tasks": [dict(t) for t in tasks],
                "results": [dict(r) for r in results],
                "reminders": [r["at"] for r in reminds],
            }
        )
    return out


def receipts(state: SimState, corpid: str, external_userid: str | None) -> list[dict[str, Any]]:
    sql, params = "SELECT * FROM groupmsg_receipts WHERE corpid = ?", [corpid]
    if external_userid:
        sql, params = sql + " AND external_userid = ?", [corpid, external_userid]
    return [dict(r) for r in state.store.all(sql + " ORDER BY received_at", params)]


def stats(state: SimState, corpid: str) -> dict[str, int]:
    """Rule checks over the corp's corp-created tasks (load tests): the largest recipient list,
    customers in more than one task, customers in a task who had already received a mass message
    in the current limit window when the task was created, and results per status."""
    rule = rule_of(state, corpid)
    since = window_start(rule, state.clock.now())
    one = state.store.one
    corp_msgs = "SELECT msgid FROM groupmsgs WHERE corpid = ? AND create_type = 0"
    biggest = one(
        f"SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM groupmsg_results "
        f"WHERE msgid IN ({corp_msgs}) GROUP BY msgid)",
        (corpid,),
    )[0]
    twice = one(
        f"SELECT COUNT(*) FROM (SELECT external_userid FROM groupmsg_results "
        f"WHERE msgid IN ({corp_msgs}) GROUP BY external_userid HAVING COUNT(*) > 1)",
        (corpid,),
    )[0]
    over = one(
        "SELECT COUNT(DISTINCT r.external_userid) FROM groupmsg_results r JOIN groupmsgs m "
        "ON m.msgid = r.msgid JOIN groupmsg_receipts c ON c.corpid = m.corpid "
        "AND c.external_userid = r.external_userid AND c.received_at >= ? "
        "AND c.received_at <= m.created_at AND c.msgid != r.msgid "
        "WHERE m.corpid = ? AND m.create_type = 0",
        (since, corpid),
    )[0]
    statuses = {
        str(r[0]): r[1]
        for r in state.store.all(
            f"SELECT status, COUNT(*) FROM groupmsg_results WHERE msgid IN ({corp_msgs}) "
            "GROUP BY status",
            (corpid,),
        )
    }
    messages = one(f"SELECT COUNT(*) FROM ({corp_msgs})", (corpid,))[0]
    return {
        "messages": messages,
        "max_recipients": biggest,
        "customers_twice": twice,
        "customers_over_limit": over,
        "results_by_status": statuses,
    }


def bulk_seed(
    state: SimState,
    corpid: str,
    *,
    staff: int,
    customers: int,
    shared_every: int,
    prefix: str,
    added_at: int,
) -> dict[str, int]:
    """A large corp in one transaction, for load tests: members `{prefix}u{i:05d}` in the root
    department; customer j `wm{prefix}{j:09d}` followed by member j % staff, and every
    `shared_every`-th customer also by member (j + 1) % staff, added one second later."""
    rows_users = [
        (corpid, f"{prefix}u{i:05d}", f"成员{i}", "[1]", "[0]", "[0]", 1, added_at)
        for i in range(staff)
    ]
    with state.tx() as db:
        db.executemany(
            "INSERT INTO users (corpid, userid, name, departments, orders, is_leader, "
            "main_department, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows_users,
        )
        db.executemany(
            "INSERT INTO customers (corpid, external_userid, name, created_at) VALUES (?, ?, ?, ?)",
            ((corpid, f"wm{prefix}{j:09d}", f"客户{j}", added_at) for j in range(customers)),
        )
        db.executemany(
            "INSERT INTO follows (corpid, userid, external_userid, status, createtime) "
            "VALUES (?, ?, ?, 'active', ?)",
            _bulk_follows(corpid, staff, customers, shared_every, prefix, added_at),
        )
    follows = customers + (customers // shared_every if shared_every else 0)
    return {"staff": staff, "customers": customers, "follows": follows}


def _bulk_follows(corpid, staff, customers, shared_every, prefix, added_at):
    for j in range(customers):
        ext = f"wm{prefix}{j:09d}"
        yield (corpid, f"{prefix}u{j % staff:05d}", ext, added_at)
        if shared_every and j % shared_every == 0:
            yield (corpid, f"{prefix}u{(j + 1) % staff:05d}", ext, added_at + 1)


EC = "externalcontact/"
# path under /cgi-bin/ -> (method, fn(state, corpid, body, args)); plugged in by api.py
API_ROUTES: dict[str, tuple[str, Callable[..., dict[str, Any]]]] = {
    EC + "add_msg_template": ("POST", add_msg_template),
    EC + "get_groupmsg_list_v2": ("POST", get_groupmsg_list_v2),
    EC + "get_groupmsg_task": ("POST", get_groupmsg_task),
    EC + "get_groupmsg_send_result": ("POST", get_groupmsg_send_result),
    EC + "remind_groupmsg_send": ("POST", remind_groupmsg_send),
    EC + "cancel_groupmsg_send": ("POST", cancel_groupmsg_send),
}
