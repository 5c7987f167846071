"""Seeding (deterministic, fast), rate limits and injected faults, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from wecomsim.server import SimServer

from .conftest import Corp, new_corp

FIXED_NOW = 1_760_000_000


def snapshot_for(seed: int) -> dict:
    with SimServer(db=":memory:", port=0) as sim, httpx.Client(base_url=sim.url) as http:
        http.post("/sim/clock/set", json={"now": FIXED_NOW})
        corp = http.post(
            "/sim/seed", json={"seed": seed, "departments": 30, "staff": 40, "customers": 400}
        ).json()
        return http.get(f"/sim/corps/{corp['corpid']}/snapshot").json()


def test_same_seed_same_snapshot() -> None:
    first, second = snapshot_for(11), snapshot_for(11)
    assert first == second
    assert first != snapshot_for(12)
    assert len(first["departments"]) == 30 and len(first["users"]) == 40
    assert len(first["customers"]) == 400
    assert max(len(c["follow_users"]) for c in first["customers"]) >= 2
    assert {f["add_way"] for c in first["customers"] for f in c["follow_users"]} >= {1, 2, 3}
    assert any(f["state"] for c in first["customers"] for f in c["follow_users"])
    assert all(c["name"] for c in first["customers"])
    userids = [u["userid"] for u in first["users"]]
    assert len(set(userids)) == len(userids)
    assert len({u["mobile"] for u in first["users"]}) == len(userids)


def test_seeding_is_fast(sim: SimServer) -> None:
    started = time.monotonic()
    with httpx.Client(base_url=sim.url, timeout=60) as http:
        summary = http.post(
            "/sim/seed", json={"seed": 5, "departments": 50, "staff": 200, "customers": 30_000}
        ).json()
    assert summary["customers"] == 30_000
    assert time.monotonic() - started < 10


def test_injected_errcode_and_latency(http: httpx.Client, corp: Corp) -> None:
    http.post(
        "/sim/faults",
        json={"path": "externalcontact/get_follow_user_list", "errcode": -1, "times": 2},
    )
    results = [corp.get("externalcontact/get_follow_user_list")["errcode"] for _ in range(3)]
    assert results == [-1, -1, 0]
    http.post("/sim/faults", json={"path": "user/get", "latency_ms": 300, "times": 1})
    started = time.monotonic()
    corp.get("user/get", userid="x")
    assert time.monotonic() - started >= 0.3
    other = new_corp(http)
    http.post("/sim/faults", json={"path": "user/get", "errcode": 60011, "corpid": other.corpid})
    assert corp.get("user/get", userid="x")["errcode"] == 60111
    assert other.get("user/get", userid="x")["errcode"] == 60011
    assert http.delete("/sim/faults").json() == {"cleared": True}
    assert other.get("user/get", userid="x")["errcode"] == 60111


def test_burst_trips_45009_for_a_minute(http: httpx.Client, corp: Corp) -> None:
    http.post("/sim/faults", json={"path": "externalcontact/get_follow_user_list", "burst": 3})
    codes = [corp.get("externalcontact/get_follow_user_list")["errcode"] for _ in range(5)]
    assert codes == [0, 0, 0, 45009, 45009]
    assert corp.get("user/get", userid="x")["errcode"] == 60111  # other APIs unaffected
    http.post("/sim/clock/advance", json={"seconds": 61})
    assert corp.get("externalcontact/get_follow_user_list")["errcode"] == 0


def test_cli_seed_and_callback(tmp_path: Path) -> None:
    db = str(tmp_path / "sim.sqlite3")
    env_python = [sys.executable, "-m", "wecomsim"]
    out = subprocess.run(
        [
            *env_python,
            "seed",
            "--db",
            db,
            "--seed",
            "4",
            "--departments",
            "5",
            "--staff",
            "6",
            "--customers",
            "50",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"corpid", "secret", "agentid"} <= set(summary)
    assert (summary["departments"], summary["staff"], summary["customers"]) == (5, 6, 50)
    key = "a" * 43
    subprocess.run(
        [
            *env_python,
            "callback",
            "--db",
            db,
            "--corpid",
            summary["corpid"],
            "--url",
            "http://127.0.0.1:9/cb",
            "--token",
            "t",
            "--aes-key",
            key,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    with SimServer(db=db, port=0) as sim, httpx.Client(base_url=sim.url) as http:
        token = http.get(
            "/cgi-bin/gettoken",
            params={"corpid": summary["corpid"], "corpsecret": summary["secret"]},
        ).json()
        users = http.get(
            "/cgi-bin/externalcontact/get_follow_user_list",
            params={"access_token": token["access_token"]},
        ).json()
        assert len(users["follow_user"]) >= 5
        assert sim.state.corp_row(summary["corpid"])["callback_url"] == "http://127.0.0.1:9/cb"
