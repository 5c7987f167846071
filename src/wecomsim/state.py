"""SimState: the simulator's world. Storage, clock, callback queue, rate limits, faults, corps, tokens.

Domain rules live in the sibling modules (directory, customers, tags, contact_ways, welcome); they take
a SimState and keep their SQL next to their rules.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from . import ids
from .clock import SimClock
from .delivery import Deliverer
from .errors import ControlError, WeComError
from .events import Field, event_xml
from .ratelimit import Faults, RateLimiter
from .store import Store

TOKEN_LIFETIME = 7200
DEFAULT_AGENTID = 1000002


class SimState:
    def __init__(
        self,
        db: str = ":memory:",
        retry_delay: float = 1.0,
        start_delivery: bool = True,
        delivery_workers: int = 1,
    ):
        self.store = Store(db)
        self.clock = SimClock(float(self.store.get_meta("clock_offset", "0") or 0))
        self.limiter = RateLimiter()
        self.faults = Faults()
        self.random = random.Random()  # the "customer picks a member" kind of chance
        self.base_url = ""  # set by the server once it knows its port (for qr_code URLs)
        self.deliverer = Deliverer(self, retry_delay=retry_delay, workers=delivery_workers)
        self._to_wake: threading.local = threading.local()
        if start_delivery:
            self.resume_deliveries()

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; corps that got new events are woken after COMMIT, not before."""
        outer = not getattr(self._to_wake, "active", False)
        if outer:
            self._to_wake.active = True
            self._to_wake.corps = set()
        try:
            with self.store.tx() as db:
                yield db
        finally:
            if outer:
                corps = self._to_wake.corps
                self._to_wake.active = False
                self._to_wake.corps = set()
        if outer:
            for corpid in corps:
                self.deliverer.wake(corpid)

    def close(self) -> None:
        self.deliverer.stop()
        self.store.close()

    # -- clock ----------------------------------------------------------------------------------

    def now(self) -> int:
        return self.clock.now_int()

    def advance_clock(self, seconds: float) -> float:
        now = self.clock.advance(seconds)
        self.store.set_meta("clock_offset", repr(self.clock.offset))
        self.run_due()
        return now

    def set_clock(self, unix: float) -> float:
        now = self.clock.set(unix)
        self.store.set_meta("clock_offset", repr(self.clock.offset))
        self.run_due()
        return now

    def run_due(self) -> None:
        """Completes the time-based work that became due (transfer takeovers), in due order.

        Runs when the clock moves and before every API/control call, so whatever a caller sees
        already reflects the passage of sim time."""
        from . import transfers  # transfers imports this module

        transfers.process_due(self)

    # -- corps and tokens ------------------------------------------------------------------------

    def create_corp(
        self,
        corpid: str | None = None,
        name: str | None = None,
        secret: str | None = None,
        agentid: int | None = None,
    ) -> dict[str, Any]:
        corpid = corpid or ids.corpid()
        if self.corp_row(corpid) is not None:
            raise ControlError(409, "corp_exists", f"corp {corpid} already exists")
        corp = {
            "corpid": corpid,
            "name": name or "模拟企业",
            "secret": secret or ids.secret(),
            "agentid": int(agentid or DEFAULT_AGENTID),
        }
        with self.tx() as db:
            db.execute(
                "INSERT INTO corps (corpid, name, secret, agentid, created_at) VALUES (?, ?, ?, ?, ?)",
                (corp["corpid"], corp["name"], corp["secret"], corp["agentid"], self.clock.now()),
            )
            # Every corp has the root department (id 1) named after the corp.
            db.execute(
                "INSERT INTO departments (corpid, id, name, parentid, sort) VALUES (?, 1, ?, 0, 0)",
                (corpid, corp["name"]),
            )
        return corp

    def corp_row(self, corpid: str) -> sqlite3.Row | None:
        return self.store.one("SELECT * FROM corps WHERE corpid = ?", (corpid,))

    def require_corp(self, corpid: str) -> sqlite3.Row:
        corp = self.corp_row(corpid)
        if corp is None:
            raise ControlError(404, "unknown_corp", f"no corp {corpid}")
        return corp

    def corp_ids(self) -> list[str]:
        return [r["corpid"] for r in self.store.all("SELECT corpid FROM corps ORDER BY created_at")]

    def set_callback(self, corpid: str, url: str, token: str, aes_key: str) -> None:
        self.require_corp(corpid)
        with self.tx() as db:
            db.execute(
                "UPDATE corps SET callback_url = ?, callback_token = ?, callback_aes_key = ? "
                "WHERE corpid = ?",
                (url, token, aes_key, corpid),
            )

    def get_token(self, corpid: str, secret: str) -> tuple[str, int]:
        """gettoken: the same token while it is valid, a new one after it expired."""
        corp = self.corp_row(corpid)
        if corp is None:
            raise WeComError(40013)
        if secret != corp["secret"]:
            raise WeComError(40001)
        now = self.clock.now()
        with self.tx() as db:
            row = db.execute(
                "SELECT token, expires_at FROM tokens WHERE corpid = ? AND expires_at > ? "
                "ORDER BY expires_at DESC LIMIT 1",
                (corpid, now),
            ).fetchone()
            if row is not None:
                return row["token"], int(row["expires_at"] - now)
            token = ids.access_token()
            db.execute(
                "INSERT INTO tokens (token, corpid, expires_at) VALUES (?, ?, ?)",
                (token, corpid, now + TOKEN_LIFETIME),
            )
        return token, TOKEN_LIFETIME

    def token_corp(self, token: str) -> tuple[str | None, bool]:
        """(corpid or None, expired?) for an access_token."""
        row = self.store.one("SELECT corpid, expires_at FROM tokens WHERE token = ?", (token,))
        if row is None:
            return None, False
        return row["corpid"], row["expires_at"] <= self.clock.now()

    def expire_tokens(self, corpid: str) -> int:
        self.require_corp(corpid)
        now = self.clock.now()
        with self.tx() as db:
            cur = db.execute(
                "UPDATE tokens SET expires_at = ? WHERE corpid = ? AND expires_at > ?",
                (now - 1, corpid, now),
            )
        return cur.rowcount

    # -- callback events ---------------------------------------------------------------------------

    def emit(
        self,
        db: sqlite3.Connection,
        corpid: str,
        event: str,
        change_type: str,
        fields: Iterable[Field],
    ) -> None:
        """Queues one callback inside the caller's transaction."""
        corp = db.execute(
            "SELECT callback_url, drop_next FROM corps WHERE corpid = ?", (corpid,)
        ).fetchone()
        now = self.clock.now()
        xml = event_xml(corpid, int(now), event, change_type, fields)
        status, error = "pending", ""
        if corp is None or not corp["callback_url"]:
            # WeCom sends nothing when no callback URL is configured; the log still says why.
            status, error = "dropped", "no callback url registered"
        elif corp["drop_next"] > 0:
            status, error = "dropped", "dropped on request (simulated loss)"
            db.execute("UPDATE corps SET drop_next = drop_next - 1 WHERE corpid = ?", (corpid,))
        db.execute(
            "INSERT INTO events (corpid, event, change_type, xml, status, last_error, created_at, "
            "finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                corpid,
                event,
                change_type,
                xml,
                status,
                error,
                now,
                None if status == "pending" else now,
            ),
        )
        if status == "pending" and getattr(self._to_wake, "active", False):
            self._to_wake.corps.add(corpid)

    def drop_next_callbacks(self, corpid: str, count: int) -> None:
        self.require_corp(corpid)
        with self.tx() as db:
            db.execute("UPDATE corps SET drop_next = ? WHERE corpid = ?", (count, corpid))

    def next_pending_event(self, corpid: str, skip: Iterable[int] = ()) -> dict | None:
        """The oldest pending event of the corp, leaving out those in `skip` (being delivered)."""
        skipped = list(skip)
        marks = ", ".join("?" * len(skipped))
        row = self.store.one(
            "SELECT id, xml, attempts FROM events WHERE corpid = ? AND status = 'pending' "
            + (f"AND id NOT IN ({marks}) " if skipped else "")
            + "ORDER BY id LIMIT 1",
            (corpid, *skipped),
        )
        return dict(row) if row else None

    def record_attempt(self, event_id: int, attempts: int, error: str) -> None:
        with self.store.tx() as db:
            db.execute(
                "UPDATE events SET attempts = ?, last_error = ? WHERE id = ?",
                (attempts, error, event_id),
            )

    def finish_event(
        self, event_id: int, status: str, error: str | None, attempts: int | None = None
    ) -> None:
        with self.store.tx() as db:
            db.execute(
                "UPDATE events SET status = ?, last_error = COALESCE(?, last_error), "
                "attempts = COALESCE(?, attempts), finished_at = ? WHERE id = ?",
                (status, error, attempts, self.clock.now(), event_id),
            )

    def pending_count(self, corpid: str) -> int:
        row = self.store.one(
            "SELECT COUNT(*) AS n FROM events WHERE corpid = ? AND status = 'pending'", (corpid,)
        )
        return int(row["n"]) if row else 0

    def wait_deliveries(self, corpid: str, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while True:
            pending = self.pending_count(corpid)
            if pending == 0 or time.monotonic() >= deadline:
                return pending
            time.sleep(0.02)

    def deliveries(self, corpid: str, status: str | None = None) -> list[dict]:
        sql = (
            "SELECT id, event, change_type, status, attempts, last_error, created_at, finished_at, "
            "xml FROM events WHERE corpid = ?"
        )
        params: list[Any] = [corpid]
        if status:
            sql += " AND status = ?"
            params.append(status)
        return [dict(r) for r in self.store.all(sql + " ORDER BY id", params)]

    def resume_deliveries(self) -> None:
        """After a restart, pick up whatever was still pending."""
        rows = self.store.all("SELECT DISTINCT corpid FROM events WHERE status = 'pending'")
        for row in rows:
            self.deliverer.wake(row["corpid"])
