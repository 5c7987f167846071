"""Welcome messages (欢迎语), API-FACTS §3.4, §6, §8.

A welcome_code is valid for 20 s on the sim clock and can be used once. Error codes (GWX errcodes,
API-FACTS §8): 41049 code missing; 41050 invalid code, which covers unknown and expired (its hint
reads "须在添加好友后20秒内使用"); 41051 the chat has started, which is what a second use of a code
gets ("first caller wins; later callers get 41051", API-FACTS §3.4).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from . import ids, media
from .errors import WeComError
from .state import SimState

CODE_LIFETIME = 20
TEXT_MAX_BYTES = 4000
ATTACHMENTS_MAX = 9
ATTACHMENT_TYPES = ("image", "link", "miniprogram", "video", "file")


def issue(db: sqlite3.Connection, state: SimState, corpid: str, userid: str, ext: str) -> str:
    code = ids.welcome_code()
    db.execute(
        "INSERT INTO welcome_codes (code, corpid, userid, external_userid, issued_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (code, corpid, userid, ext, state.clock.now()),
    )
    return code


def was_sent(db: sqlite3.Connection, code: str) -> bool:
    if not code:
        return False
    row = db.execute("SELECT used_at FROM welcome_codes WHERE code = ?", (code,)).fetchone()
    return row is not None and row["used_at"] is not None


def _check_attachment(item: Any) -> None:
    if not isinstance(item, dict) or item.get("msgtype") not in ATTACHMENT_TYPES:
        raise WeComError(41065)
    body = item.get(item["msgtype"])
    if not isinstance(body, dict):
        raise WeComError(41065, f"{item['msgtype']} body missing")
    limits = {"link": (("title", 128), ("desc", 512)), "miniprogram": (("title", 64),)}
    for key, limit in limits.get(item["msgtype"], ()):
        if len(str(body.get(key) or "").encode("utf-8")) > limit:
            raise WeComError(40058, f"{item['msgtype']}.{key} longer than {limit} bytes")
    _check_required(item["msgtype"], body)


# Required fields per attachment type (send_welcome_msg / add_msg_template docs): a missing
# media id answers 41006, a missing link url 41010, any other missing field 40058.
REQUIRED = {
    "image": (),  # media_id or pic_url: checked below
    "link": ("title", "url"),
    "miniprogram": ("title", "pic_media_id", "appid", "page"),
    "video": ("media_id",),
    "file": ("media_id",),
}
MISSING_CODES = {"media_id": 41006, "pic_media_id": 41006, "url": 41010}


def _check_required(msgtype: str, body: dict[str, Any]) -> None:
    if msgtype == "image" and not (body.get("media_id") or body.get("pic_url")):
        raise WeComError(41006, "image needs a media_id or a pic_url")
    for key in REQUIRED[msgtype]:
        if not str(body.get(key) or "").strip():
            raise WeComError(MISSING_CODES.get(key, 40058), f"{msgtype}.{key} is required")


def validate_content(body: dict[str, Any]) -> tuple[str, list[Any]]:
    text = body.get("text") or {}
    content = text.get("content", "") if isinstance(text, dict) else ""
    attachments = body.get("attachments") or []
    if not isinstance(content, str) or not isinstance(attachments, list):
        raise WeComError(40058, "text.content must be a string and attachments a list")
    if len(content.encode("utf-8")) > TEXT_MAX_BYTES:
        raise WeComError(40058, f"text.content longer than {TEXT_MAX_BYTES} bytes")
    if len(attachments) > ATTACHMENTS_MAX:
        raise WeComError(41064, f"at most {ATTACHMENTS_MAX} attachments")
    for item in attachments:
        _check_attachment(item)
    if not content and not attachments:
        raise WeComError(44004, "text and attachments cannot both be empty")
    return content, attachments


# Which media_id fields an attachment carries, and the media type each must be.
MEDIA_FIELDS = {
    "image": (("media_id", "image"),),
    "video": (("media_id", "video"),),
    "file": (("media_id", "file"),),
    "miniprogram": (("pic_media_id", "image"),),
}


def check_media(db: sqlite3.Connection, state: SimState, corpid: str, attachments: list) -> None:
    """Attachment media_ids must be live temporary media of the right type (else 40007)."""
    for item in attachments:
        section = item[item["msgtype"]]
        for key, media_type in MEDIA_FIELDS.get(item["msgtype"], ()):
            if section.get(key):
                media.require_temp(db, state, corpid, section[key], media_type)


def send(state: SimState, corpid: str, body: dict[str, Any]) -> None:
    """send_welcome_msg; every call, good or bad, lands in the welcome_messages log."""
    code = str(body.get("welcome_code") or "")
    now = state.clock.now()
    error: WeComError | None = None
    with state.tx() as db:
        row = db.execute(
            "SELECT * FROM welcome_codes WHERE code = ? AND corpid = ?", (code, corpid)
        ).fetchone()
        try:
            if not code:
                raise WeComError(41049)
            if row is None:
                raise WeComError(41050, "unknown welcome_code")
            if row["used_at"] is not None:
                raise WeComError(41051)
            if now - row["issued_at"] > CODE_LIFETIME:
                raise WeComError(41050, f"welcome_code is valid for {CODE_LIFETIME} s")
            _content, attachments = validate_content(body)
            check_media(db, state, corpid, attachments)
        except WeComError as exc:
            error = exc  # logged below, in the same (committed) transaction
        else:
            db.execute("UPDATE welcome_codes SET used_at = ? WHERE code = ?", (now, code))
        _log(db, corpid, code, row, body, now, error.errcode if error else 0)
    if error is not None:
        raise error
    return None


def _log(db, corpid: str, code: str, row, body: dict[str, Any], now: float, errcode: int) -> None:
    text = body.get("text") if isinstance(body.get("text"), dict) else {}
    attachments = body.get("attachments") if isinstance(body.get("attachments"), list) else []
    db.execute(
        "INSERT INTO welcome_messages (corpid, welcome_code, userid, external_userid, text, "
        "attachments, sent_at, errcode) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            corpid,
            code,
            row["userid"] if row else "",
            row["external_userid"] if row else "",
            str(text.get("content") or ""),
            json.dumps(attachments, ensure_ascii=False),
            now,
            errcode,
        ),
    )


def messages(state: SimState, corpid: str) -> list[dict[str, Any]]:
    rows = state.store.all("SELECT * FROM welcome_messages WHERE corpid = ? ORDER BY id", (corpid,))
    return [
        {
            "welcome_code": r["welcome_code"],
            "userid": r["userid"],
            "external_userid": r["external_userid"],
            "text": r["text"],
            "attachments": json.loads(r["attachments"]),
            "sent_at": r["sent_at"],
            "errcode": r["errcode"],
        }
        for r in rows
    ]
