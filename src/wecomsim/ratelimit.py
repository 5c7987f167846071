"""Rate limits and injected faults, both per corp and per API path, on the simulated clock.

WeCom's current docs (API-FACTS §1): per corp, per API, 10,000 calls/min and 150,000 calls/hour.
Tripping the minute limit blocks the API for 60 s, the hour limit for 60 min; the API answers 45009
while blocked.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

PER_MINUTE = 10_000
PER_HOUR = 150_000
MINUTE_BLOCK = 60
HOUR_BLOCK = 3600


@dataclass
class _Counter:
    minute: int = -1
    minute_count: int = 0
    hour: int = -1
    hour_count: int = 0
    blocked_until: float = 0.0


class RateLimiter:
    def __init__(self, per_minute: int = PER_MINUTE, per_hour: int = PER_HOUR) -> None:
        self.per_minute = per_minute
        self.per_hour = per_hour
        self._counters: dict[tuple[str, str], _Counter] = {}
        self._lock = threading.Lock()

    def hit(self, corpid: str, path: str, now: float, minute_limit: int | None = None) -> bool:
        """Counts one call; False means the call must be answered with 45009."""
        limit_minute = minute_limit if minute_limit is not None else self.per_minute
        with self._lock:
            counter = self._counters.setdefault((corpid, path), _Counter())
            if now < counter.blocked_until:
                return False
            minute, hour = int(now // 60), int(now // 3600)
            if counter.minute != minute:
                counter.minute, counter.minute_count = minute, 0
            if counter.hour != hour:
                counter.hour, counter.hour_count = hour, 0
            counter.minute_count += 1
            counter.hour_count += 1
            if counter.hour_count > self.per_hour:
                counter.blocked_until = now + HOUR_BLOCK
                return False
            if counter.minute_count > limit_minute:
                counter.blocked_until = now + MINUTE_BLOCK
                return False
            return True

    def reset(self) -> None:
        with self._lock:
            self._counters.clear()


@dataclass
class Fault:
    path: str
    corpid: str | None = None
    errcode: int | None = None
    latency_ms: int = 0
    times: int | None = None  # None: until cleared
    burst: int | None = None  # a per-minute limit for this path, to provoke 45009
    hits: int = field(default=0)

    def matches(self, corpid: str | None, path: str) -> bool:
        if self.corpid is not None and self.corpid != corpid:
            return False
        return self.path in ("*", path)

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "corpid": self.corpid,
            "errcode": self.errcode,
            "latency_ms": self.latency_ms,
            "times": self.times,
            "burst": self.burst,
            "hits": self.hits,
        }


class Faults:
    """Injected failures. A fault with `times` affects that many calls, then retires."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def burst_limit(self, corpid: str | None, path: str) -> int | None:
        with self._lock:
            limits = [
                f.burst for f in self._faults if f.burst is not None and f.matches(corpid, path)
            ]
        return min(limits) if limits else None

    def take(self, corpid: str | None, path: str) -> tuple[int, int | None]:
        """The latency (ms) and errcode to apply to this call, consuming one use of each fault."""
        latency, errcode = 0, None
        with self._lock:
            for fault in list(self._faults):
                if fault.burst is not None or not fault.matches(corpid, path):
                    continue
                fault.hits += 1
                latency = max(latency, fault.latency_ms)
                if errcode is None and fault.errcode is not None:
                    errcode = fault.errcode
                if fault.times is not None and fault.hits >= fault.times:
                    self._faults.remove(fault)
        return latency, errcode
