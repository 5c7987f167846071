"""Customer transfers (在职继承 / 离职继承), API-FACTS §3.5, §5, §6 and §8.

A transfer starts with per-customer errcode 0 and status 2 (waiting); 24 hours later on the sim clock
the takeover happens by itself unless the customer refused (status 3, control API) or the takeover
member is at their customer limit (status 4). Due takeovers are processed in (due time, id) order
whenever the clock moves and before every API or control call, so advancing the clock past the due
time is all a test needs.

On takeover the handover's relation ends and the takeover member gets a fresh relation: third-party
help pages say remark, description and tags do not carry over ("相当于这时给员工分配了一个新客户");
one page claims corp tags are kept, so that part is a doubt (docs/wecomsim.md). The new relation has
add_way 202 (assigned by admin) and oper_userid = the handover member.
Events: on-job takeover → del_external_contact (handover, Source=DELETE_BY_TRANSFER: "因在职继承自动被
转接成员删除") then add_external_contact (takeover, no WelcomeCode); resigned takeover → only
add_external_contact. transfer_fail (UserID = takeover, FailReason customer_refused |
customer_limit_exceed) is for on-job transfers only (API-FACTS §5).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from . import customers, directory
from .errors import ControlError, WeComError
from .state import SimState

TRANSFER_MAX = 100
SUCCESS_MSG_MAX = 200
TAKEOVER_DELAY = 24 * 3600
FREQUENCY_WINDOW, FREQUENCY_MAX = 90 * 86400, 2
RESULT_PAGE = 1000
UNASSIGNED_MAX = 1000
DEFAULT_CUSTOMER_LIMIT = 50_000  # API-FACTS §6 (wechatpy note); settable per member
TRANSFER_ADD_WAY = 202  # 管理员/负责人分配
DONE, WAITING, REFUSED, LIMIT, NO_RECORD = 1, 2, 3, 4, 5
ONJOB, RESIGNED = "onjob", "resigned"


def record_departure(db: sqlite3.Connection, state: SimState, corpid: str, userid: str) -> None:
    """The dimission_time that get_unassigned_list reports."""
    db.execute(
        "INSERT INTO member_extras (corpid, userid, left_at) VALUES (?, ?, ?) "
        "ON CONFLICT (corpid, userid) DO UPDATE SET left_at = excluded.left_at",
        (corpid, userid, state.now()),
    )


# -- starting transfers ---------------------------------------------------------------------------


def _external_ids(body: dict[str, Any]) -> list[str]:
    value = body.get("external_userid")
    if not value:
        raise WeComError(41035)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WeComError(40058, "external_userid must be a list of strings")
    if len(value) > TRANSFER_MAX:
        raise WeComError(40058, f"at most {TRANSFER_MAX} customers per call")
    return value


def _success_msg(body: dict[str, Any]) -> str:
    text = body.get("transfer_success_msg") or ""
    if not isinstance(text, str) or len(text) > SUCCESS_MSG_MAX:
        raise WeComError(40058, f"transfer_success_msg is at most {SUCCESS_MSG_MAX} characters")
    return text


def _in_flight(db: sqlite3.Connection, corpid: str, ext: str) -> sqlite3.Row | None:
    return db.execute(
        "SELECT * FROM transfers WHERE corpid = ? AND external_userid = ? AND status = ? "
        "ORDER BY id LIMIT 1",
        (corpid, ext, WAITING),
    ).fetchone()


def _onjob_errcode(db, state: SimState, corpid: str, handover: str, takeover: str, ext: str) -> int:
    if handover == takeover:
        return 40130
    if customers._customer(db, corpid, ext) is None:
        return 40096
    follow = customers._follow(db, corpid, handover, ext)
    if follow is None or follow["status"] not in customers.VISIBLE:
        return 40131
    pending = _in_flight(db, corpid, ext)
    if pending is not None:
        # This relation being transferred is 40129 (当前客户正在转接中); a transfer of the same
        # customer from another member is 40100 (此用户的外部联系人已经在转移流程中). Our reading.
        return 40129 if pending["handover_userid"] == handover else 40100
    recent = db.execute(
        "SELECT COUNT(*) FROM transfers WHERE corpid = ? AND external_userid = ? AND kind = ? "
        "AND created_at > ?",
        (corpid, ext, ONJOB, state.now() - FREQUENCY_WINDOW),
    ).fetchone()[0]
    if recent >= FREQUENCY_MAX:
        return 40128
    return 0


def _resigned_errcode(db, corpid: str, handover: str, ext: str) -> int:
    if customers._customer(db, corpid, ext) is None:
        return 40096
    follow = customers._follow(db, corpid, handover, ext)
    if follow is None or follow["status"] != "resigned":
        return 40131
    if _in_flight(db, corpid, ext) is not None:
        return 40129
    return 0


def _insert(db, state: SimState, corpid: str, kind: str, pair: tuple[str, str], ext: str, msg: str):
    handover, takeover = pair
    now = state.now()
    db.execute(
        "INSERT INTO transfers (corpid, kind, handover_userid, takeover_userid, external_userid, "
        "status, success_msg, created_at, takeover_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (corpid, kind, handover, takeover, ext, WAITING, msg, now, now + TAKEOVER_DELAY),
    )


def _members(state: SimState, corpid: str, body: dict[str, Any], resigned: bool) -> tuple[str, str]:
    handover_id = str(body.get("handover_userid") or "")
    if resigned:
        if not handover_id:
            raise WeComError(41009)
        row = directory._user_row(state, corpid, handover_id)
        if row is None:
            raise WeComError(40003, f"userid {handover_id}")
        if row["status"] != directory.STATUS_LEFT:
            raise WeComError(40097)
        handover = row["userid"]
    else:
        handover = directory.require_user(state, corpid, handover_id, active=False)["userid"]
    takeover = directory.require_user(state, corpid, str(body.get("takeover_userid") or ""))
    return handover, takeover["userid"]


def transfer_customer(state: SimState, corpid: str, body: dict[str, Any], resigned: bool) -> dict:
    """transfer_customer and resigned/transfer_customer: one errcode per customer."""
    handover, takeover = _members(state, corpid, body, resigned)
    external_ids = _external_ids(body)
    message = "" if resigned else _success_msg(body)
    kind = RESIGNED if resigned else ONJOB
    results = []
    with state.tx() as db:
        for ext in external_ids:
            if resigned:
                errcode = _resigned_errcode(db, corpid, handover, ext)
            else:
                errcode = _onjob_errcode(db, state, corpid, handover, takeover, ext)
            if errcode == 0:
                _insert(db, state, corpid, kind, (handover, takeover), ext, message)
            results.append({"external_userid": ext, "errcode": errcode})
    return {"customer": results}


# -- results and the unassigned list --------------------------------------------------------------------


def _cursor(value: Any) -> int:
    text = str(value or "")
    if text and not text.isdigit():
        raise WeComError(40058, "invalid cursor")
    return int(text or 0)


def _takeover_time(row: sqlite3.Row) -> int:
    if row["status"] == REFUSED:
        return 0
    if row["status"] == WAITING:
        return int(row["takeover_at"])  # the future automatic takeover time
    return int(row["finished_at"] or row["takeover_at"])


def transfer_result(state: SimState, corpid: str, body: dict[str, Any], resigned: bool) -> dict:
    """The latest transfer of each customer between the two members, ≤ 1000 per page."""
    handover = str(body.get("handover_userid") or "")
    takeover = str(body.get("takeover_userid") or "")
    if not handover or not takeover:
        raise WeComError(41009, "handover_userid and takeover_userid are required")
    offset = _cursor(body.get("cursor"))
    rows = state.store.all(
        "SELECT * FROM transfers WHERE id IN (SELECT MAX(id) FROM transfers WHERE corpid = ? "
        "AND kind = ? AND handover_userid = ? COLLATE NOCASE AND takeover_userid = ? "
        "COLLATE NOCASE GROUP BY external_userid) ORDER BY id LIMIT ? OFFSET ?",
        (corpid, RESIGNED if resigned else ONJOB, handover, takeover, RESULT_PAGE + 1, offset),
    )
    more = len(rows) > RESULT_PAGE
    return {
        "customer": [
            {
                "external_userid": r["external_userid"],
                "status": r["status"],
                "takeover_time": _takeover_time(r),
            }
            for r in rows[:RESULT_PAGE]
        ],
        "next_cursor": str(offset + RESULT_PAGE) if more else "",
    }


def unassigned(state: SimState, corpid: str, body: dict[str, Any]) -> dict[str, Any]:
    """get_unassigned_list: customers of departed members not (yet) handed over."""
    try:
        size = int(body.get("page_size") or UNASSIGNED_MAX)
        page_id = int(body.get("page_id") or 0)
    except (TypeError, ValueError) as exc:
        raise WeComError(40058, "page_size and page_id must be integers") from exc
    if not 1 <= size <= UNASSIGNED_MAX:
        raise WeComError(40058, f"page_size is 1-{UNASSIGNED_MAX}")
    # cursor replaces the legacy page_id (API-FACTS §8); page_id still works without a cursor.
    offset = _cursor(body.get("cursor")) if body.get("cursor") else page_id * size
    rows = state.store.all(
        "SELECT f.userid, f.external_userid, COALESCE(m.left_at, 0) AS left_at FROM follows f "
        "LEFT JOIN member_extras m ON m.corpid = f.corpid AND m.userid = f.userid "
        "WHERE f.corpid = ? AND f.status = 'resigned' AND NOT EXISTS (SELECT 1 FROM transfers t "
        "WHERE t.corpid = f.corpid AND t.external_userid = f.external_userid "
        "AND t.handover_userid = f.userid AND t.kind = 'resigned' AND t.status = ?) "
        "ORDER BY f.id LIMIT ? OFFSET ?",
        (corpid, WAITING, size + 1, offset),
    )
    more = len(rows) > size
    return {
        "info": [
            {
                "handover_userid": r["userid"],
                "external_userid": r["external_userid"],
                "dimission_time": int(r["left_at"]),
            }
            for r in rows[:size]
        ],
        "is_last": not more,
        "next_cursor": str(offset + size) if more else "",
    }


# -- takeover ----------------------------------------------------------------------------------------------


def customer_limit(db: sqlite3.Connection, corpid: str, userid: str) -> int:
    row = db.execute(
        "SELECT customer_limit FROM member_extras WHERE corpid = ? AND userid = ?", (corpid, userid)
    ).fetchone()
    if row is None or row["customer_limit"] is None:
        return DEFAULT_CUSTOMER_LIMIT
    return int(row["customer_limit"])


def _customer_count(db: sqlite3.Connection, corpid: str, userid: str) -> int:
    return db.execute(
        f"SELECT COUNT(*) FROM follows WHERE corpid = ? AND userid = ? "
        f"AND status IN {customers._VISIBLE_SQL}",
        (corpid, userid),
    ).fetchone()[0]


def _finish(db, row: sqlite3.Row, status: int, when: float) -> None:
    db.execute(
        "UPDATE transfers SET status = ?, finished_at = ? WHERE id = ?", (status, when, row["id"])
    )


def _fail(db, state: SimState, row: sqlite3.Row, status: int, reason: str, when: float) -> None:
    _finish(db, row, status, when)
    if row["kind"] == ONJOB:
        state.emit(
            db,
            row["corpid"],
            "change_external_contact",
            "transfer_fail",
            [
                ("UserID", row["takeover_userid"]),
                ("ExternalUserID", row["external_userid"]),
                ("FailReason", reason),
            ],
        )


def _take_over(db, state: SimState, row: sqlite3.Row) -> None:
    corpid, ext = row["corpid"], row["external_userid"]
    handover, takeover = row["handover_userid"], row["takeover_userid"]
    follow = customers._follow(db, corpid, handover, ext)
    expected = customers.VISIBLE if row["kind"] == ONJOB else ("resigned",)
    if follow is None or follow["status"] not in expected:
        _finish(db, row, NO_RECORD, row["takeover_at"])  # the relation ended meanwhile
        return
    member = db.execute(
        "SELECT status FROM users WHERE corpid = ? AND userid = ?", (corpid, takeover)
    ).fetchone()
    full = _customer_count(db, corpid, takeover) >= customer_limit(db, corpid, takeover)
    if member is None or member["status"] != directory.STATUS_ACTIVE or full:
        _fail(db, state, row, LIMIT, "customer_limit_exceed", row["takeover_at"])
        return
    db.execute("UPDATE follows SET status = 'removed' WHERE id = ?", (follow["id"],))
    db.execute("DELETE FROM follow_tags WHERE follow_id = ?", (follow["id"],))
    if row["kind"] == ONJOB:
        state.emit(
            db,
            corpid,
            "change_external_contact",
            "del_external_contact",
            [("UserID", handover), ("ExternalUserID", ext), ("Source", "DELETE_BY_TRANSFER")],
        )
    current = customers._follow(db, corpid, takeover, ext)
    if current is None or current["status"] not in customers.VISIBLE:
        customers._upsert_follow(
            db,
            corpid,
            takeover,
            ext,
            createtime=int(row["takeover_at"]),
            oper_userid=handover,
            add_way=TRANSFER_ADD_WAY,
        )
        state.emit(
            db,
            corpid,
            "change_external_contact",
            "add_external_contact",
            [("UserID", takeover), ("ExternalUserID", ext)],
        )
    _finish(db, row, DONE, row["takeover_at"])


def process_due(state: SimState) -> int:
    """Completes every waiting transfer whose 24 h have passed, oldest due first."""
    now = state.clock.now()
    if (
        state.store.one(
            "SELECT 1 FROM transfers WHERE status = ? AND takeover_at <= ? LIMIT 1", (WAITING, now)
        )
        is None
    ):
        return 0
    with state.tx() as db:
        due = db.execute(
            "SELECT * FROM transfers WHERE status = ? AND takeover_at <= ? ORDER BY takeover_at, id",
            (WAITING, now),
        ).fetchall()
        for row in due:
            _take_over(db, state, row)
    return len(due)


# -- people (control API) -------------------------------------------------------------------------------


def refuse(state: SimState, corpid: str, ext: str, handover: str) -> dict[str, Any]:
    """The customer taps 「暂不添加」 within the 24 hours: status 3, transfer_fail (on-job)."""
    with state.tx() as db:
        row = db.execute(
            "SELECT * FROM transfers WHERE corpid = ? AND external_userid = ? "
            "AND handover_userid = ? COLLATE NOCASE AND status = ? ORDER BY id DESC LIMIT 1",
            (corpid, ext, handover, WAITING),
        ).fetchone()
        if row is None:
            raise ControlError(409, "no_transfer", f"no waiting transfer of {ext} from {handover}")
        _fail(db, state, row, REFUSED, "customer_refused", state.clock.now())
    return {"external_userid": ext, "handover_userid": row["handover_userid"], "status": REFUSED}


def set_customer_limit(state: SimState, corpid: str, userid: str, limit: int) -> dict[str, Any]:
    member = directory._user_row(state, corpid, userid)
    if member is None:
        raise ControlError(404, "unknown_member", userid)
    if limit < 0:
        raise ControlError(400, "invalid_field", "limit must be ≥ 0")
    with state.tx() as db:
        db.execute(
            "INSERT INTO member_extras (corpid, userid, customer_limit) VALUES (?, ?, ?) "
            "ON CONFLICT (corpid, userid) DO UPDATE SET customer_limit = excluded.customer_limit",
            (corpid, member["userid"], limit),
        )
    return {"userid": member["userid"], "customer_limit": limit}


def all_transfers(state: SimState, corpid: str) -> list[dict[str, Any]]:
    rows = state.store.all("SELECT * FROM transfers WHERE corpid = ? ORDER BY id", (corpid,))
    return [
        {
            "kind": r["kind"],
            "handover_userid": r["handover_userid"],
            "takeover_userid": r["takeover_userid"],
            "external_userid": r["external_userid"],
            "status": r["status"],
            "takeover_time": _takeover_time(r),
            "transfer_success_msg": r["success_msg"],
        }
        for r in rows
    ]
