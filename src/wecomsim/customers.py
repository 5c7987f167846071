"""Customers (外部联系人) and follow relations, API-FACTS §3.1, §5, §8.

A follow relation (member ↔ customer) has a status:
  active    both sides are friends
  one_way   the customer deleted the member (del_follow_user); the member still has the customer and
            the APIs keep returning the relation (API-FACTS §8, 84061 note)
  half      skip-verify add: the customer added the member, who has not confirmed yet; APIs answer
            84061 for it until the member adds back (API-FACTS §8)
  pending   a friend request the member has not accepted
  removed   the member deleted the customer (del_external_contact)
  resigned  the member left the corp; the relation waits for resigned-member assignment
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sqlite3
from typing import Any

from . import directory, ids, tags, welcome
from .errors import ControlError, WeComError
from .names import customer_name
from .state import SimState

VISIBLE = ("active", "one_way")
_VISIBLE_SQL = "('active', 'one_way')"
FOLLOW_PAGE = 500  # externalcontact/get pages follow_user past 500 followers
BATCH_DEFAULT, BATCH_MAX, BATCH_USERS_MAX = 50, 100, 100
REMARK_MAX, DESCRIPTION_MAX, REMARK_COMPANY_MAX = 20, 150, 20
ACQUISITION_ADD_WAY = 16
CUSTOMER_INITIATED_ADD_WAYS = {
    1,
    4,
    ACQUISITION_ADD_WAY,
}  # the customer scanned / joined / clicked a link


# -- JSON shapes --------------------------------------------------------------------------------


def customer_json(row: sqlite3.Row) -> dict[str, Any]:
    data: dict[str, Any] = {
        "external_userid": row["external_userid"],
        "name": row["name"],
        "avatar": row["avatar"],
        "type": row["type"],
        "gender": row["gender"],
    }
    if row["unionid"]:
        # Only present when the corp has bound a WeChat developer account and the user is type 1.
        data["unionid"] = row["unionid"]
    if row["type"] == 2:
        data.update(
            position=row["position"],
            corp_name=row["corp_name"],
            corp_full_name=row["corp_full_name"],
            external_profile={"external_attr": []},
        )
    return data


def _follow_common(row: sqlite3.Row) -> dict[str, Any]:
    data: dict[str, Any] = {
        "userid": row["userid"],
        "remark": row["remark"],
        "description": row["description"],
        "createtime": row["createtime"],
    }
    if row["remark_corp_name"]:
        data["remark_corp_name"] = row["remark_corp_name"]
    data["remark_mobiles"] = json.loads(row["remark_mobiles"])
    data["oper_userid"] = row["oper_userid"]
    data["add_way"] = row["add_way"]
    if row["state"]:
        data["state"] = row["state"]
    return data


def _tags_by_follow(db: sqlite3.Connection, follow_ids: list[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {fid: [] for fid in follow_ids}
    for chunk_start in range(0, len(follow_ids), 900):
        chunk = follow_ids[chunk_start : chunk_start + 900]
        marks = ",".join("?" * len(chunk))
        for r in db.execute(
            f"SELECT follow_id, tag_id FROM follow_tags WHERE follow_id IN ({marks}) "
            "ORDER BY follow_id, tag_id",
            chunk,
        ):
            result[r["follow_id"]].append(r["tag_id"])
    return result


# -- lookups ------------------------------------------------------------------------------------------


def _customer(db: sqlite3.Connection, corpid: str, external_userid: str) -> sqlite3.Row | None:
    return db.execute(
        "SELECT * FROM customers WHERE corpid = ? AND external_userid = ?",
        (corpid, external_userid),
    ).fetchone()


def _follow(db: sqlite3.Connection, corpid: str, userid: str, external_userid: str):
    return db.execute(
        "SELECT * FROM follows WHERE corpid = ? AND userid = ? AND external_userid = ?",
        (corpid, userid, external_userid),
    ).fetchone()


def _require_customer(db: sqlite3.Connection, corpid: str, external_userid: Any) -> sqlite3.Row:
    if not external_userid:
        raise WeComError(41035)
    row = _customer(db, corpid, str(external_userid))
    if row is None:
        raise WeComError(40096, f"external_userid {external_userid}")
    return row


def _require_relation(db: sqlite3.Connection, corpid: str, userid: str, external_userid: str):
    row = _follow(db, corpid, userid, external_userid)
    if row is None or row["status"] not in VISIBLE:
        raise WeComError(84061)
    return row


# -- WeCom API ---------------------------------------------------------------------------------------


def list_for_member(state: SimState, corpid: str, userid: str) -> list[str]:
    user = directory.require_user(state, corpid, userid, active=False)
    rows = state.store.all(
        f"SELECT external_userid FROM follows WHERE corpid = ? AND userid = ? "
        f"AND status IN {_VISIBLE_SQL} ORDER BY id",
        (corpid, user["userid"]),
    )
    if not rows:
        raise WeComError(84061)  # not an empty list: WeCom answers 84061 (API-FACTS §3.1)
    return [r["external_userid"] for r in rows]


def get_detail(state: SimState, corpid: str, external_userid: str, cursor: str) -> dict[str, Any]:
    with state.store.read() as db:
        customer = _require_customer(db, corpid, external_userid)
        follows = db.execute(
            f"SELECT * FROM follows WHERE corpid = ? AND external_userid = ? "
            f"AND status IN {_VISIBLE_SQL} ORDER BY id",
            (corpid, customer["external_userid"]),
        ).fetchall()
        if not follows:
            raise WeComError(84061)
        offset = _decode_offset(cursor)
        page = follows[offset : offset + FOLLOW_PAGE]
        tag_ids = _tags_by_follow(db, [f["id"] for f in page])
        tag_rows = {
            t["tag_id"]: t
            for t in db.execute(
                "SELECT t.tag_id, t.name, g.name AS group_name FROM tags t JOIN tag_groups g "
                "ON g.corpid = t.corpid AND g.group_id = t.group_id WHERE t.corpid = ?",
                (corpid,),
            )
        }
    follow_users = []
    for follow in page:
        item = _follow_common(follow)
        item["tags"] = [
            {
                "group_name": tag_rows[t]["group_name"],
                "tag_name": tag_rows[t]["name"],
                "tag_id": t,
                "type": 1,
            }
            for t in tag_ids[follow["id"]]
            if t in tag_rows
        ]
        follow_users.append(item)
    more = offset + FOLLOW_PAGE < len(follows)
    return {
        "external_contact": customer_json(customer),
        "follow_user": follow_users,
        "next_cursor": _encode_offset(offset + FOLLOW_PAGE) if more else "",
    }


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"f:{offset}".encode()).decode().rstrip("=")


def _decode_offset(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, value = raw.split(":", 1)
        if kind != "f":
            raise ValueError(kind)
        return max(int(value), 0)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise WeComError(40058, "invalid cursor") from exc


def _batch_cursor(digest: str, position: int, last_id: int) -> str:
    raw = json.dumps([digest, position, last_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_batch_cursor(cursor: str, digest: str) -> tuple[int, int]:
    if not cursor:
        return 0, 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        seen_digest, position, last_id = json.loads(raw)
        if seen_digest != digest:
            raise ValueError("cursor belongs to another userid_list")
        return int(position), int(last_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise WeComError(40058, "invalid cursor") from exc


def batch_by_user(
    state: SimState, corpid: str, userids: list[str], cursor: str, limit: int
) -> dict[str, Any]:
    """batch/get_by_user: one entry per (customer, follow member), member by member, by id.

    The cursor holds (position in userid_list, last follow id) so every page is an index range
    scan on follows(corpid, userid, id), however many customers a member has.
    """
    if not userids:
        raise WeComError(41009)
    if len(userids) > BATCH_USERS_MAX:
        raise WeComError(40058, f"userid_list holds at most {BATCH_USERS_MAX} userids")
    limit = BATCH_DEFAULT if not limit or limit <= 0 else min(limit, BATCH_MAX)
    canonical = [directory.require_user(state, corpid, u, active=False)["userid"] for u in userids]
    digest = hashlib.sha1("\n".join(canonical).encode()).hexdigest()[:12]
    position, last_id = _read_batch_cursor(cursor, digest)
    rows: list[sqlite3.Row] = []
    with state.store.read() as db:
        while position < len(canonical) and len(rows) < limit:
            batch = db.execute(
                f"SELECT * FROM follows WHERE corpid = ? AND userid = ? AND id > ? "
                f"AND status IN {_VISIBLE_SQL} ORDER BY id LIMIT ?",
                (corpid, canonical[position], last_id, limit - len(rows)),
            ).fetchall()
            rows.extend(batch)
            if len(rows) < limit:
                position, last_id = position + 1, 0
            else:
                last_id = rows[-1]["id"]
        next_cursor = ""
        if position < len(canonical) and _has_more(db, corpid, canonical, position, last_id):
            next_cursor = _batch_cursor(digest, position, last_id)
        customers = _customers_by_id(db, corpid, [r["external_userid"] for r in rows])
        tag_ids = _tags_by_follow(db, [r["id"] for r in rows])
    entries = []
    for row in rows:
        info = _follow_common(row)
        info["tag_id"] = tag_ids[row["id"]]
        entries.append(
            {
                "external_contact": customer_json(customers[row["external_userid"]]),
                "follow_info": info,
            }
        )
    return {"external_contact_list": entries, "next_cursor": next_cursor}


def _has_more(db, corpid: str, userids: list[str], position: int, last_id: int) -> bool:
    first = db.execute(
        f"SELECT 1 FROM follows WHERE corpid = ? AND userid = ? AND id > ? "
        f"AND status IN {_VISIBLE_SQL} LIMIT 1",
        (corpid, userids[position], last_id),
    ).fetchone()
    if first:
        return True
    rest = userids[position + 1 :]
    if not rest:
        return False
    marks = ",".join("?" * len(rest))
    return (
        db.execute(
            f"SELECT 1 FROM follows WHERE corpid = ? AND userid IN ({marks}) "
            f"AND status IN {_VISIBLE_SQL} LIMIT 1",
            [corpid, *rest],
        ).fetchone()
        is not None
    )


def _customers_by_id(db, corpid: str, external_userids: list[str]) -> dict[str, sqlite3.Row]:
    unique = list(dict.fromkeys(external_userids))
    result: dict[str, sqlite3.Row] = {}
    for start in range(0, len(unique), 900):
        chunk = unique[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(
            f"SELECT * FROM customers WHERE corpid = ? AND external_userid IN ({marks})",
            [corpid, *chunk],
        ):
            result[row["external_userid"]] = row
    return result


def _length_ok(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise WeComError(40058, "expected a string")
    if len(value) > limit:
        raise WeComError(40058, f"longer than {limit} characters")
    return value


def remark(state: SimState, corpid: str, body: dict[str, Any]) -> None:
    """externalcontact/remark. No callback: API changes do not call back (doc 96361)."""
    user = directory.require_user(state, corpid, str(body.get("userid") or ""), active=False)
    optional = ("remark", "description", "remark_company", "remark_mobiles", "remark_pic_mediaid")
    if not any(key in body for key in optional):
        raise WeComError(40058, "at least one of " + ", ".join(optional) + " is required")
    updates: dict[str, Any] = {}
    if "remark" in body:
        updates["remark"] = _length_ok(body["remark"], REMARK_MAX)
    if "description" in body:
        updates["description"] = _length_ok(body["description"], DESCRIPTION_MAX)
    if "remark_mobiles" in body:
        mobiles = body["remark_mobiles"]
        if not isinstance(mobiles, list) or not all(isinstance(m, str) for m in mobiles):
            raise WeComError(40058, "remark_mobiles must be a list of strings")
        updates["remark_mobiles"] = json.dumps([m for m in mobiles if m])  # [""] clears
    with state.tx() as db:
        customer = _require_customer(db, corpid, body.get("external_userid"))
        if "remark_company" in body and customer["type"] == 1:
            # remark_company only applies to WeChat (type 1) customers; ignored otherwise.
            updates["remark_corp_name"] = _length_ok(body["remark_company"], REMARK_COMPANY_MAX)
        follow = _require_relation(db, corpid, user["userid"], customer["external_userid"])
        if updates:
            sets = ", ".join(f"{k} = ?" for k in updates)
            db.execute(f"UPDATE follows SET {sets} WHERE id = ?", [*updates.values(), follow["id"]])


def _string_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WeComError(40058, f"{key} must be a list of strings")
    return value


def mark_tag(state: SimState, corpid: str, body: dict[str, Any]) -> None:
    """externalcontact/mark_tag. No callback (doc 96361)."""
    user = directory.require_user(state, corpid, str(body.get("userid") or ""), active=False)
    add, remove = _string_list(body, "add_tag"), _string_list(body, "remove_tag")
    if not add and not remove:
        raise WeComError(40058, "add_tag and remove_tag cannot both be empty")
    with state.tx() as db:
        customer = _require_customer(db, corpid, body.get("external_userid"))
        follow = _require_relation(db, corpid, user["userid"], customer["external_userid"])
        tags.require_tags(db, corpid, add + remove)
        tags.apply_tags(db, follow["id"], add, remove)


# -- people (control API) ---------------------------------------------------------------------------


def _control_member(state: SimState, corpid: str, userid: str) -> sqlite3.Row:
    try:
        return directory.require_user(state, corpid, userid)
    except WeComError as exc:
        raise ControlError(404, "unknown_member", f"{userid} is not an active member") from exc


def _control_customer(db, corpid: str, external_userid: str) -> sqlite3.Row:
    row = _customer(db, corpid, external_userid)
    if row is None:
        raise ControlError(404, "unknown_customer", external_userid)
    return row


def new_customer(db: sqlite3.Connection, state: SimState, corpid: str, spec: dict[str, Any]):
    customer_type = int(spec.get("type") or 1)
    external_userid = ids.external_userid(customer_type)
    gender = int(spec.get("gender") or state.random.choice((0, 1, 2)))
    db.execute(
        "INSERT INTO customers (corpid, external_userid, name, avatar, type, gender, unionid, "
        "position, corp_name, corp_full_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            corpid,
            external_userid,
            str(spec.get("name") or customer_name(state.random)),
            str(spec.get("avatar") or f"http://wx.qlogo.cn/mmhead/sim_{external_userid[-8:]}/0"),
            customer_type,
            gender,
            str(spec.get("unionid") or ""),
            str(spec.get("position") or ""),
            str(spec.get("corp_name") or ""),
            str(spec.get("corp_full_name") or ""),
            state.clock.now(),
        ),
    )
    return _customer(db, corpid, external_userid)


def _resolve_customer(db, state: SimState, corpid: str, body: dict[str, Any]) -> sqlite3.Row:
    if body.get("external_userid"):
        return _control_customer(db, corpid, str(body["external_userid"]))
    return new_customer(db, state, corpid, body.get("customer") or {})


def _upsert_follow(db, corpid: str, userid: str, external_userid: str, **values: Any) -> int:
    """Creates the relation, or restarts an ended one (a re-add starts afresh: no remark, no tags)."""
    existing = _follow(db, corpid, userid, external_userid)
    columns = {
        "status": "active",
        "remark": "",
        "description": "",
        "remark_corp_name": "",
        "remark_mobiles": "[]",
        "oper_userid": "",
        "add_way": 0,
        "state": "",
        "welcome_code": "",
    }
    columns.update(values)
    if existing is None:
        names = ["corpid", "userid", "external_userid", *columns]
        db.execute(
            f"INSERT INTO follows ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [corpid, userid, external_userid, *columns.values()],
        )
        return _follow(db, corpid, userid, external_userid)["id"]
    sets = ", ".join(f"{k} = ?" for k in columns)
    db.execute(f"UPDATE follows SET {sets} WHERE id = ?", [*columns.values(), existing["id"]])
    db.execute("DELETE FROM follow_tags WHERE follow_id = ?", (existing["id"],))
    return existing["id"]


def _add_fields(userid: str, external_userid: str, state_value: str, code: str | None):
    fields: list[tuple[str, str | int]] = [("UserID", userid), ("ExternalUserID", external_userid)]
    if state_value:
        fields.append(("State", state_value))
    if code:
        fields.append(("WelcomeCode", code))
    return fields


def scan(state: SimState, corpid: str, body: dict[str, Any]) -> dict[str, Any]:
    """A customer scans a 「联系我」 code. WeCom picks one of the way's members at random."""
    from . import contact_ways  # contact_ways imports this module

    config_id = str(body.get("config_id") or "")
    with state.tx() as db:
        way = contact_ways.load_way(db, corpid, config_id)
        if way is None:
            raise ControlError(404, "unknown_contact_way", config_id)
        pool = contact_ways.member_pool(db, corpid, way)
        if not pool:
            raise ControlError(409, "no_member", "the contact way has no active member")
        userid = state.random.choice(pool)
        customer = _resolve_customer(db, state, corpid, body)
        external_userid = customer["external_userid"]
        current = _follow(db, corpid, userid, external_userid)
        result = {"external_userid": external_userid, "userid": userid, "config_id": config_id}
        if current is not None and current["status"] in ("active", "half", "pending"):
            status = {"active": "already_friends", "half": "half", "pending": "pending_request"}
            return {**result, "status": status[current["status"]], "welcome_code": None}
        now = state.now()
        way_state = way.get("state") or ""
        if current is not None and current["status"] == "one_way":
            # The member still has the customer: re-adding restores the friendship at once.
            code = welcome.issue(db, state, corpid, userid, external_userid)
            db.execute("UPDATE follows SET status = 'active' WHERE id = ?", (current["id"],))
            state.emit(
                db,
                corpid,
                "change_external_contact",
                "add_external_contact",
                _add_fields(userid, external_userid, current["state"], code),
            )
            return {**result, "status": "added", "welcome_code": code}
        common = {
            "createtime": now,
            "oper_userid": external_userid,
            "add_way": 1,
            "state": way_state,
        }
        if way.get("skip_verify", True):
            code = welcome.issue(db, state, corpid, userid, external_userid)
            _upsert_follow(
                db, corpid, userid, external_userid, status="half", welcome_code=code, **common
            )
            state.emit(
                db,
                corpid,
                "change_external_contact",
                "add_half_external_contact",
                _add_fields(userid, external_userid, way_state, code),
            )
            if body.get("auto_accept"):
                accepted = accept(state, corpid, userid, external_userid)
                return {
                    **result,
                    "status": "added",
                    "welcome_code": code,
                    "accept_welcome_code": accepted["welcome_code"],
                }
            return {**result, "status": "half", "welcome_code": code}
        _upsert_follow(db, corpid, userid, external_userid, status="pending", **common)
        return {**result, "status": "pending_request", "welcome_code": None}


