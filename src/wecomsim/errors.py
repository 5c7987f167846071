"""Errors: WeCom-style (errcode/errmsg JSON) for the API, {error, detail} for the control API."""

from __future__ import annotations

ERRMSG: dict[int, str] = {
    -1: "system busy",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid userid",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40004: "invalid media type",
    40005: "invalid type",
    40006: "invalid file size",
    40007: "invalid media_id",
    40008: "invalid message type",
    40032: "invalid userid list size",
    40056: "invalid agentid",
    40058: "invalid Request Parameter",
    40066: "invalid department list",
    40068: "invalid tagid",
    40071: "UserTag Name Already Exist",
    40096: "invalid external userid",
    40123: "invalid image format",
    40126: "corp tag count exceeds limit",
    41001: "access_token missing",
    41010: "missing url",
    41011: "missing agentid",
    41016: "missing title",
    41033: "missing description",
    41002: "corpid missing",
    41004: "corpsecret missing",
    41006: "missing media_id",
    41009: "missing userid",
    41035: "missing external userid",
    41037: "missing contact way type",
    41038: "missing contact way scene",
    41039: "invalid contact way type",
    41040: "invalid contact way scene",
    41041: "contact way user count exceeds limit",
    41043: "missing contact way config_id",
    41044: "invalid contact way config_id",
    41049: "missing welcome msg code",
    41050: "invalid welcome msg code",
    41051: "externaluser has started chatting",
    41054: "user is not active",
    41064: "attachment count exceeds limit",
    41065: "invalid attachment type",
    41072: "invalid attachment scene",
    41080: "attachment size exceeds limit",
    42001: "access_token expired",
    43002: "require POST method",
    44001: "empty media data",
    44004: "empty content",
    45001: "media size out of limit",
    45002: "content size out of limit",
    45008: "article size out of limit",
    45009: "api freq out of limit",
    47001: "Warning: wrong json format. data format error",
    60002: "department level exceeds limit",
    60003: "department not found",
    60004: "parent department not found",
    60008: "department name already exists",
    60009: "department name contains invalid characters",
    60111: "userid not found",
    60123: "invalid party id",
    81013: "user & party & tag all invalid",
    82001: "all touser & toparty & totag invalid",
    82002: "invalid party list size",
    82003: "invalid tag list size",
    84061: "not external contact",
    90200: "missing miniprogram appid",
    90201: "miniprogram notice content_item count exceeds limit",
    90202: "invalid miniprogram notice key length",
    90203: "invalid miniprogram notice value length",
    90207: "invalid miniprogram appid",
    301002: "no privilege to operate on this application",
    41046: "missing msgid",
    41047: "invalid msgid",
    41048: "no available external contact to send",
    41063: "group msg is still sending, please try again later",
    41093: "group msg task has been cancelled",
    41094: "remind times exceed limit",
    86214: "invalid chat type",
}


class WeComError(Exception):
    """Raised inside API handlers; rendered as {"errcode": code, "errmsg": ...}."""

    def __init__(self, errcode: int, detail: str = "") -> None:
        base = ERRMSG.get(errcode, "error")
        self.errcode = errcode
        self.errmsg = f"{base}, {detail}" if detail else base
        super().__init__(f"{errcode}: {self.errmsg}")


class ControlError(Exception):
    """Raised inside control handlers; rendered as {"error": ..., "detail": ...} with a 4xx status."""

    def __init__(self, status: int, error: str, detail: str = "") -> None:
        self.status = status
        self.error = error
        self.detail = detail
        super().__init__(f"{status} {error}: {detail}")
