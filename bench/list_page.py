"""Benchmark: the console's customer list with 100,000 customers.

Seeds wecomsim, syncs Qike (a fresh database: SQLite by default, PostgreSQL with DATABASE_URL), then
requests the list page as a super admin: the first page, page 51 (keyset cursor), and the list
filtered by tag, by staff and by a name search. Prints median and p95 milliseconds per case and each
case's ratio to the first page (the baseline: keyset paging should keep page 51 near 1.0).

    .venv/bin/python bench/list_page.py --customers 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qike_bench .venv/bin/python bench/list_page.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from harness import fresh_home, seeded_simulator


def timed(fetch: Callable[[], object], runs: int) -> dict:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fetch()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    home = fresh_home()
    with seeded_simulator(home, customers=args.customers) as seeded:
        import django

        django.setup()
        from django.test.utils import setup_test_environment

        setup_test_environment()  # the test client then exposes the template context (the cursor)
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.db import connection
        from django.db.models import Count
        from django.test import Client
        from django.urls import reverse

        from qike.core import services
        from qike.customers.models import FollowRelation
        from qike.sync.full import full_sync
        from qike.tags.models import Tag

        call_command("migrate", verbosity=0)
        corp = services.create_corp(
            corpid=seeded.corpid, secret=seeded.secret, api_base_url=seeded.sim_url
        )
        report = full_sync(corp)
        User.objects.create_superuser("bench", password="bench-password")
        client = Client()
        client.login(username="bench", password="bench-password")
        url = reverse("console:customers")

        def page(**params: str) -> Callable[[], object]:
            def fetch() -> object:
                answer = client.get(url, params)
                assert answer.status_code == 200, answer.status_code
                return answer

            return fetch

        popular_tag = (
            Tag.objects.filter(corp=corp)
            .annotate(uses=Count("assignments"))
            .order_by("-uses")
            .values_list("wecom_id", flat=True)
            .first()
        )
        busy_staff = (
            FollowRelation.objects.filter(corp=corp)
            .values("staff__userid")
            .annotate(n=Count("id"))
            .order_by("-n")
            .values_list("staff__userid", flat=True)
            .first()
        )
        cursor, pages = "", 1
        answer = client.get(url)
        while pages < 51 and answer.context["page"].next_cursor:
            cursor = answer.context["page"].next_cursor
            answer = client.get(url, {"cursor": cursor})
            pages += 1

        cases = {
            "first_page": page(),
            f"page_{pages}": page(cursor=cursor),
            "tag_filter": page(tags=popular_tag),
            "staff_filter": page(staff=busy_staff),
            "search": page(q="张"),
        }
        figures: dict = {
            "database": connection.vendor,
            "customers": report.customers,
            "relations": report.relations,
        }
        figures.update({name: timed(fetch, args.runs) for name, fetch in cases.items()})
        baseline = figures["first_page"]["median_ms"]
        figures["ratio_to_first_page"] = {
            name: round(figures[name]["median_ms"] / baseline, 2) for name in cases
        }
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
