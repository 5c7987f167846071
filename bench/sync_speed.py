"""Benchmark: `qike sync` of a large seeded corp.

Starts wecomsim (a subprocess, reached only by URL), seeds a corp, runs a full sync into a fresh
database and prints customers/second. Baseline: the same pages fetched from wecomsim without storing
them (the simulator's and HTTP's share of the time); the ratio says how close storing gets to it.

    .venv/bin/python bench/sync_speed.py --customers 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qike_bench .venv/bin/python bench/sync_speed.py
"""

from __future__ import annotations

import argparse
import json
import time

from harness import fresh_home, seeded_simulator


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--staff", type=int, default=500)
    parser.add_argument("--departments", type=int, default=40)
    args = parser.parse_args()
    home = fresh_home()
    with seeded_simulator(
        home, customers=args.customers, staff=args.staff, departments=args.departments
    ) as seeded:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from qike.core import services
        from qike.sync.full import FOLLOWERS_PER_BATCH, full_sync
        from qike.wecom.client import WeComClient

        call_command("migrate", verbosity=0)
        corp = services.create_corp(
            corpid=seeded.corpid, secret=seeded.secret, api_base_url=seeded.sim_url
        )
        client = WeComClient(seeded.corpid, seeded.secret, base_url=seeded.sim_url)
        started = time.monotonic()
        followers = client.get_follow_user_list()
        for start in range(0, len(followers), FOLLOWERS_PER_BATCH):
            for _page in client.iter_batch_get_by_user(
                followers[start : start + FOLLOWERS_PER_BATCH]
            ):
                pass
        fetch_seconds = time.monotonic() - started

        report = full_sync(corp)
        print(
            json.dumps(
                {
                    "database": connection.vendor,
                    "customers": report.customers,
                    "relations": report.relations,
                    "seed_seconds": round(seeded.seed_seconds, 1),
                    "fetch_only_seconds": round(fetch_seconds, 1),
                    "sync_seconds": round(report.seconds, 1),
                    "customers_per_second": round(report.customers_per_second),
                    "ratio_fetch_only_to_sync": round(fetch_seconds / report.seconds, 2),
                }
            )
        )


if __name__ == "__main__":
    main()
