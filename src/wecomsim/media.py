"""Media (素材): media/upload, media/upload_attachment, media/uploadimg, media/get; API-FACTS §8.

Temporary media (upload, upload_attachment) are valid for 3 days on the sim clock and shared by the
corp's apps; a used media_id that is unknown, expired, of another corp, of the wrong kind or of the
wrong type answers 40007. uploadimg gives a permanent URL, at most 100 images per corp per day
(Beijing day). Size limits (doc 上传临时素材): every file > 5 bytes; image 2 MB (JPG/PNG), voice 2 MB
(AMR), video 10 MB (MP4), file 20 MB; over the limit 45001 (41080 for attachments). Formats are
checked by their magic bytes, as WeCom inspects the content, not the file name.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from . import ids
from .errors import WeComError
from .state import SimState

MEDIA_LIFETIME = 3 * 86400
MIN_BYTES = 5
MB = 1024 * 1024
LIMITS = {"image": 2 * MB, "voice": 2 * MB, "video": 10 * MB, "file": 20 * MB}
ATTACHMENT_TYPES = ("image", "video", "file")
ATTACHMENT_SCENES = ("1", "2")  # 1 moments, 2 product album
UPLOADIMG_PER_DAY = 100
BEIJING = timezone(timedelta(hours=8))
CONTENT_TYPES = {"image": "image/jpeg", "voice": "audio/amr", "video": "video/mp4"}


def _format_ok(media_type: str, data: bytes) -> bool:
    if media_type == "image":
        return data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")
    if media_type == "voice":
        return data.startswith(b"#!AMR")
    if media_type == "video":
        return data[4:8] == b"ftyp"
    return True  # file: anything goes


def _content_type(media_type: str, data: bytes) -> str:
    if media_type == "image" and data.startswith(b"\x89PNG"):
        return "image/png"
    return CONTENT_TYPES.get(media_type, "application/octet-stream")


def _read_upload(files: MultiDict) -> tuple[str, bytes]:
    upload: FileStorage | None = files.get("media")
    if upload is None:
        raise WeComError(44001, "multipart field 'media' is missing")
    data = upload.read()
    if not data:
        raise WeComError(44001)
    return upload.filename or "media", data


def _check(media_type: str, data: bytes, too_big: int) -> None:
    if len(data) <= MIN_BYTES:
        raise WeComError(40006, f"files must be larger than {MIN_BYTES} bytes")
    if len(data) > LIMITS[media_type]:
        raise WeComError(too_big, f"{media_type} is at most {LIMITS[media_type] // MB} MB")
    if not _format_ok(media_type, data):
        if media_type == "image":
            raise WeComError(40123, "images must be JPG or PNG")
        raise WeComError(40004, f"{media_type} has the wrong format")


def _store(db, state: SimState, corpid: str, kind: str, media_type: str, name: str, data: bytes):
    media_id = ids.media_id("image" if kind == "image" else "temp")
    now = state.clock.now()
    db.execute(
        "INSERT INTO media (media_id, corpid, kind, type, filename, size, content_type, data, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            media_id,
            corpid,
            kind,
            media_type,
            name,
            len(data),
            _content_type(media_type, data),
            data,
            now,
        ),
    )
    # created_at is a string in the official sample ("1380000000", API-FACTS §8).
    return {"type": media_type, "media_id": media_id, "created_at": str(int(now))}


def upload(state: SimState, corpid: str, args: MultiDict, files: MultiDict) -> dict[str, Any]:
    media_type = args.get("type", "")
    if media_type not in LIMITS:
        raise WeComError(40005, "type is image, voice, video or file")
    name, data = _read_upload(files)
    _check(media_type, data, 45001)
    with state.tx() as db:
        return _store(db, state, corpid, "temp", media_type, name, data)


def upload_attachment(state: SimState, corpid: str, args: MultiDict, files: MultiDict) -> dict:
    media_type = args.get("media_type", "")
    if media_type not in ATTACHMENT_TYPES:
        raise WeComError(40005, "media_type is image, video or file")
    if args.get("attachment_type", "") not in ATTACHMENT_SCENES:
        raise WeComError(41072, "attachment_type is 1 (moments) or 2 (product album)")
    name, data = _read_upload(files)
    _check(media_type, data, 41080)
    with state.tx() as db:
        return _store(db, state, corpid, "attachment", media_type, name, data)


def _beijing_day_start(now: float) -> float:
    day = datetime.fromtimestamp(now, BEIJING).replace(hour=0, minute=0, second=0, microsecond=0)
    return day.astimezone(UTC).timestamp()


def upload_image(state: SimState, corpid: str, files: MultiDict) -> dict[str, Any]:
    """uploadimg: a permanent URL (served by the simulator under /sim/media/)."""
    name, data = _read_upload(files)
    _check("image", data, 45001)
    with state.tx() as db:
        today = db.execute(
            "SELECT COUNT(*) FROM media WHERE corpid = ? AND kind = 'image' AND created_at >= ?",
            (corpid, _beijing_day_start(state.clock.now())),
        ).fetchone()[0]
        if today >= UPLOADIMG_PER_DAY:
            raise WeComError(45009, f"at most {UPLOADIMG_PER_DAY} images per corp per day")
        stored = _store(db, state, corpid, "image", "image", name, data)
    return {"url": image_url(state, stored["media_id"])}


def image_url(state: SimState, key: str) -> str:
    return f"{state.base_url}/sim/media/{key}"


def _row(db: sqlite3.Connection, corpid: str, media_id: str) -> sqlite3.Row | None:
    return db.execute(
        "SELECT * FROM media WHERE media_id = ? AND corpid = ?", (media_id, corpid)
    ).fetchone()


def require_temp(
    db: sqlite3.Connection,
    state: SimState,
    corpid: str,
    media_id: Any,
    media_type: str | None = None,
    kind: str = "temp",
) -> sqlite3.Row:
    """A usable temporary media_id, or WeCom's error; the one check every send path uses.

    Contract (kept stable for send_welcome_msg, message/send, add_msg_template, add_moment_task):
    call inside the sending transaction with the corp's id and the media_id as the request gave
    it. `media_type` ("image", "video", "file", "voice") is what the attachment slot needs (None:
    any). `kind` is "temp" for media/upload ids (messages) and "attachment" for
    media/upload_attachment ids (moments). Missing/empty id: 41006. Unknown, another corp's, the
    wrong kind or type, or older than 3 days on the sim clock: 40007 (WeCom says "invalid
    media_id" for all of these). Returns the stored row (bytes in "data")."""
    if not media_id:
        raise WeComError(41006)
    row = _row(db, corpid, str(media_id))
    if row is None or row["kind"] != kind:
        raise WeComError(40007, f"unknown media_id {media_id}")
    if state.clock.now() > row["created_at"] + MEDIA_LIFETIME:
        raise WeComError(40007, "media_id expired (temporary media last 3 days)")
    if media_type is not None and row["type"] != media_type:
        raise WeComError(40007, f"media_id is a {row['type']}, not a {media_type}")
    return row


def download(state: SimState, corpid: str, media_id: str) -> sqlite3.Row:
    """media/get: the bytes of a temporary media."""
    with state.store.read() as db:
        return require_temp(db, state, corpid, media_id)


def image_bytes(state: SimState, key: str) -> sqlite3.Row | None:
    """The permanent image behind an uploadimg URL (control API, no token, like a CDN)."""
    return state.store.one("SELECT * FROM media WHERE media_id = ? AND kind = 'image'", (key,))
