"""Shared set-up of the benchmarks: a throwaway QIKE_HOME and a seeded wecomsim in a subprocess
(Qike knows wecomsim only by URL, as in production)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx


@dataclass
class Seeded:
    sim_url: str
    corpid: str
    secret: str
    seed_seconds: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_home() -> str:
    """A new data directory for Qike; the database is SQLite there unless DATABASE_URL is set."""
    home = tempfile.mkdtemp(prefix="qike-bench-")
    os.environ["QIKE_HOME"] = home
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qike.settings")
    os.environ.setdefault("QIKE_ALLOWED_HOSTS", "testserver,127.0.0.1")
    return home


@contextmanager
def seeded_simulator(
    home: str,
    *,
    customers: int,
    staff: int = 500,
    departments: int = 40,
    delivery_workers: int = 1,
) -> Iterator[Seeded]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "wecomsim", "serve", "--port", str(port)]
    command += ["--delivery-workers", str(delivery_workers)]
    sim = subprocess.Popen(
        [*command, "--db", f"{home}/sim.sqlite3"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(url)
        started = time.monotonic()
        body = {"seed": 1, "departments": departments, "staff": staff, "customers": customers}
        seeded = httpx.post(f"{url}/sim/seed", json=body, timeout=600).raise_for_status().json()
        yield Seeded(url, seeded["corpid"], seeded["secret"], time.monotonic() - started)
    finally:
        sim.terminate()
        sim.wait()


def _wait_until_up(url: str) -> None:
    for _ in range(100):
        try:
            httpx.get(f"{url}/sim/clock", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"wecomsim did not start at {url}")
