"""Callback delivery: worker threads per corp send that corp's queued events.

WeCom waits 5 s for an answer, accepts `success` or an empty body, and retries up to 3 times
(API-FACTS §1). An event that still fails is marked `failed` and the queue moves on, as WeCom does.
The queue lives in the `events` table, so pending events survive a restart.

By default one worker per corp delivers in order, which keeps tests reproducible. Real WeCom pushes
from many servers at once and promises no order (at hundreds of adds per second it could not wait
for each answer in turn), so `workers` > 1 delivers concurrently, as under load.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import httpx

from qike.wecom.crypto import CallbackCrypto, CryptoError

from . import ids

if TYPE_CHECKING:
    from .state import SimState

log = logging.getLogger(__name__)

ANSWER_TIMEOUT = 5.0
MAX_ATTEMPTS = 4  # the first try plus WeCom's 3 retries


class Deliverer:
    def __init__(
        self,
        state: SimState,
        retry_delay: float = 1.0,
        timeout: float = ANSWER_TIMEOUT,
        workers: int = 1,
    ) -> None:
        self.state = state
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.workers = max(1, workers)
        self._wakeups: dict[str, threading.Event] = {}
        self._threads: dict[str, list[threading.Thread]] = {}
        self._in_flight: dict[str, set[int]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._client = httpx.Client(timeout=timeout, trust_env=False)

    def wake(self, corpid: str) -> None:
        """Called after an event is committed: make sure the corp's worker runs and looks."""
        if self._stop.is_set():
            return
        with self._lock:
            wakeup = self._wakeups.get(corpid)
            if wakeup is None:
                wakeup = self._wakeups[corpid] = threading.Event()
                self._in_flight[corpid] = set()
                self._threads[corpid] = [
                    threading.Thread(
                        target=self._run,
                        args=(corpid, wakeup),
                        name=f"wecomsim-cb-{corpid}-{n}",
                        daemon=True,
                    )
                    for n in range(self.workers)
                ]
                for thread in self._threads[corpid]:
                    thread.start()
        wakeup.set()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            wakeups = list(self._wakeups.values())
            threads = [thread for group in self._threads.values() for thread in group]
        for wakeup in wakeups:
            wakeup.set()
        for thread in threads:
            thread.join(timeout=self.timeout + 1)
        self._client.close()

    def _run(self, corpid: str, wakeup: threading.Event) -> None:
        while not self._stop.is_set():
            event = self._claim(corpid, wakeup)
            if event is None:
                wakeup.wait(timeout=1.0)
                continue
            try:
                self._deliver(corpid, event)
            except Exception:  # a worker must never die; the event is marked failed
                log.exception("delivery of event %s crashed", event["id"])
                self.state.finish_event(event["id"], "failed", "simulator error")
            finally:
                with self._lock:
                    self._in_flight[corpid].discard(event["id"])

    def _claim(self, corpid: str, wakeup: threading.Event) -> dict | None:
        """The oldest pending event no other worker of the corp is delivering."""
        with self._lock:
            wakeup.clear()
            taken = self._in_flight[corpid]
            event = self.state.next_pending_event(corpid, skip=taken)
            if event is not None:
                taken.add(event["id"])
                if self.workers > 1:
                    wakeup.set()  # more may be waiting: let an idle sibling look too
            return event

    def _deliver(self, corpid: str, event: dict) -> None:
        attempts = event["attempts"]
        while attempts < MAX_ATTEMPTS and not self._stop.is_set():
            attempts += 1
            error = self._attempt(corpid, event["xml"])
            if error is None:
                self.state.finish_event(event["id"], "delivered", "", attempts)
                return
            self.state.record_attempt(event["id"], attempts, error)
            if attempts < MAX_ATTEMPTS:
                self._stop.wait(self.retry_delay)
        if attempts >= MAX_ATTEMPTS:
            self.state.finish_event(event["id"], "failed", None, attempts)

    def _attempt(self, corpid: str, xml: str) -> str | None:
        """One POST; returns None on success or a short reason."""
        corp = self.state.corp_row(corpid)
        if corp is None or not corp["callback_url"]:
            return "no callback url registered"
        try:
            crypto = CallbackCrypto(corp["callback_token"], corp["callback_aes_key"], corpid)
        except CryptoError as exc:
            return f"bad callback credentials: {exc.message}"
        timestamp = str(self.state.clock.now_int())
        nonce = ids.nonce()
        body, signature = crypto.callback_body(
            xml.encode("utf-8"), timestamp, nonce, agent_id=str(corp["agentid"])
        )
        params = {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}
        try:
            response = self._client.post(
                corp["callback_url"],
                params=params,
                content=body,
                headers={"Content-Type": "text/xml"},
            )
        except httpx.TimeoutException:
            return f"no answer within {self.timeout:g} s"
        except httpx.HTTPError as exc:
            return f"connection error: {exc.__class__.__name__}: {exc}"
        answer = response.content.strip()
        if response.status_code == 200 and answer in (b"", b"success"):
            return None
        return f"HTTP {response.status_code}: {answer[:200].decode('utf-8', 'replace')}"
