"""Benchmark: `qike sync` of a large seeded corp.

Starts wecomsim (a subprocess, reached only by URL), seeds a corp, runs a full sync into a fresh
database and prints customers/second. Baseline: the same pages fetched from wecomsim without storing
them (the simulator's and HTTP's share of the time); the ratio says how close storing gets to it.

    .venv/bin/python bench/sync_speed.py --customers 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/sync_speed.py
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--staff", type=int, default=500)
    parser.add_argument("--departments", type=int, default=40)
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="qike-bench-")
    os.environ["QIKE_HOME"] = home
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qike.settings")
    port = free_port()
    sim_url = f"http://127.0.0.1:{port}"
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wecomsim.cli",
            "serve",
            "--port",
            str(port),
            "--db",
            f"{home}/sim.sqlite3",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                httpx.get(f"{sim_url}/sim/clock", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        started = time.monotonic()
        seeded = httpx.post(
            f"{sim_url}/sim/seed",
            json={
                "seed": 1,
                "departments": args.departments,
                "staff": args.staff,
                "customers": args.customers,
            },
            timeout=600,
        ).json()
        seed_seconds = time.monotonic() - started

        import django

        django.setup()
        from django.core.management import call_command

        from qike.core import services
        from qike.sync.full import FOLLOWERS_PER_BATCH, full_sync
        from qike.wecom.client import WeComClient

        call_command("migrate", verbosity=0)
        corp = services.create_corp(
            corpid=seeded["corpid"], secret=seeded["secret"], api_base_url=sim_url
        )

        client = WeComClient(seeded["corpid"], seeded["secret"], base_url=sim_url)
        started = time.monotonic()
        followers = client.get_follow_user_list()
        fetched = 0
        for start in range(0, len(followers), FOLLOWERS_PER_BATCH):
            for page in client.iter_batch_get_by_user(
                followers[start : start + FOLLOWERS_PER_BATCH]
            ):
                fetched += len(page)
        fetch_seconds = time.monotonic() - started

        report = full_sync(corp)
        figures = {
            "database": django.db.connection.vendor,
            "customers": report.customers,
            "relations": report.relations,
            "seed_seconds": round(seed_seconds, 1),
            "fetch_only_seconds": round(fetch_seconds, 1),
            "sync_seconds": round(report.seconds, 1),
            "customers_per_second": round(report.customers_per_second),
            "ratio_fetch_only_to_sync": round(fetch_seconds / report.seconds, 2),
        }
        print(json.dumps(figures))
    finally:
        sim.terminate()
        sim.wait()


if __name__ == "__main__":
    main()