def accept(state: SimState, corpid: str, userid: str, external_userid: str) -> dict[str, Any]:
    """The member confirms a half add, or accepts a friend request: add_external_contact.

    After a half add, WelcomeCode is sent again only if no welcome message went out with the half
    add's code (official note: not pushed again once a welcome message was sent at the half step).
    """
    member = _control_member(state, corpid, userid)
    with state.tx() as db:
        follow = _follow(db, corpid, member["userid"], external_userid)
        if follow is None or follow["status"] not in ("half", "pending"):
            raise ControlError(409, "nothing_to_accept", "no half add or friend request")
        code: str | None = None
        if follow["status"] == "pending" or not welcome.was_sent(db, follow["welcome_code"]):
            code = welcome.issue(db, state, corpid, member["userid"], external_userid)
        createtime = state.now() if follow["status"] == "pending" else follow["createtime"]
        db.execute(
            "UPDATE follows SET status = 'active', createtime = ?, welcome_code = ? WHERE id = ?",
            (createtime, code or "", follow["id"]),
        )
        if follow["add_way"] == ACQUISITION_ADD_WAY:
            from . import acquisition  # acquisition imports this module

            acquisition.on_established(db, state, corpid, member["userid"], external_userid)
        state.emit(
            db,
            corpid,
            "change_external_contact",
            "add_external_contact",
            _add_fields(member["userid"], external_userid, follow["state"], code),
        )
    return {
        "external_userid": external_userid,
        "userid": member["userid"],
        "status": "added",
        "welcome_code": code,
    }


