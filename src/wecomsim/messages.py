"""App messages (应用消息): `message/send`, API-FACTS §1 and §9.

Recipients are the union of `touser` ("a|b" or "@all"), the members of `toparty` (sub-departments
included) and `totag`. Unknown ids do not fail the call: they come back "|"-separated in
invaliduser/invalidparty/invalidtag. Only when nothing valid is left does the call fail (81013).

Per-member frequency (doc 90312 「发送应用消息频率」): at most 30 messages a minute and 1000 an hour
from one app to one member; "超过部分会被丢弃不下发" — the excess is silently dropped, so the call
still answers 0 for a mixed send. When every recipient is over the limit the call answers 45009
(what developers report for a send that reaches nobody). Sending does not count towards the base
API rate limit ("发消息频率不计入基础频率").
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from . import directory, ids, media
from .errors import WeComError
from .state import SimState

TOUSER_MAX, TOPARTY_MAX, TOTAG_MAX = 1000, 100, 100
PER_MINUTE, PER_HOUR = 30, 1000
TEXT_MAX_BYTES = 2048  # text is truncated past this; markdown is refused (45002)
CARD_TITLE_MAX, CARD_DESCRIPTION_MAX, CARD_BUTTON_MAX = 128, 512, 4
NEWS_ARTICLES_MAX = 8
NOTICE_ITEMS_MAX, NOTICE_KEY_MAX, NOTICE_VALUE_MAX = 10, 10, 30
MEDIA_TYPES = ("image", "voice", "video", "file")
MSGTYPES = ("text", "textcard", "markdown", "news", "miniprogram_notice", *MEDIA_TYPES)
# Real WeCom types whose bodies wecomsim does not model yet; they get 40008 with a clear hint.
UNSIMULATED = ("mpnews", "template_card", "interactive_taskcard")


# -- content ------------------------------------------------------------------------------------


def _truncate_bytes(text: str, limit: int) -> str:
    """Cut at a byte limit without splitting a UTF-8 character, as WeCom's truncation does."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def _section(body: dict[str, Any], msgtype: str) -> dict[str, Any]:
    section = body.get(msgtype)
    if not isinstance(section, dict):
        raise WeComError(40058, f"{msgtype} must be an object")
    return section


def _text(section: dict[str, Any]) -> dict[str, Any]:
    content = section.get("content")
    if not isinstance(content, str) or not content:
        raise WeComError(44004)
    return {"content": _truncate_bytes(content, TEXT_MAX_BYTES)}


def _markdown(section: dict[str, Any]) -> dict[str, Any]:
    content = section.get("content")
    if not isinstance(content, str) or not content:
        raise WeComError(44004)
    if len(content.encode("utf-8")) > TEXT_MAX_BYTES:
        raise WeComError(45002, f"markdown content is at most {TEXT_MAX_BYTES} bytes")
    return {"content": content}


def _textcard(section: dict[str, Any]) -> dict[str, Any]:
    title, description = section.get("title"), section.get("description")
    url = section.get("url")
    if not title:
        raise WeComError(41016)
    if not description:
        raise WeComError(41033)
    if not url:
        raise WeComError(41010)
    card = {
        "title": _truncate_bytes(str(title), CARD_TITLE_MAX),
        "description": _truncate_bytes(str(description), CARD_DESCRIPTION_MAX),
        "url": str(url),
    }
    if section.get("btntxt"):
        card["btntxt"] = str(section["btntxt"])[:CARD_BUTTON_MAX]
    return card


def _news(section: dict[str, Any]) -> dict[str, Any]:
    articles = section.get("articles")
    if not isinstance(articles, list) or not articles:
        raise WeComError(40058, "news.articles must be a non-empty list")
    if len(articles) > NEWS_ARTICLES_MAX:
        raise WeComError(45008, f"at most {NEWS_ARTICLES_MAX} articles")
    cleaned = []
    for article in articles:
        if not isinstance(article, dict) or not article.get("title"):
            raise WeComError(41016)
        item = {k: str(v) for k, v in article.items() if v is not None}
        item["title"] = _truncate_bytes(item["title"], CARD_TITLE_MAX)
        if "description" in item:
            item["description"] = _truncate_bytes(item["description"], CARD_DESCRIPTION_MAX)
        cleaned.append(item)
    return {"articles": cleaned}


