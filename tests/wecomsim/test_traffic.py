"""Load bursts (adds at a steady rate, with a report of their welcome codes) and concurrent delivery."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from wecomsim.server import SimServer

from .conftest import Corp, Receiver, add_member, new_corp, wait


def burst_done(corp: Corp, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        report = corp.control("traffic/burst", method="GET")
        if not report["running"] or time.monotonic() > deadline:
            return report
        time.sleep(0.05)


def test_a_burst_adds_customers_at_its_rate_and_reports_welcome_codes(
    corp: Corp, receiver: Receiver
) -> None:
    for userid in ("zhangsan", "lisi"):
        add_member(corp, userid)
    started = time.monotonic()
    corp.control("traffic/burst", {"rate": 40, "seconds": 0.5})
    report = burst_done(corp)
    assert time.monotonic() - started >= 0.45  # paced, not all at once
    assert report["planned"] == report["made"] == 20 and report["failed"] == 0
    wait(corp)
    adds = [e for e in receiver.received if e.get("ChangeType") == "add_external_contact"]
    assert len(adds) == 20 and {e["UserID"] for e in adds} == {"zhangsan", "lisi"}
    assert report["welcome"]["unused"] == 20 and report["welcome"]["sent"] == 0

    for event in adds[:5]:
        sent = corp.post(
            "externalcontact/send_welcome_msg",
            {"welcome_code": event["WelcomeCode"], "text": {"content": "欢迎"}},
        )
        assert sent["errcode"] == 0
    welcome = corp.control("traffic/burst", method="GET")["welcome"]
    assert welcome["sent"] == 5 and welcome["unused"] == 15
    assert 0 <= welcome["latency_p50"] <= welcome["latency_p99"] <= welcome["latency_max"]

    corp.http.post("/sim/clock/advance", json={"seconds": 21})
    welcome = corp.control("traffic/burst", method="GET")["welcome"]
    assert welcome["expired"] == 15 and welcome["unused"] == 0


def test_burst_input_is_checked(corp: Corp, http: httpx.Client) -> None:
    url = f"/sim/corps/{corp.corpid}/traffic/burst"
    assert http.post(url, json={"rate": 10, "seconds": 1}).json()["error"] == "no_members"
    add_member(corp, "zhangsan")
    assert http.post(url, json={"rate": 0, "seconds": 1}).status_code == 400
    assert http.post(url, json={"rate": "fast", "seconds": 1}).status_code == 400
    assert http.post(url, json={"rate": 10}).status_code == 400
    assert http.get(url).status_code == 404  # nothing has run yet
    assert http.post(url, json={"rate": 1, "seconds": 60}).status_code == 200
    assert http.post(url, json={"rate": 1, "seconds": 60}).json()["error"] == "burst_running"
    stopped = http.delete(url).json()
    assert burst_done(corp)["running"] is False and stopped["planned"] == 60


@pytest.fixture
def concurrent_sim() -> Iterator[SimServer]:
    with SimServer(db=":memory:", port=0, retry_delay=0.05, delivery_workers=4) as server:
        yield server


def test_several_delivery_workers_deliver_every_event_once_and_concurrently(
    concurrent_sim: SimServer,
) -> None:
    with httpx.Client(base_url=concurrent_sim.url, timeout=10, trust_env=False) as http:
        corp = new_corp(http, name="并发企业")
        receiver = Receiver(corpid=corp.corpid)
        in_flight, most = [0], [0]
        lock = threading.Lock()

        def slow_receiver(environ, start_response):
            with lock:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
            time.sleep(0.05)  # a slow callback URL: one worker alone would take 1.5 s
            try:
                return receiver(environ, start_response)
            finally:
                with lock:
                    in_flight[0] -= 1

        from werkzeug.serving import make_server

        server = make_server("127.0.0.1", 0, slow_receiver, threaded=True)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_port}/callback"
            corp.control(
                "callback", {"url": url, "token": receiver.token, "aes_key": receiver.aes_key}
            )
            for n in range(30):
                add_member(corp, f"user{n}")
            wait(corp)
        finally:
            server.shutdown()
            server.server_close()
    userids = [e["UserID"] for e in receiver.received if e.get("ChangeType") == "create_user"]
    assert sorted(userids) == sorted(f"user{n}" for n in range(30))  # each once
    assert most[0] > 1