def add_direct(state: SimState, corpid: str, body: dict[str, Any]) -> dict[str, Any]:
    """A friendship made without a contact way (search by phone, card, group...)."""
    member = _control_member(state, corpid, str(body.get("userid") or ""))
    add_way = int(body.get("add_way", 1))
    remark_text = str(body.get("remark") or "")
    if len(remark_text) > REMARK_MAX:
        raise ControlError(400, "invalid_remark", f"remark longer than {REMARK_MAX}")
    # The phone the member typed or kept while adding: the caller says, since whether WeCom keeps
    # the searched number by itself is not confirmed (docs/wecomsim.md).
    mobiles = body.get("remark_mobiles") or []
    if not isinstance(mobiles, list) or not all(isinstance(m, str) for m in mobiles):
        raise ControlError(
            400, "invalid_remark_mobiles", "remark_mobiles must be a list of strings"
        )
    with state.tx() as db:
        customer = _resolve_customer(db, state, corpid, body)
        external_userid = customer["external_userid"]
        current = _follow(db, corpid, member["userid"], external_userid)
        if current is not None and current["status"] in VISIBLE:
            raise ControlError(409, "already_friends", f"{member['userid']} ↔ {external_userid}")
        initiator = body.get("initiator") or (
            "customer" if add_way in CUSTOMER_INITIATED_ADD_WAYS else "member"
        )
        oper = external_userid if initiator == "customer" else member["userid"]
        code = welcome.issue(db, state, corpid, member["userid"], external_userid)
        state_value = str(body.get("state") or "")
        _upsert_follow(
            db,
            corpid,
            member["userid"],
            external_userid,
            createtime=state.now(),
            oper_userid=oper,
            add_way=add_way,
            state=state_value,
            remark=remark_text,
            remark_mobiles=json.dumps([m for m in mobiles if m]),
            welcome_code=code,
        )
        state.emit(
            db,
            corpid,
            "change_external_contact",
            "add_external_contact",
            _add_fields(member["userid"], external_userid, state_value, code),
        )
    return {
        "external_userid": external_userid,
        "userid": member["userid"],
        "status": "added",
        "welcome_code": code,
    }


