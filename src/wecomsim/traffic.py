"""Load: a burst of customers adding the corp's members at a steady rate, and what became of their
welcome codes — the simulator's side of `bench/welcome_latency`.

Each add is the same as `POST …/customers/add` (a new WeChat user adds a random active member by QR
code, add_way 1): one follow, one welcome code, one `add_external_contact` callback. The burst runs
on a background thread and paces itself by wall time; it reports how far it fell behind.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import customers
from .errors import ControlError
from .welcome import CODE_LIFETIME

if TYPE_CHECKING:
    from .state import SimState

MAX_RATE = 5000
MAX_SECONDS = 3600
QR_CODE_ADD_WAY = 1


@dataclass
class Burst:
    corpid: str
    rate: float
    seconds: float
    planned: int
    made: int = 0
    failed: int = 0
    last_error: str = ""
    max_lag: float = 0.0  # how late the worst add was against its schedule, in seconds
    started_at: float = 0.0  # sim clock: codes issued from here on belong to the burst
    finished_at: float | None = None
    codes: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return self.finished_at is None


_bursts: dict[tuple[int, str], Burst] = {}
_lock = threading.Lock()


def start(state: SimState, corpid: str, rate: float, seconds: float) -> Burst:
    if not 0 < rate <= MAX_RATE:
        raise ControlError(400, "invalid_field", f"rate must be in (0, {MAX_RATE}] adds per second")
    if not 0 < seconds <= MAX_SECONDS:
        raise ControlError(400, "invalid_field", f"seconds must be in (0, {MAX_SECONDS}]")
    members = _active_members(state, corpid)
    if not members:
        raise ControlError(409, "no_members", "the corp has no active member to add")
    key = (id(state), corpid)
    with _lock:
        current = _bursts.get(key)
        if current is not None and current.running:
            raise ControlError(409, "burst_running", "a burst is already running for this corp")
        burst = Burst(corpid=corpid, rate=rate, seconds=seconds, planned=round(rate * seconds))
        burst.started_at = state.clock.now()
        _bursts[key] = burst
    threading.Thread(
        target=_run, args=(state, burst, members), name=f"wecomsim-burst-{corpid}", daemon=True
    ).start()
    return burst


def current(state: SimState, corpid: str) -> Burst:
    burst = _bursts.get((id(state), corpid))
    if burst is None:
        raise ControlError(404, "no_burst", "no burst has run for this corp")
    return burst


def stop(state: SimState, corpid: str) -> Burst:
    burst = current(state, corpid)
    burst._stop.set()
    return burst


def _active_members(state: SimState, corpid: str) -> list[str]:
    rows = state.store.all(
        "SELECT userid FROM users WHERE corpid = ? AND status = 1 ORDER BY userid", (corpid,)
    )
    return [row["userid"] for row in rows]


def _run(state: SimState, burst: Burst, members: list[str]) -> None:
    begin = time.monotonic()
    try:
        for n in range(burst.planned):
            due = begin + n / burst.rate
            wait = due - time.monotonic()
            if wait > 0 and burst._stop.wait(wait):
                break
            if burst._stop.is_set():
                break
            burst.max_lag = max(burst.max_lag, time.monotonic() - due)
            _add_one(state, burst, members[n % len(members)], n)
    finally:
        burst.finished_at = state.clock.now()


def _add_one(state: SimState, burst: Burst, userid: str, n: int) -> None:
    try:
        answer = customers.add_direct(
            state,
            burst.corpid,
            {"userid": userid, "customer": {"name": f"压测客户{n}"}, "add_way": QR_CODE_ADD_WAY},
        )
    except Exception as exc:  # the burst goes on; the report counts and names failures
        burst.failed += 1
        burst.last_error = f"{type(exc).__name__}: {exc}"
        return
    burst.made += 1
    burst.codes.append(answer["welcome_code"])


def report(state: SimState, burst: Burst) -> dict[str, Any]:
    """Progress, and for every welcome code of the burst: when the add happened, when (and whether)
    `send_welcome_msg` used it."""
    latencies, expired, unused = _welcome_outcomes(state, burst)
    return {
        "running": burst.running,
        "rate": burst.rate,
        "seconds": burst.seconds,
        "planned": burst.planned,
        "made": burst.made,
        "failed": burst.failed,
        "last_error": burst.last_error,
        "max_lag_seconds": round(burst.max_lag, 3),
        "welcome": {
            "sent": len(latencies),
            "expired": expired,
            "unused": unused,
            "latency_p50": _percentile(latencies, 50),
            "latency_p99": _percentile(latencies, 99),
            "latency_max": round(latencies[-1], 4) if latencies else None,
        },
    }


def _welcome_outcomes(state: SimState, burst: Burst) -> tuple[list[float], int, int]:
    codes = list(burst.codes)
    latencies: list[float] = []
    expired = unused = 0
    now = state.clock.now()
    for chunk in _chunks(codes, 500):
        marks = ", ".join("?" * len(chunk))
        rows = state.store.all(
            f"SELECT issued_at, used_at FROM welcome_codes WHERE code IN ({marks})", chunk
        )
        for row in rows:
            if row["used_at"] is not None:
                latencies.append(row["used_at"] - row["issued_at"])
            elif now - row["issued_at"] > CODE_LIFETIME:
                expired += 1  # too late now, whether Qike tried (41050) or never did
            else:
                unused += 1
    return sorted(latencies), expired, unused


def _chunks(items: list[str], size: int):
    for begin in range(0, len(items), size):
        yield items[begin : begin + size]


def _percentile(ordered: list[float], percent: float) -> float | None:
    if not ordered:
        return None
    rank = max(0, min(len(ordered) - 1, round(percent / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[rank], 4)
