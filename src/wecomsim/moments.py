"""Customer moments (客户朋友圈): add_moment_task, task results, publish status, comments and likes.

WeCom's rules (doc 95094 创建发表任务, 93333 获取客户朋友圈全部的发表记录, 97612 停止发表; docs/wecomsim.md):
- text.content ≤ 2000 characters ('invalid text size'); attachments: ≤ 9 images, or 1 video, or 1
  link, one kind only ('invalid attachments msgtype' → 41065, 'invalid attachments size' → 41064);
  text and attachments cannot both be empty. Media ids come from media/upload_attachment
  (attachment_type=1): image and video attachments, and the link's cover; anything else is 40007.
  link.url is required (41010), link.title ≤ 64 bytes.
- visible_range: only sender_list → those members' customers; only external_contact_list (tags) →
  the followers of the tagged customers; both → those members, their tagged customers; neither →
  every member and all their customers. Unknown or departed members and departments, and unknown
  tags, are reported in the job's invalid_* lists, never refused. A tag list makes the moment
  partly visible (visible_type 0), otherwise it is public (1).
- add_moment_task is asynchronous: the jobid is valid 24 hours; get_moment_task_result says 1
  (started), 2 (creating), 3 (done, with moment_id) as JOB_STARTED_FOR / JOB_SECONDS pass on the sim
  clock. The moment exists for the other endpoints only once its job is done. At most 10 moment
  tasks per corp per minute (45009).
- A member publishes (or not) through the control API; get_moment_task reports publish_status 0/1.
  get_moment_customer_list: the customers chosen at creation for that member; get_moment_send_result
  and get_moment_comments: only for a member who published (41062), of this moment (41061).
  cancel_moment_task stops the task for members who have not published; what was published stays.
- Comments and likes come through the control API from customers who can see the member's moment
  (in its send result and still a friend) or from members; get_moment_comments returns
  {external_userid | userid, create_time} only: WeCom gives no comment text.

Doubts (real WeCom not observable here): the errcodes of a too-long text (40058 here) and of both
contents empty (44004 here); whether department_list takes sub-departments (here: yes); whether a
tag list means any of the tags (here: any) and whose tags count (here: any follower's corp tags of
the customer); cancelling once everyone published (here: accepted, nothing left to stop).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from werkzeug.datastructures import MultiDict

from . import customers, directory, ids, media, store
from .errors import ControlError, WeComError
from .state import SimState

SCHEMA = """
CREATE TABLE IF NOT EXISTS moments (
    moment_id TEXT PRIMARY KEY, corpid TEXT NOT NULL, jobid TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL, ready_at REAL NOT NULL, text TEXT NOT NULL,
    attachments TEXT NOT NULL, visible_type INTEGER NOT NULL, tag_list TEXT NOT NULL,
    invalid_users TEXT NOT NULL, invalid_departments TEXT NOT NULL, invalid_tags TEXT NOT NULL,
    cancelled_at REAL
);
CREATE INDEX IF NOT EXISTS moments_corp_time ON moments (corpid, created_at);
CREATE TABLE IF NOT EXISTS moment_senders (
    moment_id TEXT NOT NULL, userid TEXT NOT NULL, seq INTEGER NOT NULL,
    published_at REAL, PRIMARY KEY (moment_id, userid)
);
CREATE TABLE IF NOT EXISTS moment_customers (
    moment_id TEXT NOT NULL, userid TEXT NOT NULL, external_userid TEXT NOT NULL,
    seq INTEGER NOT NULL, reached INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (moment_id, userid, external_userid)
);
CREATE TABLE IF NOT EXISTS moment_interactions (
    id INTEGER PRIMARY KEY, moment_id TEXT NOT NULL, sender TEXT NOT NULL, kind TEXT NOT NULL,
    external_userid TEXT NOT NULL DEFAULT '', userid TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '', create_time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS moment_interactions_sender ON moment_interactions (moment_id, sender, id);
"""
store.EXTRA_SCHEMAS.append(SCHEMA)

TEXT_MAX = 2000
IMAGES_MAX, VIDEOS_MAX, LINKS_MAX = 9, 1, 1
LINK_TITLE_MAX_BYTES = 64
LINK_URL_MAX_BYTES = 2048
USER_LIST_MAX = 100_000
JOB_STARTED_FOR = 1.0  # seconds on the sim clock at status 1, then 2 until JOB_SECONDS
JOB_SECONDS = 5.0
JOB_VALID = 24 * 3600
TASKS_PER_MINUTE = 10
LIST_SPAN_MAX = 30 * 86400
LIST_DEFAULT = LIST_MAX = 20
TASK_DEFAULT, TASK_MAX = 500, 1000
CUSTOMER_DEFAULT, CUSTOMER_MAX = 500, 1000
SEND_RESULT_DEFAULT, SEND_RESULT_MAX = 3000, 5000
MISSING_MOMENT, UNKNOWN_MOMENT, NOT_SENDER, NOT_PUBLISHED = 41059, 41060, 41061, 41062
KINDS = ("image", "video", "link")


# -- creating -------------------------------------------------------------------------------------


def _text(body: dict[str, Any]) -> str:
    text = body.get("text") or {}
    if not isinstance(text, dict):
        raise WeComError(40058, "text must be an object")
    content = text.get("content") or ""
    if not isinstance(content, str):
        raise WeComError(40058, "text.content must be a string")
    if len(content) > TEXT_MAX:
        raise WeComError(40058, f"invalid text size: at most {TEXT_MAX} characters")
    return content


def _attachment(db, state: SimState, corpid: str, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or item.get("msgtype") not in KINDS:
        raise WeComError(41065, "invalid attachments msgtype: image, video or link")
    kind = item["msgtype"]
    part = item.get(kind)
    if not isinstance(part, dict):
        raise WeComError(40058, f"invalid msg: {kind} is missing")
    if kind == "link":
        url, title = part.get("url"), part.get("title") or ""
        if not url or not isinstance(url, str):
            raise WeComError(41010)
        if len(url.encode()) > LINK_URL_MAX_BYTES:
            raise WeComError(40058, f"link.url is at most {LINK_URL_MAX_BYTES} bytes")
        if not isinstance(title, str) or len(title.encode()) > LINK_TITLE_MAX_BYTES:
            raise WeComError(40058, f"link.title is at most {LINK_TITLE_MAX_BYTES} bytes")
        media.require_temp(db, state, corpid, part.get("media_id"), "image", kind="attachment")
        return {"msgtype": kind, "link": {"title": title, "url": url, "media_id": part["media_id"]}}
    if not part.get("media_id"):
        raise WeComError(40058, f"invalid msg: {kind}.media_id is required")
    media.require_temp(db, state, corpid, part.get("media_id"), kind, kind="attachment")
    return {"msgtype": kind, kind: {"media_id": part["media_id"]}}


def _attachments(db, state: SimState, corpid: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    items = body.get("attachments") or []
    if not isinstance(items, list):
        raise WeComError(40058, "attachments must be a list")
    kinds = {item.get("msgtype") if isinstance(item, dict) else None for item in items}
    if len(kinds) > 1:
        raise WeComError(41065, "invalid attachments msgtype: one kind only")
    limit = {"image": IMAGES_MAX, "video": VIDEOS_MAX, "link": LINKS_MAX}
    kind = next(iter(kinds), None)
    if kind in limit and len(items) > limit[kind]:
        raise WeComError(41064, f"invalid attachments size: at most {limit[kind]} {kind}")
    return [_attachment(db, state, corpid, item) for item in items]


def _range(body: dict[str, Any]) -> tuple[list[str], list[int], list[str], bool, bool]:
    """(user_list, department_list, tag_list, senders given?, tags given?)"""
    visible = body.get("visible_range") or {}
    if not isinstance(visible, dict):
        raise WeComError(40058, "visible_range must be an object")
    senders = visible.get("sender_list") or {}
    contacts = visible.get("external_contact_list") or {}
    if not isinstance(senders, dict) or not isinstance(contacts, dict):
        raise WeComError(40058, "sender_list and external_contact_list must be objects")
    users, depts, tags = (
        senders.get("user_list") or [],
        senders.get("department_list") or [],
        contacts.get("tag_list") or [],
    )
    if not all(isinstance(v, list) for v in (users, depts, tags)):
        raise WeComError(40058, "user_list, department_list and tag_list must be lists")
    if len(users) > USER_LIST_MAX:
        raise WeComError(40058, f"user_list takes at most {USER_LIST_MAX} members")
    try:
        dept_ids = [int(d) for d in depts]
    except (TypeError, ValueError) as exc:
        raise WeComError(40058, "department_list must hold integers") from exc
    return (
        [str(u) for u in users],
        dept_ids,
        [str(t) for t in tags],
        bool(users or depts),
        bool(tags),
    )


def _members(db: sqlite3.Connection, corpid: str) -> dict[str, sqlite3.Row]:
    rows = db.execute(
        "SELECT * FROM users WHERE corpid = ? AND status = ? AND customer_contact = 1 "
        "ORDER BY created_at, userid",
        (corpid, directory.STATUS_ACTIVE),
    ).fetchall()
    return {r["userid"]: r for r in rows}


def _resolve_senders(
    db: sqlite3.Connection, corpid: str, users: list[str], depts: list[int]
) -> tuple[list[str], list[str], list[int]]:
    """(senders in order, invalid userids, invalid department ids)"""
    members = _members(db, corpid)
    by_lower = {u.lower(): u for u in members}
    chosen: dict[str, None] = {}
    invalid_users = []
    for userid in users:
        found = by_lower.get(userid.lower())
        if found is None:
            invalid_users.append(userid)
        else:
            chosen[found] = None
    departments = directory._departments(db, corpid)
    invalid_depts = []
    for dept_id in depts:
        if dept_id not in departments:
            invalid_depts.append(dept_id)
            continue
        wanted = set(directory.subtree_ids(departments, dept_id))
        for userid, row in members.items():
            if wanted.intersection(json.loads(row["departments"])):
                chosen[userid] = None
    return list(chosen), invalid_users, invalid_depts


def _follows(db: sqlite3.Connection, corpid: str) -> list[sqlite3.Row]:
    return db.execute(
        f"SELECT id, userid, external_userid FROM follows WHERE corpid = ? "
        f"AND status IN {customers._VISIBLE_SQL} ORDER BY id",
        (corpid,),
    ).fetchall()


def _tagged_customers(db: sqlite3.Connection, corpid: str, tag_ids: list[str]) -> set[str]:
    marks = ",".join("?" * len(tag_ids))
    rows = db.execute(
        f"SELECT DISTINCT f.external_userid FROM follow_tags t JOIN follows f ON f.id = t.follow_id "
        f"WHERE f.corpid = ? AND t.tag_id IN ({marks})",
        (corpid, *tag_ids),
    ).fetchall()
    return {r["external_userid"] for r in rows}


def _plan(db, corpid: str, body: dict[str, Any]) -> dict[str, Any]:
    """Who publishes, which customers each may show it to, and what was invalid."""
    users, depts, tag_list, senders_given, tags_given = _range(body)
    valid_tags = [
        t
        for t in dict.fromkeys(tag_list)
        if db.execute("SELECT 1 FROM tags WHERE corpid = ? AND tag_id = ?", (corpid, t)).fetchone()
    ]
    invalid_tags = [t for t in dict.fromkeys(tag_list) if t not in valid_tags]
    members = _members(db, corpid)
    invalid_users: list[str] = []
    invalid_depts: list[int] = []
    if senders_given:
        senders, invalid_users, invalid_depts = _resolve_senders(db, corpid, users, depts)
    else:
        senders = list(members)
    tagged = _tagged_customers(db, corpid, valid_tags) if valid_tags else set()
    audience: dict[str, list[str]] = {s: [] for s in senders}
    for follow in _follows(db, corpid):
        userid, ext = follow["userid"], follow["external_userid"]
        if tags_given and ext not in tagged:
            continue
        if userid in audience:
            audience[userid].append(ext)
    if tags_given and not senders_given:
        # Only tags: the task goes to the tagged customers' followers, nobody else.
        senders = [u for u in senders if audience[u]]
    return {
        "senders": senders,
        "audience": audience,
        "tag_list": valid_tags if tags_given else [],
        "visible_type": 0 if tags_given else 1,
        "invalid_users": invalid_users,
        "invalid_departments": invalid_depts,
        "invalid_tags": invalid_tags,
    }


def _check_rate(db: sqlite3.Connection, state: SimState, corpid: str) -> None:
    recent = db.execute(
        "SELECT COUNT(*) FROM moments WHERE corpid = ? AND created_at > ?",
        (corpid, state.clock.now() - 60),
    ).fetchone()[0]
    if recent >= TASKS_PER_MINUTE:
        raise WeComError(45009, f"at most {TASKS_PER_MINUTE} moment tasks per minute")


def add_moment_task(state: SimState, corpid: str, body: dict, args: MultiDict) -> dict[str, Any]:
    content = _text(body)
    with state.tx() as db:
        attachments = _attachments(db, state, corpid, body)
        if not content and not attachments:
            raise WeComError(44004, "text.content and attachments cannot both be empty")
        plan = _plan(db, corpid, body)
        _check_rate(db, state, corpid)
        now = state.clock.now()
        moment_id, jobid = "mom" + ids.config_id()[:30], "job" + ids.config_id()
        db.execute(
            "INSERT INTO moments (moment_id, corpid, jobid, created_at, ready_at, text, "
            "attachments, visible_type, tag_list, invalid_users, invalid_departments, "
            "invalid_tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                moment_id,
                corpid,
                jobid,
                now,
                now + JOB_SECONDS,
                content,
                json.dumps(attachments, ensure_ascii=False),
                plan["visible_type"],
                json.dumps(plan["tag_list"]),
                json.dumps(plan["invalid_users"]),
                json.dumps(plan["invalid_departments"]),
                json.dumps(plan["invalid_tags"]),
            ),
        )
        for seq, userid in enumerate(plan["senders"]):
            db.execute(
                "INSERT INTO moment_senders (moment_id, userid, seq) VALUES (?, ?, ?)",
                (moment_id, userid, seq),
            )
            db.executemany(
                "INSERT OR IGNORE INTO moment_customers (moment_id, userid, external_userid, seq) "
                "VALUES (?, ?, ?, ?)",
                [(moment_id, userid, ext, n) for n, ext in enumerate(plan["audience"][userid])],
            )
    return {"jobid": jobid}


# -- the job and the moment -----------------------------------------------------------------------


def get_moment_task_result(state: SimState, corpid: str, body: dict, args: MultiDict) -> dict:
    jobid = args.get("jobid", "")
    if not jobid:
        raise WeComError(40058, "jobid is required")
    row = state.store.one("SELECT * FROM moments WHERE jobid = ? AND corpid = ?", (jobid, corpid))
    now = state.clock.now()
    if row is None or now > row["created_at"] + JOB_VALID:
        raise WeComError(40088, f"jobid {jobid}")  # unknown, or older than its 24 hours
    if now < row["created_at"] + JOB_STARTED_FOR:
        return {"status": 1, "type": "add_moment_task", "result": {}}
    if now < row["ready_at"]:
        return {"status": 2, "type": "add_moment_task", "result": {}}
    return {
        "status": 3,
        "type": "add_moment_task",
        "result": {
            "errcode": 0,
            "errmsg": "ok",
            "moment_id": row["moment_id"],
            "invalid_sender_list": {
                "user_list": json.loads(row["invalid_users"]),
                "department_list": json.loads(row["invalid_departments"]),
            },
            "invalid_external_contact_list": {"tag_list": json.loads(row["invalid_tags"])},
        },
    }


def _moment(state: SimState, corpid: str, moment_id: Any) -> sqlite3.Row:
    if not moment_id:
        raise WeComError(MISSING_MOMENT)
    row = state.store.one(
        "SELECT * FROM moments WHERE moment_id = ? AND corpid = ? AND ready_at <= ?",
        (str(moment_id), corpid, state.clock.now()),
    )
    if row is None:
        raise WeComError(UNKNOWN_MOMENT, f"moment_id {moment_id}")
    return row


def _sender(state: SimState, moment_id: str, userid: Any, *, published: bool) -> sqlite3.Row:
    if not userid:
        raise WeComError(41009)
    row = state.store.one(
        "SELECT * FROM moment_senders WHERE moment_id = ? AND userid = ?", (moment_id, str(userid))
    )
    if row is None:
        raise WeComError(NOT_SENDER, f"{userid} is not a sender of this moment")
    if published and row["published_at"] is None:
        raise WeComError(NOT_PUBLISHED, f"{userid} has not published this moment")
    return row


def _limit(body: dict[str, Any], default: int, maximum: int) -> int:
    try:
        limit = int(body.get("limit") or default)
    except (TypeError, ValueError) as exc:
        raise WeComError(40058, "limit must be an integer") from exc
    # WeCom: over the maximum means the default, not an error.
    return default if limit <= 0 or limit > maximum else limit


def _page(rows: list[Any], body: dict[str, Any], default: int, maximum: int) -> tuple[list, str]:
    offset = customers._decode_offset(str(body.get("cursor") or ""))
    limit = _limit(body, default, maximum)
    page = rows[offset : offset + limit]
    more = offset + limit < len(rows)
    return page, customers._encode_offset(offset + limit) if more else ""


def cancel_moment_task(state: SimState, corpid: str, body: dict, args: MultiDict) -> dict:
    row = _moment(state, corpid, body.get("moment_id"))
    if row["cancelled_at"] is None:
        with state.tx() as db:
            db.execute(
                "UPDATE moments SET cancelled_at = ? WHERE moment_id = ?",
                (state.clock.now(), row["moment_id"]),
            )
    return {}


def _moment_json(row: sqlite3.Row) -> dict[str, Any]:
    data: dict[str, Any] = {
        "moment_id": row["moment_id"],
        # Moments made by add_moment_task carry no creator (doc 93333).
        "create_time": int(row["created_at"]),
        "create_type": 0,
        "visible_type": row["visible_type"],
        "text": {"content": row["text"]},
    }
    attachments = json.loads(row["attachments"])
    images = [a["image"] for a in attachments if a["msgtype"] == "image"]
    if images:
        data["image"] = [{"media_id": i["media_id"]} for i in images]
    for a in attachments:
        if a["msgtype"] == "video":
            data["video"] = {"media_id": a["video"]["media_id"], "thumb_media_id": ""}
        elif a["msgtype"] == "link":
            data["link"] = {"title": a["link"]["title"], "url": a["link"]["url"]}
    return data


def get_moment_list(state: SimState, corpid: str, body: dict, args: MultiDict) -> dict:
    try:
        start, end = int(body["start_time"]), int(body["end_time"])
        filter_type = int(body.get("filter_type", 2))
    except (KeyError, TypeError, ValueError) as exc:
        raise WeComError(40058, "start_time and end_time are required integers") from exc
    if end < start or end - start > LIST_SPAN_MAX:
        raise WeComError(40058, "start_time..end_time spans at most 30 days")
    if filter_type not in (0, 1, 2):
        raise WeComError(40058, "filter_type is 0, 1 or 2")
    creator = body.get("creator")
    rows: list[sqlite3.Row] = []
    if filter_type != 1 and not creator:  # Qike's moments are all corp-made, with no creator
        rows = state.store.all(
            "SELECT * FROM moments WHERE corpid = ? AND created_at > ? AND created_at < ? "
            "AND ready_at <= ? ORDER BY created_at, moment_id",
            (corpid, start, end, state.clock.now()),
        )
    page, next_cursor = _page(rows, body, LIST_DEFAULT, LIST_MAX)
    return {"next_cursor": next_cursor, "moment_list": [_moment_json(r) for r in page]}


def get_moment_task(state: SimState, corpid: str, body: dict, args: MultiDict) -> dict:
    moment = _moment(state, corpid, body.get("moment_id"))
    rows = state.store.all(
        "SELECT userid, published_at FROM moment_senders WHERE moment_id = ? ORDER BY seq",
        (moment["moment_id"],),
    )
    page, next_cursor = _page(rows, body, TASK_DEFAULT, TASK_MAX)
    return {
        "next_cursor": next_cursor,
        "task_list": [
            {"userid": r["userid"], "publish_status": 0 if r["published_at"] is None else 1}
            for r in page
        ],
    }


def get_moment_customer_list(state: SimState, corpid: str, body: dict, args: MultiDict) -> dict:
    moment = _moment(state, corpid, body.get("moment_id"))
    sender = _sender(state, moment["moment_id"], body.get("userid"), published=False)
    rows = state.store.all(
        "SELECT userid, external_userid FROM moment_customers WHERE moment_id = ? AND userid = ? "
        "ORDER BY seq",
        (moment["moment_id"], sender["userid"]),
    )
    page, next_cursor = _page(rows, body, CUSTOMER_DEFAULT, CUSTOMER_MAX)
    return {"next_cursor": next_cursor, "customer_list": [dict(r) for r in page]}


def get_moment_send_result(state: SimState, corpid: str, body: dict, args: MultiDict) -> dict:
    moment = _moment(state, corpid, body.get("moment_id"))
    sender = _sender(state, moment["moment_id"], body.get("userid"), published=True)
    rows = state.store.all(
        "SELECT external_userid FROM moment_customers WHERE moment_id = ? AND userid = ? "
        "AND reached = 1 ORDER BY seq",
        (moment["moment_id"], sender["userid"]),
    )
    page, next_cursor = _page(rows, body, SEND_RESULT_DEFAULT, SEND_RESULT_MAX)
    return {"next_cursor": next_cursor, "customer_list": [dict(r) for r in page]}


def _who(row: sqlite3.Row) -> dict[str, Any]:
    who = {"external_userid": row["external_userid"]} if row["external_userid"] else {}
    return (who or {"userid": row["userid"]}) | {"create_time": row["create_time"]}


def get_moment_comments(state: SimState, corpid: str, body: dict, args: MultiDict) -> dict:
    moment = _moment(state, corpid, body.get("moment_id"))
    sender = _sender(state, moment["moment_id"], body.get("userid"), published=True)
    rows = state.store.all(
        "SELECT * FROM moment_interactions WHERE moment_id = ? AND sender = ? ORDER BY id",
        (moment["moment_id"], sender["userid"]),
    )
    return {
        "comment_list": [_who(r) for r in rows if r["kind"] == "comment"],
        "like_list": [_who(r) for r in rows if r["kind"] == "like"],
    }


EC = "externalcontact/"
API_ROUTES: dict[str, tuple[str, Callable[..., dict[str, Any]]]] = {
    EC + "add_moment_task": ("POST", add_moment_task),
    EC + "get_moment_task_result": ("GET", get_moment_task_result),
    EC + "cancel_moment_task": ("POST", cancel_moment_task),
    EC + "get_moment_list": ("POST", get_moment_list),
    EC + "get_moment_task": ("POST", get_moment_task),
    EC + "get_moment_customer_list": ("POST", get_moment_customer_list),
    EC + "get_moment_send_result": ("POST", get_moment_send_result),
    EC + "get_moment_comments": ("POST", get_moment_comments),
}


# -- the people: members publish, customers comment and like (control API) ------------------------


def _control_moment(state: SimState, corpid: str, moment_id: str) -> sqlite3.Row:
    row = state.store.one(
        "SELECT * FROM moments WHERE moment_id = ? AND corpid = ?", (moment_id, corpid)
    )
    if row is None:
        raise ControlError(404, "unknown_moment", moment_id)
    if row["ready_at"] > state.clock.now():
        raise ControlError(409, "moment_not_ready", "the moment task is still being created")
    return row


def _control_sender(state: SimState, moment_id: str, userid: str) -> sqlite3.Row:
    row = state.store.one(
        "SELECT * FROM moment_senders WHERE moment_id = ? AND userid = ?", (moment_id, userid)
    )
    if row is None:
        raise ControlError(400, "not_a_sender", f"{userid} has no task for this moment")
    return row


def publish(state: SimState, corpid: str, moment_id: str, userid: str) -> dict[str, Any]:
    """The member taps 发表 in their WeCom client: the moment reaches the customers chosen for them
    who are still their friends. Publishing twice changes nothing."""
    moment = _control_moment(state, corpid, moment_id)
    sender = _control_sender(state, moment_id, userid)
    if sender["published_at"] is None:
        if moment["cancelled_at"] is not None:
            raise ControlError(409, "moment_cancelled", "the corp stopped this moment task")
        with state.tx() as db:
            db.execute(
                "UPDATE moment_senders SET published_at = ? WHERE moment_id = ? AND userid = ?",
                (state.clock.now(), moment_id, userid),
            )
            db.execute(
                f"UPDATE moment_customers SET reached = 1 WHERE moment_id = ? AND userid = ? "
                f"AND external_userid IN (SELECT external_userid FROM follows WHERE corpid = ? "
                f"AND userid = ? AND status IN {customers._VISIBLE_SQL})",
                (moment_id, userid, corpid, userid),
            )
    reached = state.store.one(
        "SELECT COUNT(*) AS n FROM moment_customers WHERE moment_id = ? AND userid = ? "
        "AND reached = 1",
        (moment_id, userid),
    )
    return {"moment_id": moment_id, "userid": userid, "publish_status": 1, "reached": reached["n"]}


def interact(state: SimState, corpid: str, moment_id: str, body: dict[str, Any]) -> dict:
    """A customer (or a member) comments on or likes a member's published moment. The customer
    must be able to see it: reached when it was published and still the member's friend. A like
    is once per person; comments add up."""
    kind = body.get("kind")
    if kind not in ("comment", "like"):
        raise ControlError(400, "invalid_field", "kind is comment or like")
    sender_id = str(body.get("userid") or "")
    if not sender_id:
        raise ControlError(400, "missing_field", "userid (the member whose moment it is)")
    ext, member = str(body.get("external_userid") or ""), str(body.get("member") or "")
    if bool(ext) == bool(member):
        raise ControlError(400, "invalid_field", "give external_userid or member, not both")
    text = str(body.get("text") or "")
    _control_moment(state, corpid, moment_id)
    sender = _control_sender(state, moment_id, sender_id)
    if sender["published_at"] is None:
        raise ControlError(409, "not_published", f"{sender_id} has not published this moment")
    with state.tx() as db:
        if ext:
            _require_viewer(db, corpid, moment_id, sender_id, ext)
        elif not db.execute(
            "SELECT 1 FROM users WHERE corpid = ? AND userid = ? AND status = ?",
            (corpid, member, directory.STATUS_ACTIVE),
        ).fetchone():
            raise ControlError(404, "unknown_member", member)
        if (
            kind == "like"
            and db.execute(
                "SELECT 1 FROM moment_interactions WHERE moment_id = ? AND sender = ? AND kind = 'like' "
                "AND external_userid = ? AND userid = ?",
                (moment_id, sender_id, ext, member),
            ).fetchone()
        ):
            return {"moment_id": moment_id, "kind": kind, "created": False}
        db.execute(
            "INSERT INTO moment_interactions (moment_id, sender, kind, external_userid, userid, "
            "text, create_time) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (moment_id, sender_id, kind, ext, member, text, state.now()),
        )
    return {"moment_id": moment_id, "kind": kind, "created": True}


def _require_viewer(db, corpid: str, moment_id: str, sender: str, ext: str) -> None:
    if customers._customer(db, corpid, ext) is None:
        raise ControlError(404, "unknown_customer", ext)
    reached = db.execute(
        "SELECT 1 FROM moment_customers WHERE moment_id = ? AND userid = ? AND external_userid = ? "
        "AND reached = 1",
        (moment_id, sender, ext),
    ).fetchone()
    follow = customers._follow(db, corpid, sender, ext)
    if not reached or follow is None or follow["status"] not in customers.VISIBLE:
        raise ControlError(
            409, "cannot_see_moment", f"{ext} cannot see {sender}'s moment (not in its range)"
        )


def listing(state: SimState, corpid: str) -> list[dict[str, Any]]:
    """Every moment of the corp with its senders and interactions (comment text included), for
    tests and the demo."""
    moments = state.store.all(
        "SELECT * FROM moments WHERE corpid = ? ORDER BY created_at, moment_id", (corpid,)
    )
    result = []
    for m in moments:
        senders = state.store.all(
            "SELECT s.userid, s.published_at, "
            "(SELECT COUNT(*) FROM moment_customers c WHERE c.moment_id = s.moment_id "
            " AND c.userid = s.userid) AS chosen, "
            "(SELECT COUNT(*) FROM moment_customers c WHERE c.moment_id = s.moment_id "
            " AND c.userid = s.userid AND c.reached = 1) AS reached "
            "FROM moment_senders s WHERE s.moment_id = ? ORDER BY s.seq",
            (m["moment_id"],),
        )
        interactions = state.store.all(
            "SELECT * FROM moment_interactions WHERE moment_id = ? ORDER BY id", (m["moment_id"],)
        )
        result.append(
            {
                **_moment_json(m),
                "jobid": m["jobid"],
                "ready": m["ready_at"] <= state.clock.now(),
                "cancelled": m["cancelled_at"] is not None,
                "attachments": json.loads(m["attachments"]),
                "tag_list": json.loads(m["tag_list"]),
                "senders": [
                    {
                        "userid": s["userid"],
                        "publish_status": 0 if s["published_at"] is None else 1,
                        "chosen": s["chosen"],
                        "reached": s["reached"],
                    }
                    for s in senders
                ],
                "interactions": [
                    {
                        "sender": i["sender"],
                        "kind": i["kind"],
                        "external_userid": i["external_userid"],
                        "member": i["userid"],
                        "text": i["text"],
                        "create_time": i["create_time"],
                    }
                    for i in interactions
                ],
            }
        )
    return result