def _miniprogram_notice(section: dict[str, Any]) -> dict[str, Any]:
    appid = section.get("appid")
    if not appid:
        raise WeComError(90200)
    if not isinstance(appid, str) or not appid.startswith("wx"):
        raise WeComError(90207, "mini-program appids start with wx")
    if not section.get("title"):
        raise WeComError(41016)
    items = section.get("content_item") or []
    if not isinstance(items, list):
        raise WeComError(40058, "content_item must be a list")
    if len(items) > NOTICE_ITEMS_MAX:
        raise WeComError(90201, f"at most {NOTICE_ITEMS_MAX} content items")
    for item in items:
        key, value = str((item or {}).get("key") or ""), str((item or {}).get("value") or "")
        if not 1 <= len(key) <= NOTICE_KEY_MAX:
            raise WeComError(90202)
        if not 1 <= len(value) <= NOTICE_VALUE_MAX:
            raise WeComError(90203)
    return {k: section[k] for k in section if section[k] is not None}


def _media(section: dict[str, Any]) -> dict[str, Any]:
    """image/voice/video/file carry a media_id (checked against the media store in send)."""
    if not section.get("media_id"):
        raise WeComError(41006)
    keep = ("media_id", "title", "description")
    return {k: str(section[k]) for k in keep if section.get(k) is not None}


VALIDATORS = {
    "text": _text,
    "textcard": _textcard,
    "markdown": _markdown,
    "news": _news,
    "miniprogram_notice": _miniprogram_notice,
    **dict.fromkeys(MEDIA_TYPES, _media),
}


