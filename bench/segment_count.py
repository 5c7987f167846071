"""Benchmark: a segment's live count on a big corp (PostgreSQL).

A generated corp with 10 million follow relations (8 million customers: one in four is followed by
two members), 30 million tag assignments over 300 tags (1-5 per relation, skewed popularity),
5,000 members in a 221-department tree, adds spread over three years. The question: customers
with two tags (all) and without a third, followed by someone in one division's subtree (1/20 of the
corp), added in the last 90 days, active.

Prints the warm latency (median and p95 of --runs) of `qike.segments.services.count(...)` and of
the best of several hand-written SQL formulations of the same question, their ratio (hand-written /
Qike: 1.0 means Qike is as fast as the best SQL), and checks that all return the same count.

Data is generated with set-based SQL (INSERT … SELECT generate_series) into a database of its own,
indexes dropped during the load and rebuilt after, and reused by later runs at the same scale.

    .venv/bin/python bench/segment_count.py --scale 0.05     # 500k relations, a minute
    .venv/bin/python bench/segment_count.py                  # 10M relations: generation ~15 min
    QIKE_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mine .venv/bin/python bench/...
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import psycopg

FULL_RELATIONS = 10_000_000
CUSTOMERS_PER_RELATION = 0.8  # 8M customers for 10M relations
TAGS = 300
TAG_GROUPS = 30
STAFF = 5_000
DIVISIONS = 20  # under the root; each with TEAMS teams
TEAMS = 10
DAYS_SPREAD = 3 * 365
# The question's tags (wecom ids "bt<n>"): A and B popular, often together; C fairly popular.
TAG_A, TAG_B, TAG_C = 0, 61, 1
DIVISION = 3  # WeCom id of the division whose subtree follows the audience
WITHIN_DAYS = 90
MASK = 2**62 - 1  # non-negative hashes
BIG_TABLES = ("customers_customer", "customers_followrelation", "tags_tagassignment")


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _database_url(scale: float) -> str:
    url = os.environ.get("QIKE_BENCH_DATABASE_URL")
    if url:
        return url
    suffix = "" if scale == 1 else "_" + str(scale).replace(".", "_")
    return f"postgresql://postgres@127.0.0.1:5432/qike_bench_segments{suffix}"


def _ensure_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            _log(f"creating database {name}")
            admin.execute(f'CREATE DATABASE "{name}"')


# --- generation -----------------------------------------------------------------------------------


def _generated(cursor, relations: int) -> bool:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS bench_segment_meta (relations bigint, assignments bigint, "
        "corp_id bigint, generated_at timestamptz)"
    )
    row = cursor.execute("SELECT relations FROM bench_segment_meta").fetchone()
    return row is not None and row[0] == relations


def _drop_secondary(cursor) -> list[str]:
    """Drop the big tables' unique constraints, secondary indexes and foreign keys for the load;
    return the statements that put them back."""
    restore: list[str] = []
    for table in BIG_TABLES:
        constraints = cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
            [table],
        ).fetchall()
        for name, definition, kind in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            suffix = " NOT VALID" if kind == "f" else ""  # generated rows are consistent
            restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}{suffix}')
        indexes = cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
            "AND indexname NOT LIKE '%%_pkey'",
            [table],
        ).fetchall()
        for name, definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
            restore.append(definition)
    return restore


def _generate(connection, relations: int) -> int:
    customers = int(relations * CUSTOMERS_PER_RELATION)
    cursor = connection.cursor()
    for table in (*reversed(BIG_TABLES), "tags_tag", "tags_taggroup"):
        cursor.execute(f"TRUNCATE {table} CASCADE")
    cursor.execute("DELETE FROM core_corp WHERE corpid = 'wwbenchsegments'")
    cursor.execute("TRUNCATE bench_segment_meta")
    corp_id = cursor.execute(
        "INSERT INTO core_corp (corpid, name, secret, callback_token, encoding_aes_key, "
        "api_base_url, is_active, created_at, updated_at) VALUES ('wwbenchsegments', "
        "'分群压测企业', '', '', '', 'http://127.0.0.1:9', true, now(), now()) RETURNING id"
    ).fetchone()[0]
    restore = _drop_secondary(cursor)
    connection.commit()
    _log(f"corp {corp_id}: departments, {STAFF} staff, {TAGS} tags")
    steps: list[tuple[str, str]] = [
        (
            "departments",
            f"""
            INSERT INTO org_department (corp_id, wecom_id, name, name_en, parent_wecom_id, "order",
                                        path, depth)
            SELECT {corp_id}, 1, '总部', '', 0, 0, '/1/', 1
            UNION ALL
            SELECT {corp_id}, 1 + d, '事业部' || d, '', 1, d, '/1/' || (1 + d) || '/', 2
            FROM generate_series(1, {DIVISIONS}) d
            UNION ALL
            SELECT {corp_id}, 100 * d + t, '小组' || d || '-' || t, '', 1 + d, t,
                   '/1/' || (1 + d) || '/' || (100 * d + t) || '/', 3
            FROM generate_series(1, {DIVISIONS}) d, generate_series(1, {TEAMS}) t
            """,
        ),
        (
            "staff",
            f"""
            INSERT INTO org_staff (corp_id, userid, name, alias, mobile, email, position, gender,
                                   avatar, status, main_department, updated_at)
            SELECT {corp_id}, 'u' || s, '员工' || s, '', '', '', '', '1', '', 1,
                   100 * (1 + s % {DIVISIONS}) + 1 + (s / {DIVISIONS}) % {TEAMS}, now()
            FROM generate_series(0, {STAFF - 1}) s
            """,
        ),
        (
            "staff departments",
            f"""
            INSERT INTO org_staffdepartment (corp_id, staff_id, department_id, is_leader)
            SELECT {corp_id}, s.id, d.id, false
            FROM org_staff s JOIN org_department d
              ON d.corp_id = s.corp_id AND d.wecom_id = s.main_department
            WHERE s.corp_id = {corp_id}
            """,
        ),
        (
            "tags",
            f"""
            INSERT INTO tags_taggroup (corp_id, wecom_id, name, "order", created_at)
            SELECT {corp_id}, 'bg' || g, '标签组' || g, g, now()
            FROM generate_series(0, {TAG_GROUPS - 1}) g;
            INSERT INTO tags_tag (corp_id, wecom_id, group_id, name, "order", type, created_at)
            SELECT {corp_id}, 'bt' || t, g.id, '标签' || t, t, 1, now()
            FROM generate_series(0, {TAGS - 1}) t
            JOIN tags_taggroup g ON g.corp_id = {corp_id} AND g.wecom_id = 'bg' || (t % {TAG_GROUPS})
            """,
        ),
        (
            f"{customers:,} customers",
            f"""
            INSERT INTO customers_customer (corp_id, external_userid, name, avatar, type, gender,
                unionid, position, corp_name, corp_full_name, created_at, updated_at)
            SELECT {corp_id}, 'wmbench' || c, '客户' || c, '', 1, c % 3, '', '', '', '', now(), now()
            FROM generate_series(1, {customers}) c
            """,
        ),
        (
            f"{relations:,} follow relations",
            f"""
            INSERT INTO customers_followrelation (corp_id, customer_id, staff_id, remark,
                description, remark_corp_name, remark_mobiles, oper_userid, add_way, state,
                added_at, status, is_half, updated_at)
            SELECT {corp_id}, c0.first + c, s0.first + (hc + j * (1 + hc / {STAFF} % {STAFF - 1}))
                   % {STAFF}, '', '', '', '', '', 1, 'lc-' || (h % 50),
                   now() - make_interval(secs => (h / 100 % {DAYS_SPREAD * 86400})),
                   CASE WHEN h % 100 < 90 THEN 'active'
                        WHEN h % 100 < 97 THEN 'deleted_by_customer'
                        ELSE 'deleted_by_staff' END,
                   h / 1000000000 % 100 = 0, now()
            FROM generate_series(0, {relations - 1}) r,
                 LATERAL (SELECT r % {customers} AS c, r / {customers} AS j,
                                 hashint8extended(r, 1) & {MASK} AS h) picked,
                 LATERAL (SELECT hashint8extended(c, 2) & {MASK} AS hc) by_customer,
                 (SELECT min(id) AS first FROM customers_customer WHERE corp_id = {corp_id}) c0,
                 (SELECT min(id) AS first FROM org_staff WHERE corp_id = {corp_id}) s0
            """,
        ),
        (
            "tag assignments (1-5 per relation)",
            f"""
            INSERT INTO tags_tagassignment (corp_id, relation_id, tag_id)
            SELECT {corp_id}, fr.id, t0.first + ((b + k * 61) % {TAGS})
            FROM customers_followrelation fr,
                 LATERAL (SELECT hashint8extended(fr.id, 3) & {MASK} AS h) hashed,
                 LATERAL (SELECT floor({TAGS} * power((h % 1000003) / 1000003.0, 2))::int AS b,
                                 1 + (h / 1000003) % 5 AS n) picked,
                 LATERAL generate_series(0, n - 1) k,
                 (SELECT min(id) AS first FROM tags_tag WHERE corp_id = {corp_id}) t0
            WHERE fr.corp_id = {corp_id}
            """,
        ),
    ]
    for label, sql in steps:
        started = time.monotonic()
        for statement in sql.split(";"):
            cursor.execute(statement)
        connection.commit()
        _log(f"  {label}: {time.monotonic() - started:.0f} s")
    _log(f"restoring {len(restore)} indexes and constraints")
    for statement in restore:
        started = time.monotonic()
        cursor.execute(statement)
        connection.commit()
        _log(f"  {statement[:110]}: {time.monotonic() - started:.0f} s")
    assignments = cursor.execute(
        f"SELECT count(*) FROM tags_tagassignment WHERE corp_id = {corp_id}"
    ).fetchone()[0]
    cursor.execute(
        "INSERT INTO bench_segment_meta VALUES (%s, %s, %s, now())",
        [relations, assignments, corp_id],
    )
    connection.commit()
    return assignments


def _vacuum(url: str) -> None:
    """Set the visibility map (index-only scans) and the statistics after a load or a migration."""
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as connection:
        for table in (*BIG_TABLES, "org_staff", "org_staffdepartment", "org_department"):
            connection.execute(f"VACUUM ANALYZE {table}")
    _log(f"vacuum analyze: {time.monotonic() - started:.0f} s")


# --- the question ---------------------------------------------------------------------------------


def _hand_written(corp_id: int, tag_ids: dict[str, int], since: dt.datetime) -> dict[str, tuple]:
    """Formulations a DBA would try; the fastest on the data is the baseline."""
    a, b, c = tag_ids[f"bt{TAG_A}"], tag_ids[f"bt{TAG_B}"], tag_ids[f"bt{TAG_C}"]
    subtree = """SELECT sd.staff_id FROM org_staffdepartment sd
                  JOIN org_department d ON d.id = sd.department_id
                  WHERE d.corp_id = %(corp)s AND d.path LIKE %(path)s"""
    relation_filter = """r.corp_id = %(corp)s AND r.status = 'active' AND NOT r.is_half
                         AND r.added_at >= %(since)s"""
    params = {"corp": corp_id, "path": f"/1/{DIVISION}/%", "since": since, "a": a, "b": b, "c": c}
    return {
        "exists": (
            f"""SELECT count(DISTINCT r.customer_id) FROM customers_followrelation r
                WHERE {relation_filter} AND r.staff_id IN ({subtree})
                  AND EXISTS (SELECT 1 FROM tags_tagassignment x
                              WHERE x.relation_id = r.id AND x.tag_id = %(a)s)
                  AND EXISTS (SELECT 1 FROM tags_tagassignment x
                              WHERE x.relation_id = r.id AND x.tag_id = %(b)s)
                  AND NOT EXISTS (SELECT 1 FROM tags_tagassignment x
                                  WHERE x.relation_id = r.id AND x.tag_id = %(c)s)""",
            params,
        ),
        "joins": (
            f"""SELECT count(DISTINCT r.customer_id) FROM customers_followrelation r
                JOIN tags_tagassignment ta ON ta.relation_id = r.id AND ta.tag_id = %(a)s
                JOIN tags_tagassignment tb ON tb.relation_id = r.id AND tb.tag_id = %(b)s
                LEFT JOIN tags_tagassignment tc ON tc.relation_id = r.id AND tc.tag_id = %(c)s
                WHERE {relation_filter} AND tc.id IS NULL AND r.staff_id IN ({subtree})""",
            params,
        ),
        "tag_sets": (
            f"""SELECT count(DISTINCT r.customer_id) FROM customers_followrelation r
                JOIN (SELECT relation_id FROM tags_tagassignment WHERE tag_id = %(a)s
                      INTERSECT
                      SELECT relation_id FROM tags_tagassignment WHERE tag_id = %(b)s
                      EXCEPT
                      SELECT relation_id FROM tags_tagassignment WHERE tag_id = %(c)s) t
                  ON t.relation_id = r.id
                WHERE {relation_filter} AND r.staff_id IN ({subtree})""",
            params,
        ),
    }


def _figures(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {
        "median_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, int(len(samples) * 0.95 + 0.5) - 1)], 1),
    }


def _timed(fetches: dict[str, Callable[[], int]], runs: int) -> tuple[dict, dict]:
    """Warm each once (keeping its answer), then time them round-robin so that a noisy neighbour
    on the machine slows all of them alike rather than whichever ran at the time."""
    answers = {name: fetch() for name, fetch in fetches.items()}
    samples: dict[str, list[float]] = {name: [] for name in fetches}
    for _ in range(runs):
        for name, fetch in fetches.items():
            started = time.perf_counter()
            fetch()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: _figures(values) for name, values in samples.items()}, answers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 10M relations")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the plans")
    parser.add_argument("--vacuum", action="store_true", help="VACUUM ANALYZE reused data")
    args = parser.parse_args()
    relations = int(FULL_RELATIONS * args.scale)
    url = _database_url(args.scale)
    _ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["QIKE_HOME"] = tempfile.mkdtemp(prefix="qike-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qike.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from qike.core import clock
    from qike.core.models import Corp
    from qike.segments import services
    from qike.tags.models import Tag

    _log("migrate")
    call_command("migrate", verbosity=0)  # also builds indexes added since the data was made
    with psycopg.connect(url) as raw:
        fresh = args.regenerate or not _generated(raw.cursor(), relations)
        raw.commit()
        if fresh:
            _log(f"generating {relations:,} relations (progress below; reused on later runs)")
            _generate(raw, relations)
    if fresh or args.vacuum:
        _vacuum(url)
    corp = Corp.objects.get(corpid="wwbenchsegments")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relations, assignments FROM bench_segment_meta")
        made, assignments = cursor.fetchone()
    rules = services.rules_from_dict(
        {
            "tags_all": [f"bt{TAG_A}", f"bt{TAG_B}"],
            "tags_none": [f"bt{TAG_C}"],
            "departments": [DIVISION],
            "added_within_days": WITHIN_DAYS,
        }
    )
    services.check_rules(corp=corp, rules=rules)
    tag_ids = dict(Tag.objects.filter(corp=corp).values_list("wecom_id", "pk"))
    since = clock.now() - dt.timedelta(days=WITHIN_DAYS)
    figures: dict = {"relations": made, "tag_assignments": assignments}
    fetches: dict[str, Callable[[], int]] = {"qike": lambda: services.count(corp=corp, rules=rules)}
    hand_written = _hand_written(corp.pk, tag_ids, since)
    for name, (sql, params) in hand_written.items():

        def fetch(sql: str = sql, params: dict = params) -> int:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchone()[0]

        fetches[f"sql_{name}"] = fetch
    timings, counts = _timed(fetches, args.runs)
    figures.update(timings)
    qike, qike_count = timings["qike"], counts["qike"]
    best = min(hand_written, key=lambda name: timings[f"sql_{name}"]["median_ms"])
    if args.explain:
        for name, (sql, params) in hand_written.items():
            _explain(connection, sql, params, name)
    if args.explain:
        query = services.audience(corp=corp, rules=rules).values("customer_id").distinct()
        sql, params = query.query.sql_with_params()
        _explain(connection, f"SELECT count(*) FROM ({sql}) q", params, "qike")
    figures["count"] = qike_count
    figures["same_count"] = len(set(counts.values())) == 1
    figures["best_sql"] = best
    figures["ratio_sql_to_qike"] = round(
        figures[f"sql_{best}"]["median_ms"] / figures["qike"]["median_ms"], 2
    )
    figures["goal"] = "qike median <= 200 ms and ratio >= 0.8"
    figures["goal_met"] = qike["median_ms"] <= 200 and figures["ratio_sql_to_qike"] >= 0.8
    print(json.dumps(figures))
    if not figures["same_count"]:
        print(f"counts differ: {counts}", file=sys.stderr)
        sys.exit(1)


def _explain(connection, sql: str, params, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print(f"--- {name}\n{plan}", file=sys.stderr)


if __name__ == "__main__":
    main()
