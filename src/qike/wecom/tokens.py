"""Where WeCom access tokens are kept between calls.

WeCom issues one token per (corpid, secret). Processes that each keep their own copy and refresh it
independently make one another's calls fail with 40014/42001 (API-FACTS §1), so every process of a
deployment should share one store; Qike's is database-backed (`qike.core.tokens`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Protocol


class TokenStore(Protocol):
    def get(self, key: str) -> str | None:
        """A still-valid token, or None."""
        ...

    def set(self, key: str, token: str, expires_in: int) -> None:
        """Keep `token` for `expires_in` seconds (the caller has already taken its margin off)."""
        ...

    def invalidate(self, key: str, token: str) -> None:
        """Drop the stored token only if it is still `token`: another process may have stored a
        fresh one since, and dropping that would start a refresh storm."""
        ...


def token_key(corpid: str, secret: str) -> str:
    """A stable store key per (corpid, secret); keys end up in tables and logs, so the secret is
    hashed."""
    digest = hashlib.sha256(f"{corpid}\x00{secret}".encode()).hexdigest()[:32]
    return f"wecom:{corpid}:{digest}"


class MemoryTokenStore:
    """Tokens in this process's memory: for tests and single-process use."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._tokens.get(key)
            if entry is None:
                return None
            token, expires_at = entry
            if self._clock() >= expires_at:
                del self._tokens[key]
                return None
            return token

    def set(self, key: str, token: str, expires_in: int) -> None:
        with self._lock:
            self._tokens[key] = (token, self._clock() + expires_in)

    def invalidate(self, key: str, token: str) -> None:
        with self._lock:
            entry = self._tokens.get(key)
            if entry is not None and entry[0] == token:
                del self._tokens[key]