def customer_deletes_member(state: SimState, corpid: str, external_userid: str, userid: str):
    """del_follow_user. The relation stays one-way: the member still has the customer."""
    with state.tx() as db:
        _control_customer(db, corpid, external_userid)
        follow = _follow(db, corpid, userid, external_userid)
        if follow is None or follow["status"] not in ("active", "half", "pending"):
            raise ControlError(409, "not_friends", f"{userid} ↔ {external_userid}")
        if follow["status"] == "pending":
            db.execute("UPDATE follows SET status = 'removed' WHERE id = ?", (follow["id"],))
            return {"status": "request_withdrawn"}
        new_status = "one_way" if follow["status"] == "active" else "removed"
        db.execute("UPDATE follows SET status = ? WHERE id = ?", (new_status, follow["id"]))
        state.emit(
            db,
            corpid,
            "change_external_contact",
            "del_follow_user",
            [("UserID", follow["userid"]), ("ExternalUserID", external_userid)],
        )
    return {"status": new_status}


def member_deletes_customer(state: SimState, corpid: str, userid: str, external_userid: str):
    """del_external_contact with an empty Source (DELETE_BY_TRANSFER is for inheritance)."""
    with state.tx() as db:
        follow = _follow(db, corpid, userid, external_userid)
        if follow is None or follow["status"] not in (*VISIBLE, "half"):
            raise ControlError(409, "not_friends", f"{userid} ↔ {external_userid}")
        db.execute("UPDATE follows SET status = 'removed' WHERE id = ?", (follow["id"],))
        db.execute("DELETE FROM follow_tags WHERE follow_id = ?", (follow["id"],))
        state.emit(
            db,
            corpid,
            "change_external_contact",
            "del_external_contact",
            [
                ("UserID", follow["userid"]),
                ("ExternalUserID", external_userid),
                ("Source", ""),
            ],
        )
    return {"status": "removed"}


