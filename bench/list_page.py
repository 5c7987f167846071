"""Benchmark: the console's customer list with 100,000 customers.

Seeds wecomsim, syncs Qike (a fresh database: SQLite by default, PostgreSQL with DATABASE_URL), then
requests the list page as a corp admin: first page, a deep page (keyset cursor), filtered by tag,
by staff and by search. Prints median and p95 milliseconds per case, and the ratio of the bare
query for the same first page (the floor) to the whole page.

    .venv/bin/python bench/list_page.py --customers 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qike_bench .venv/bin/python bench/list_page.py
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed(fn, runs: int) -> dict:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="qike-bench-")
    os.environ["QIKE_HOME"] = home
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qike.settings")
    os.environ.setdefault("QIKE_ALLOWED_HOSTS", "testserver,127.0.0.1")
    port = free_port()
    sim_url = f"http://127.0.0.1:{port}"
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wecomsim",
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
        seeded = httpx.post(
            f"{sim_url}/sim/seed",
            json={"seed": 1, "departments": 40, "staff": 500, "customers": args.customers},
            timeout=600,
        ).json()

        import django

        django.setup()
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        from qike.core import services
        from qike.customers.models import FollowRelation
        from qike.sync.full import full_sync
        from qike.tags.models import Tag

        call_command("migrate", verbosity=0)
        corp = services.create_corp(
            corpid=seeded["corpid"], secret=seeded["secret"], api_base_url=sim_url
        )
        report = full_sync(corp)
        User.objects.create_superuser("bench", password="bench-password")
        client = Client()
        client.login(username="bench", password="bench-password")
        url = reverse("console:customers")

        def page(**params):
            def fetch():
                answer = client.get(url, params)
                assert answer.status_code == 200, answer.status_code
                return answer

            return fetch

        popular_tag = (
            Tag.objects.filter(corp=corp)
            .order_by("-assignments__id")
            .values_list("wecom_id", flat=True)
            .first()
        )
        busy_staff = (
            FollowRelation.objects.filter(corp=corp).values_list("staff__userid", flat=True).first()
        )
        deep = client.get(url)
        cursor = ""
        for _ in range(50):  # walk 50 pages to get a deep cursor
            cursor = deep.context["page"].next_cursor if deep.context else ""
            if not cursor:
                break
            deep = client.get(url, {"cursor": cursor})

        def floor():
            with connection.cursor() as db:
                db.execute(
                    "SELECT r.id FROM customers_followrelation r WHERE r.corp_id = %s "
                    "ORDER BY r.added_at DESC, r.id DESC LIMIT 51",
                    [corp.pk],
                )
                db.fetchall()

        cases = {
            "first_page": page(),
            "page_51": page(cursor=cursor),
            "tag_filter": page(tags=popular_tag),
            "staff_filter": page(staff=busy_staff),
            "search": page(q="张"),
        }
        figures = {
            "database": connection.vendor,
            "customers": report.customers,
            "relations": report.relations,
            **{name: timed(fn, args.runs) for name, fn in cases.items()},
            "bare_query_first_page": timed(floor, args.runs),
        }
        figures["ratio_bare_query_to_first_page"] = round(
            figures["bare_query_first_page"]["median_ms"] / figures["first_page"]["median_ms"], 3
        )
        print(json.dumps(figures))
    finally:
        sim.terminate()
        sim.wait()


if __name__ == "__main__":
    main()
