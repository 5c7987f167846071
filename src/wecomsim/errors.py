"""Errors: WeCom-style (errcode/errmsg JSON) for the API, {error, detail} for the control API."""

from __future__ import annotations

ERRMSG: dict[int, str] = {
    -1: "system busy",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid userid",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40058: "invalid Request Parameter",
    40066: "invalid department list",
    40068: "invalid tagid",
    40071: "UserTag Name Already Exist",
    40096: "invalid external userid",
    40126: "corp tag count exceeds limit",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
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
    42001: "access_token expired",
    43002: "require POST method",
    44004: "empty content",
    45009: "api freq out of limit",
    47001: "Warning: wrong json format. data format error",
    60002: "department level exceeds limit",
    60003: "department not found",
    60004: "parent department not found",
    60008: "department name already exists",
    60009: "department name contains invalid characters",
    60111: "userid not found",
    60123: "invalid party id",
    84061: "not external contact",
    301002: "no privilege to operate on this application",
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