def member_edits_customer(state: SimState, corpid: str, userid: str, body: dict[str, Any]):
    """A member edits remark/description/mobiles/tags in the client: edit_external_contact,
    except when only remark_mobiles changed (API-FACTS §5)."""
    external_userid = str(body.get("external_userid") or "")
    updates: dict[str, Any] = {}
    try:
        if "remark" in body:
            updates["remark"] = _length_ok(body["remark"], REMARK_MAX)
        if "description" in body:
            updates["description"] = _length_ok(body["description"], DESCRIPTION_MAX)
        add, remove = _string_list(body, "add_tag"), _string_list(body, "remove_tag")
    except WeComError as exc:
        raise ControlError(400, "invalid_field", exc.errmsg) from exc
    mobiles_changed = "remark_mobiles" in body
    with state.tx() as db:
        follow = _follow(db, corpid, userid, external_userid)
        if follow is None or follow["status"] not in VISIBLE:
            raise ControlError(409, "not_friends", f"{userid} ↔ {external_userid}")
        try:
            tags.require_tags(db, corpid, add + remove)
        except WeComError as exc:
            raise ControlError(400, "unknown_tag", exc.errmsg) from exc
        if mobiles_changed:
            db.execute(
                "UPDATE follows SET remark_mobiles = ? WHERE id = ?",
                (json.dumps([m for m in body["remark_mobiles"] or [] if m]), follow["id"]),
            )
        if updates:
            sets = ", ".join(f"{k} = ?" for k in updates)
            db.execute(f"UPDATE follows SET {sets} WHERE id = ?", [*updates.values(), follow["id"]])
        tags_changed = tags.apply_tags(db, follow["id"], add, remove)
        fired = bool(updates) or tags_changed
        if fired:
            state.emit(
                db,
                corpid,
                "change_external_contact",
                "edit_external_contact",
                [("UserID", follow["userid"]), ("ExternalUserID", external_userid)],
            )
    return {"event_sent": fired}


