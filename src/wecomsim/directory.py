"""Contacts (通讯录): departments and members, API-FACTS §2 and §8.

Changes made through the API do not call back to the calling app ("由通讯录同步助手调用接口触发的变更
事件不回调通讯录同步助手本身"); changes made by people (the control API) send change_contact.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from .errors import ControlError, WeComError
from .state import SimState

MAX_DEPTH = 15  # API-FACTS §8 (LW-DOC §创建部门); the original issue said 14, the doc copy says 15
MAX_DEPARTMENTS = 30_000
_BAD_DEPT_CHARS = re.compile(r'[\\:*?"<>|]')
USERID_RE = re.compile(r"^[A-Za-z0-9_\-@.]{1,64}$")

STATUS_ACTIVE, STATUS_DISABLED, STATUS_INACTIVE, STATUS_LEFT = 1, 2, 4, 5


# -- departments -------------------------------------------------------------------------------


def _departments(db: sqlite3.Connection, corpid: str) -> dict[int, sqlite3.Row]:
    rows = db.execute("SELECT * FROM departments WHERE corpid = ?", (corpid,)).fetchall()
    return {r["id"]: r for r in rows}


def depth_of(departments: dict[int, Any], dept_id: int) -> int:
    """Root is level 1."""
    level, current = 0, dept_id
    while current in departments and level <= MAX_DEPTH + 1:
        level += 1
        current = departments[current]["parentid"]
    return level


def subtree_ids(departments: dict[int, Any], root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for dept_id, row in departments.items():
        children.setdefault(row["parentid"], []).append(dept_id)
    result, stack = [], [root]
    while stack:
        current = stack.pop()
        result.append(current)
        stack.extend(sorted(children.get(current, []), reverse=True))
    return result


def _department_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "name_en": row["name_en"],
        "parentid": row["parentid"],
        "order": row["sort"],
    }


def list_departments(state: SimState, corpid: str, dept_id: int | None) -> list[dict[str, Any]]:
    with state.store.read() as db:
        departments = _departments(db, corpid)
    if dept_id is None:
        return [_department_json(departments[i]) for i in sorted(departments)]
    if dept_id not in departments:
        raise WeComError(60123, f"department {dept_id}")
    return [_department_json(departments[i]) for i in subtree_ids(departments, dept_id)]


def get_department(state: SimState, corpid: str, dept_id: int) -> dict[str, Any]:
    row = state.store.one(
        "SELECT * FROM departments WHERE corpid = ? AND id = ?", (corpid, dept_id)
    )
    if row is None:
        raise WeComError(60123, f"department {dept_id}")
    leaders = [
        u["userid"]
        for u in state.store.all(
            "SELECT userid, departments, is_leader FROM users WHERE corpid = ? AND status != 5",
            (corpid,),
        )
        for d, leader in zip(json.loads(u["departments"]), json.loads(u["is_leader"]), strict=False)
        if d == dept_id and leader
    ]
    return {**_department_json(row), "department_leader": leaders}


def create_department(
    state: SimState,
    corpid: str,
    *,
    name: str,
    parentid: int,
    order: int | None = None,
    dept_id: int | None = None,
    name_en: str = "",
    by_person: bool = False,
) -> int:
    """department/create rules (API-FACTS §8); `by_person` sends create_party (admin console)."""
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        raise WeComError(40058, "name must be 1-32 characters")
    if _BAD_DEPT_CHARS.search(name) or (name_en and _BAD_DEPT_CHARS.search(name_en)):
        raise WeComError(60009)
    with state.tx() as db:
        departments = _departments(db, corpid)
        if parentid not in departments:
            raise WeComError(60004, f"parentid {parentid}")
        if depth_of(departments, parentid) + 1 > MAX_DEPTH:
            raise WeComError(60002, f"at most {MAX_DEPTH} levels")
        if len(departments) >= MAX_DEPARTMENTS:
            raise WeComError(60002, "department count limit reached")
        if any(d["parentid"] == parentid and d["name"] == name for d in departments.values()):
            raise WeComError(60008, name)
        if dept_id is not None:
            if dept_id <= 1 or dept_id in departments:
                raise WeComError(60008 if dept_id in departments else 40058, f"id {dept_id}")
        else:
            dept_id = max(departments) + 1
        if order is None:
            # WeCom sorts larger first; a new department goes after its siblings.
            order = 100_000_000 - 1000 * sum(
                1 for d in departments.values() if d["parentid"] == parentid
            )
        db.execute(
            "INSERT INTO departments (corpid, id, name, name_en, parentid, sort) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (corpid, dept_id, name, name_en or "", parentid, order),
        )
        if by_person:
            state.emit(
                db,
                corpid,
                "change_contact",
                "create_party",
                [
                    ("Id", dept_id),
                    ("Name", name),
                    ("ParentId", str(parentid)),
                    ("Order", order),
                ],
            )
    return dept_id


# -- members -------------------------------------------------------------------------------------


def user_json(row: sqlite3.Row, simple: bool = False) -> dict[str, Any]:
    departments = json.loads(row["departments"])
    if simple:
        return {"userid": row["userid"], "name": row["name"], "department": departments}
    avatar = f"https://wework.qpic.cn/wwhead/sim_{row['userid']}/0"
    return {
        "userid": row["userid"],
        "name": row["name"],
        "department": departments,
        "order": json.loads(row["orders"]),
        "position": row["position"],
        "mobile": row["mobile"],
        "gender": row["gender"],  # a string, per API-FACTS §8
        "email": row["email"],
        "biz_mail": "",
        "is_leader_in_dept": json.loads(row["is_leader"]),
        "direct_leader": [],
        "avatar": avatar,
        "thumb_avatar": avatar.removesuffix("/0") + "/100",
        "telephone": "",
        "alias": row["alias"],
        "address": "",
        "main_department": row["main_department"],
        "extattr": {"attrs": []},
        "status": row["status"],
        "qr_code": f"https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=sim_{row['userid']}",
        "external_position": "",
        "external_profile": {"external_corp_name": "", "external_attr": []},
    }


def _user_row(state: SimState, corpid: str, userid: str) -> sqlite3.Row | None:
    return state.store.one(
        "SELECT * FROM users WHERE corpid = ? AND userid = ? COLLATE NOCASE", (corpid, userid)
    )


def get_user(state: SimState, corpid: str, userid: str) -> dict[str, Any]:
    if not userid:
        raise WeComError(41009)
    row = _user_row(state, corpid, userid)
    if row is None or row["status"] == STATUS_LEFT:
        # A member who left is removed from the directory.
        raise WeComError(60111, f"userid {userid}")
    return user_json(row)


def list_users(
    state: SimState, corpid: str, department_id: int | None, fetch_child: bool, simple: bool
) -> list[dict[str, Any]]:
    if department_id is None:
        raise WeComError(60123, "department_id is required")
    with state.store.read() as db:
        departments = _departments(db, corpid)
        if department_id not in departments:
            raise WeComError(60123, f"department {department_id}")
        wanted = set(subtree_ids(departments, department_id) if fetch_child else [department_id])
        rows = db.execute(
            "SELECT * FROM users WHERE corpid = ? AND status != 5 ORDER BY created_at, userid",
            (corpid,),
        ).fetchall()
    return [user_json(r, simple) for r in rows if wanted.intersection(json.loads(r["departments"]))]


def list_user_ids(state: SimState, corpid: str, cursor: str, limit: int) -> tuple[list, str]:
    """user/list_id: one row per (member, department), cursor-paginated."""
    offset = int(cursor) if cursor.isdigit() else 0
    rows = state.store.all(
        "SELECT userid, departments FROM users WHERE corpid = ? AND status != 5 ORDER BY userid",
        (corpid,),
    )
    pairs = [
        {"userid": r["userid"], "department": d} for r in rows for d in json.loads(r["departments"])
    ]
    page = pairs[offset : offset + limit]
    next_cursor = str(offset + limit) if offset + limit < len(pairs) else ""
    return page, next_cursor


def follow_user_list(state: SimState, corpid: str) -> list[str]:
    rows = state.store.all(
        "SELECT userid FROM users WHERE corpid = ? AND status = 1 AND customer_contact = 1 "
        "ORDER BY created_at, userid",
        (corpid,),
    )
    return [r["userid"] for r in rows]


def require_user(state: SimState, corpid: str, userid: str, active: bool = True) -> sqlite3.Row:
    """For the WeCom API: an unknown (or departed) member is 40003."""
    if not userid:
        raise WeComError(41009)
    row = _user_row(state, corpid, userid)
    if row is None or row["status"] == STATUS_LEFT or (active and row["status"] != STATUS_ACTIVE):
        raise WeComError(40003, f"userid {userid}")
    return row


def _member_fields(row: dict[str, Any]) -> list[tuple[str, str | int]]:
    return [
        ("UserID", row["userid"]),
        ("Name", row["name"]),
        ("Department", ",".join(str(d) for d in row["departments"])),
        ("MainDepartment", row["main_department"]),
        ("IsLeaderInDept", ",".join(str(x) for x in row["is_leader"])),
        ("Position", row["position"]),
        ("Mobile", row["mobile"]),
        ("Gender", int(row["gender"])),
        ("Email", row["email"]),
        ("Status", row["status"]),
        ("Alias", row["alias"]),
    ]


def create_member(state: SimState, corpid: str, body: dict[str, Any]) -> dict[str, Any]:
    """The admin adds a member in the console: create_user."""
    userid = str(body.get("userid") or "")
    if not USERID_RE.match(userid):
        raise ControlError(400, "invalid_userid", "userid: 1-64 of letters, digits, _ - @ .")
    departments = body.get("department") or [1]
    with state.tx() as db:
        known = _departments(db, corpid)
        if any(d not in known for d in departments):
            raise ControlError(400, "unknown_department", str(departments))
        if db.execute(
            "SELECT 1 FROM users WHERE corpid = ? AND userid = ? COLLATE NOCASE", (corpid, userid)
        ).fetchone():
            raise ControlError(409, "userid_exists", userid)
        row = {
            "userid": userid,
            "name": str(body.get("name") or userid),
            "departments": departments,
            "orders": [0] * len(departments),
            "is_leader": [0] * len(departments),
            "main_department": departments[0],
            "position": str(body.get("position") or ""),
            "mobile": str(body.get("mobile") or ""),
            "gender": str(body.get("gender") or "0"),
            "email": str(body.get("email") or ""),
            "alias": str(body.get("alias") or ""),
            # A member the admin adds has not activated yet in real WeCom (status 4); the sim
            # assumes they log in at once unless told otherwise, because most flows need them.
            "status": int(body.get("status") or STATUS_ACTIVE),
        }
        db.execute(
            "INSERT INTO users (corpid, userid, name, departments, orders, is_leader, "
            "main_department, position, mobile, gender, email, alias, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                corpid,
                userid,
                row["name"],
                json.dumps(departments),
                json.dumps(row["orders"]),
                json.dumps(row["is_leader"]),
                row["main_department"],
                row["position"],
                row["mobile"],
                row["gender"],
                row["email"],
                row["alias"],
                row["status"],
                state.clock.now(),
            ),
        )
        state.emit(db, corpid, "change_contact", "create_user", _member_fields(row))
    return user_json(_user_row(state, corpid, userid))  # type: ignore[arg-type]


def _existing_member(state: SimState, corpid: str, userid: str) -> sqlite3.Row:
    row = _user_row(state, corpid, userid)
    if row is None or row["status"] == STATUS_LEFT:
        raise ControlError(404, "unknown_member", userid)
    return row


def move_member(
    state: SimState,
    corpid: str,
    userid: str,
    departments: list[int],
    is_leader: list[int] | None = None,
) -> dict:
    """The admin moves a member (and says in which departments they lead, 0/1 per department, as
    WeCom's is_leader_in_dept): update_user with the changed fields only."""
    row = _existing_member(state, corpid, userid)
    if not departments:
        raise ControlError(400, "invalid_department", "department must not be empty")
    leader_flags = [0] * len(departments) if is_leader is None else is_leader
    if len(leader_flags) != len(departments) or any(f not in (0, 1) for f in leader_flags):
        raise ControlError(
            400, "invalid_field", "is_leader_in_dept must be 0 or 1 for each department"
        )
    with state.tx() as db:
        known = _departments(db, corpid)
        if any(d not in known for d in departments):
            raise ControlError(400, "unknown_department", str(departments))
        main = row["main_department"] if row["main_department"] in departments else departments[0]
        db.execute(
            "UPDATE users SET departments = ?, orders = ?, is_leader = ?, main_department = ? "
            "WHERE corpid = ? AND userid = ?",
            (
                json.dumps(departments),
                json.dumps([0] * len(departments)),
                json.dumps(leader_flags),
                main,
                corpid,
                row["userid"],
            ),
        )
        state.emit(
            db,
            corpid,
            "change_contact",
            "update_user",
            [
                ("UserID", row["userid"]),
                ("Department", ",".join(str(d) for d in departments)),
                ("MainDepartment", main),
                ("IsLeaderInDept", ",".join(str(f) for f in leader_flags)),
            ],
        )
    return user_json(_user_row(state, corpid, userid))  # type: ignore[arg-type]


def member_leaves(state: SimState, corpid: str, userid: str) -> dict:
    """The member leaves the corp: delete_user. Status 5 = left; the member vanishes from the
    directory (user/get answers 60111) and their customers wait for resigned-member assignment."""
    row = _existing_member(state, corpid, userid)
    with state.tx() as db:
        db.execute(
            "UPDATE users SET status = 5 WHERE corpid = ? AND userid = ?", (corpid, row["userid"])
        )
        db.execute(
            "UPDATE follows SET status = 'resigned' WHERE corpid = ? AND userid = ? "
            "AND status IN ('active', 'one_way')",
            (corpid, row["userid"]),
        )
        db.execute(
            "DELETE FROM follows WHERE corpid = ? AND userid = ? AND status IN ('half', 'pending')",
            (corpid, row["userid"]),
        )
        state.emit(db, corpid, "change_contact", "delete_user", [("UserID", row["userid"])])
        _after_member_left(db, state, corpid, row["userid"])
    return {"userid": row["userid"], "status": STATUS_LEFT}


def _after_member_left(db: sqlite3.Connection, state: SimState, corpid: str, userid: str) -> None:
    """Knock-on effects elsewhere: the departure time (for get_unassigned_list) and acquisition
    links left without a usable member."""
    from . import acquisition, transfers  # both import this module

    transfers.record_departure(db, state, corpid, userid)
    acquisition.on_members_changed(db, state, corpid)