def _content(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    msgtype = body.get("msgtype")
    if msgtype in UNSIMULATED:
        raise WeComError(40008, f"msgtype {msgtype} is not simulated by wecomsim")
    if msgtype not in MSGTYPES:
        raise WeComError(40008)
    return msgtype, VALIDATORS[msgtype](_section(body, msgtype))


# -- recipients ---------------------------------------------------------------------------------------


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        raise WeComError(40058, "touser, toparty and totag are '|'-separated strings")
    return [part for part in (p.strip() for p in value.split("|")) if part]


def _active_members(db: sqlite3.Connection, corpid: str) -> list[sqlite3.Row]:
    return db.execute(
        "SELECT userid, departments FROM users WHERE corpid = ? AND status = ? "
        "ORDER BY created_at, userid",
        (corpid, directory.STATUS_ACTIVE),
    ).fetchall()


def _resolve(db: sqlite3.Connection, corpid: str, body: dict[str, Any]) -> dict[str, Any]:
    """The members the message reaches, and the ids WeCom reports back as invalid."""
    users, parties = _split(body.get("touser")), _split(body.get("toparty"))
    tags = _split(body.get("totag"))
    if not users and not parties and not tags:
        raise WeComError(82001)
    if len(users) > TOUSER_MAX:
        raise WeComError(40032, f"touser holds at most {TOUSER_MAX} userids")
    if len(parties) > TOPARTY_MAX:
        raise WeComError(82002, f"toparty holds at most {TOPARTY_MAX} departments")
    if len(tags) > TOTAG_MAX:
        raise WeComError(82003, f"totag holds at most {TOTAG_MAX} tags")
    members = _active_members(db, corpid)
    by_lower = {m["userid"].lower(): m["userid"] for m in members}
    chosen: dict[str, None] = {}  # ordered set of canonical userids
    invalid_users: list[str] = []
    if "@all" in users:
        chosen.update(dict.fromkeys(m["userid"] for m in members))
    else:
        for userid in users:
            if userid.lower() in by_lower:
                chosen[by_lower[userid.lower()]] = None
            else:
                invalid_users.append(userid)  # unknown, departed, disabled or not activated
    departments = {
        r["id"]: r
        for r in db.execute("SELECT id, parentid FROM departments WHERE corpid = ?", (corpid,))
    }
    invalid_parties: list[str] = []
    if "@all" not in users:  # toparty and totag are ignored when touser is @all
        for party in parties:
            if not party.isdigit() or int(party) not in departments:
                invalid_parties.append(party)
                continue
            wanted = set(directory.subtree_ids(departments, int(party)))
            for member in members:
                if wanted.intersection(json.loads(member["departments"])):
                    chosen[member["userid"]] = None
    # The simulator has no contact (通讯录) tags, so every tag id is invalid.
    invalid_tags = tags if "@all" not in users else []
    if not chosen:
        raise WeComError(81013)
    return {
        "userids": list(chosen),
        "invaliduser": "|".join(invalid_users),
        "invalidparty": "|".join(invalid_parties),
        "invalidtag": "|".join(invalid_tags),
    }


# -- frequency ----------------------------------------------------------------------------------------


def _under_limit(db: sqlite3.Connection, corpid: str, userid: str, now: float) -> bool:
    row = db.execute(
        "SELECT SUM(sent_at > ?) AS minute, COUNT(*) AS hour FROM app_messages "
        "WHERE corpid = ? AND userid = ? AND delivered = 1 AND sent_at > ?",
        (now - 60, corpid, userid, now - 3600),
    ).fetchone()
    return (row["minute"] or 0) < PER_MINUTE and row["hour"] < PER_HOUR


# -- the API ----------------------------------------------------------------------------------------------


def _check_agent(body: dict[str, Any], agentid: int | None) -> int:
    raw = body.get("agentid")
    if raw in (None, ""):
        raise WeComError(41011)
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise WeComError(40056, "agentid must be an integer") from exc
    if value != agentid:
        raise WeComError(40056, f"agentid {value} is not this corp's app")
    return value


def send(state: SimState, corpid: str, agentid: int | None, body: dict[str, Any]) -> dict:
    """message/send. Every recipient gets a row; over-limit ones are kept with delivered = 0."""
    app = _check_agent(body, agentid)
    msgtype, content = _content(body)
    msgid = ids.message_id()
    now = state.clock.now()
    with state.tx() as db:
        if msgtype in MEDIA_TYPES:
            media.require_temp(db, state, corpid, content["media_id"], msgtype)
        resolved = _resolve(db, corpid, body)
        delivered = 0
        for userid in resolved["userids"]:
            ok = _under_limit(db, corpid, userid, now)
            delivered += ok
            db.execute(
                "INSERT INTO app_messages (corpid, msgid, agentid, userid, msgtype, content, "
                "safe, sent_at, delivered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    corpid,
                    msgid,
                    app,
                    userid,
                    msgtype,
                    json.dumps(content, ensure_ascii=False),
                    int(body.get("safe") or 0),
                    now,
                    int(ok),
                ),
            )
        if not delivered:
            # Nobody could receive it: answer 45009, and keep nothing (the call failed).
            db.execute("DELETE FROM app_messages WHERE corpid = ? AND msgid = ?", (corpid, msgid))
    if not delivered:
        raise WeComError(45009, f"each member receives at most {PER_MINUTE}/min, {PER_HOUR}/hour")
    return {
        "invaliduser": resolved["invaliduser"],
        "invalidparty": resolved["invalidparty"],
        "invalidtag": resolved["invalidtag"],
        "unlicenseduser": "",  # the simulator has no interop licences
        "msgid": msgid,
    }


def received(
    state: SimState, corpid: str, userid: str | None, include_dropped: bool = False
) -> list[dict[str, Any]]:
    """What members saw in the WeCom client, oldest first (control API)."""
    sql = "SELECT * FROM app_messages WHERE corpid = ?"
    params: list[Any] = [corpid]
    if userid:
        sql += " AND userid = ? COLLATE NOCASE"
        params.append(userid)
    if not include_dropped:
        sql += " AND delivered = 1"
    return [
        {
            "msgid": r["msgid"],
            "agentid": r["agentid"],
            "userid": r["userid"],
            "msgtype": r["msgtype"],
            r["msgtype"]: json.loads(r["content"]),
            "safe": r["safe"],
            "sent_at": r["sent_at"],
            "delivered": bool(r["delivered"]),
        }
        for r in state.store.all(sql + " ORDER BY id", params)
    ]