# -- snapshot -----------------------------------------------------------------------------------------


def snapshot_customers(state: SimState, corpid: str) -> tuple[list[dict], list[dict]]:
    """Customers with at least one API-visible relation, and the relations still in flight."""
    with state.store.read() as db:
        follows = db.execute(
            "SELECT * FROM follows WHERE corpid = ? AND status IN ('active', 'one_way', 'half', "
            "'pending') ORDER BY external_userid, userid",
            (corpid,),
        ).fetchall()
        visible = [f for f in follows if f["status"] in VISIBLE]
        tag_ids = _tags_by_follow(db, [f["id"] for f in visible])
        customers = _customers_by_id(db, corpid, [f["external_userid"] for f in visible])
    result: dict[str, dict] = {}
    for follow in visible:
        ext = follow["external_userid"]
        if ext not in result:
            row = customers[ext]
            result[ext] = {
                "external_userid": ext,
                "name": row["name"],
                "type": row["type"],
                "gender": row["gender"],
                "unionid": row["unionid"],
                "avatar": row["avatar"],
                "corp_name": row["corp_name"],
                "position": row["position"],
                "follow_users": [],
            }
        result[ext]["follow_users"].append(
            {
                "userid": follow["userid"],
                "remark": follow["remark"],
                "description": follow["description"],
                "createtime": follow["createtime"],
                "remark_corp_name": follow["remark_corp_name"],
                "remark_mobiles": json.loads(follow["remark_mobiles"]),
                "add_way": follow["add_way"],
                "state": follow["state"],
                "oper_userid": follow["oper_userid"],
                "tag_ids": sorted(tag_ids[follow["id"]]),
                "relation": follow["status"],
            }
        )
    in_flight = [
        {"userid": f["userid"], "external_userid": f["external_userid"], "status": f["status"]}
        for f in follows
        if f["status"] in ("half", "pending")
    ]
    return list(result.values()), in_flight
