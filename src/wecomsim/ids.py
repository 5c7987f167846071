"""Identifier formats, as WeCom issues them (API-FACTS §3.1): wm/wo external_userid, et tag ids."""

from __future__ import annotations

import random
import secrets
import string

_ID_ALPHABET = string.ascii_letters + string.digits + "-_"
_HEX = "0123456789abcdef"


def _chars(alphabet: str, length: int, rng: random.Random | None) -> str:
    if rng is None:
        return "".join(secrets.choice(alphabet) for _ in range(length))
    return "".join(rng.choices(alphabet, k=length))


def corpid(rng: random.Random | None = None) -> str:
    """Real corpids look like `ww` + 16 hex characters."""
    return "ww" + _chars(_HEX, 16, rng)


def secret(rng: random.Random | None = None) -> str:
    return _chars(string.ascii_letters + string.digits + "-_", 43, rng)


def external_userid(customer_type: int = 1, rng: random.Random | None = None) -> str:
    """32 characters; WeChat users get `wm`, WeCom users `wo` (both prefixes occur in the wild)."""
    prefix = "wm" if customer_type == 1 else "wo"
    return prefix + _chars(_ID_ALPHABET, 30, rng)


def tag_id(rng: random.Random | None = None) -> str:
    """Corp tags and tag groups share the `et` prefix."""
    return "et" + _chars(_ID_ALPHABET, 30, rng)


def unionid(rng: random.Random | None = None) -> str:
    return "o" + _chars(_ID_ALPHABET, 27, rng)


def config_id(rng: random.Random | None = None) -> str:
    return _chars(_HEX, 32, rng)


def message_id() -> str:
    """msgid of an app message; opaque, used later for message/recall."""
    return _chars(_ID_ALPHABET, 43, None)


def link_id() -> str:
    """Acquisition links look like `cawcdea7783d7330c6` (the doc's event samples)."""
    return "cawcde" + _chars(_HEX, 12, None)


def media_id(kind: str = "temp") -> str:
    """Temporary media ids are long opaque strings (3…); uploadimg images get a shorter key."""
    if kind == "image":
        return _chars(_HEX, 32, None)
    return "3" + _chars(_ID_ALPHABET, 63, None)


def access_token() -> str:
    # Real tokens are opaque and can be long (up to 512 bytes); 128 characters keeps logs readable.
    return _chars(_ID_ALPHABET, 128, None)


def welcome_code() -> str:
    return _chars(_ID_ALPHABET, 43, None)


def nonce() -> str:
    return _chars(string.digits, 10, None)
