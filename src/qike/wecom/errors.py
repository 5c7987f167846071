"""Errors raised by the WeCom client, and the error codes Qike branches on.

Clients branch on `errcode`, never on `errmsg` (API-FACTS, preamble): WeCom's messages change
wording and carry hints, the codes do not.
"""

from __future__ import annotations

OK = 0

# Global codes (API-FACTS §1).
SYSTEM_BUSY = -1  # retry, at most 3 times
INVALID_SECRET = 40001
INVALID_USERID = 40003
TOKEN_INVALID = 40014
TOKEN_MISSING = 41001
TOKEN_EXPIRED = 42001
TOKEN_MISMATCH = 42009
RATE_LIMITED = 45009
CONCURRENCY_LIMITED = 45033  # too many concurrent calls to one API (API-FACTS §8 §1)
API_NOT_AUTHORISED = 48002
NO_PRIVILEGE = 60011
IP_NOT_TRUSTED = 60020

# Customer-contact codes (API-FACTS §1, §8).
INVALID_EXTERNAL_USERID = 40096
WELCOME_CODE_MISSING = 41049
WELCOME_CODE_INVALID = 41050
WELCOME_CODE_USED = 41051
NO_EXTERNAL_CONTACT = 84061

# Not WeCom codes: WeCom's own codes are -1 and up, so the client's local failures sit below that.
TRANSPORT_ERROR = -2  # network failure or timeout: WeCom may or may not have seen the request
BAD_RESPONSE = (
    -3
)  # an answer that is not a JSON object (proxy error page, HTTP 5xx, truncated body)

# The token went bad under us (another process refreshed it, or it expired early): fetch a new one.
TOKEN_ERRORS = frozenset({TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_MISMATCH})
# WeCom blocks the caller for a while (60 s for the minute limit): waiting is the only cure.
RATE_LIMIT_ERRORS = frozenset({RATE_LIMITED, CONCURRENCY_LIMITED})


class WeComError(Exception):
    """WeCom answered a call with a non-zero errcode.

    `path` is the API path relative to /cgi-bin/ (e.g. "externalcontact/get"), never a full URL:
    URLs carry the access token or the corp secret in their query string.
    """

    def __init__(self, errcode: int, errmsg: str, path: str) -> None:
        super().__init__(errcode, errmsg, path)
        self.errcode = errcode
        self.errmsg = errmsg
        self.path = path

    def __str__(self) -> str:
        return f"WeCom {self.errcode} {self.errmsg} ({self.path})"


class WeComTransportError(WeComError):
    """The call never produced a WeCom answer: network failure, timeout, or a non-JSON response.

    `errcode` is TRANSPORT_ERROR (-2) or BAD_RESPONSE (-3), codes WeCom itself never sends.
    """
