"""Benchmark: welcome messages under a burst of adds.

wecomsim drives a burst of adds (default 500 per second for 60 seconds) into a running Qike —
web server, job workers, the works — and reports, for every add, the time from the add (when WeCom
issued its welcome code and queued the callback) to Qike's `send_welcome_msg` call, and how many
welcome codes expired (WeCom accepts a code for 20 seconds only). Intake throughput is the rate at
which Qike stored the add callbacks; its baseline is a bare loop, in the same run and on the same
database, that only verifies, decrypts, parses and inserts the same kind of callback (one
transaction each): Qike's ratio to it says what the rest of the request costs.

Two modes, each in its own process (settings are read once per process):
- embedded: SQLite and huey on SQLite, as `qike demo` runs (gunicorn, one worker process);
- production: PostgreSQL + Redis, several web workers and several job consumer processes.

    .venv/bin/python bench/welcome_latency.py                      # both modes, 500/s for 60 s
    .venv/bin/python bench/welcome_latency.py --mode production --rate 200 --seconds 30

WeCom pushes callbacks from many servers at once and promises no order; the simulator does the same
here with --delivery-workers (its default for tests is one at a time, in order).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from harness import free_port, fresh_home, seeded_simulator

PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "qike_bench_welcome"
REDIS_URL = "redis://127.0.0.1:6379/14"
BASELINE_EVENTS = 2000
GOAL_P99 = 2.0


def main() -> None:
    args = _parser().parse_args()
    if args.run_mode:
        print(json.dumps(run_mode(args)), flush=True)
        return
    modes = ["embedded", "production"] if args.mode == "both" else [args.mode]
    results = [_run_in_child(mode, args) for mode in modes]
    print()
    print(_table(results))
    for result in results:
        if result["mode"] == "production":
            met = result["p99"] is not None and result["p99"] <= GOAL_P99 and not result["expired"]
            print(
                f"goal (production: p99 ≤ {GOAL_P99:g} s, no expired code): {'met' if met else 'NOT met'}"
            )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["embedded", "production", "both"], default="both")
    parser.add_argument("--rate", type=float, default=500, help="adds per second")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--staff", type=int, default=200)
    parser.add_argument("--web-workers", type=int, default=4, help="production mode")
    parser.add_argument("--job-processes", type=int, default=3, help="production mode")
    parser.add_argument("--job-threads", type=int, default=4)
    parser.add_argument("--delivery-workers", type=int, default=16)
    parser.add_argument("--run-mode", choices=["embedded", "production"], help=argparse.SUPPRESS)
    return parser


def _run_in_child(mode: str, args: argparse.Namespace) -> dict:
    print(f"== {mode}: {args.rate:g} adds/s for {args.seconds:g} s", flush=True)
    command = [sys.executable, __file__, *sys.argv[1:], "--run-mode", mode]
    child = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(child.stdout.strip().splitlines()[-1])


# --- one mode, in its own process ------------------------------------------------------------


def run_mode(args: argparse.Namespace) -> dict:
    mode = args.run_mode
    home = fresh_home()
    env = _mode_env(mode, home)
    os.environ.update(env)
    with seeded_simulator(
        home,
        customers=100,
        staff=args.staff,
        departments=10,
        delivery_workers=args.delivery_workers,
    ) as seeded:
        import django

        django.setup()
        corp = _prepare_qike(seeded)
        baseline = _baseline_rate(corp)
        _log(f"baseline: bare verify+decrypt+parse+insert {baseline:.0f} events/s")
        port = free_port()
        children = _start_qike(mode, args, port)
        _log("qike pids (for py-spy): " + " ".join(str(child.pid) for child in children))
        try:
            _wait_until_up(f"http://127.0.0.1:{port}/healthz")
            _connect_callback(corp, seeded.sim_url, port)
            report = _burst(seeded.sim_url, corp.corpid, args.rate, args.seconds)
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=30)
        intake = _intake_rate(corp)
    welcome = report["welcome"]
    return {
        "mode": mode,
        "adds": report["made"],
        "failed_adds": report["failed"],
        "generator_max_lag": report["max_lag_seconds"],
        "p50": welcome["latency_p50"],
        "p99": welcome["latency_p99"],
        "max": welcome["latency_max"],
        "sent": welcome["sent"],
        "expired": welcome["expired"],
        "unused": welcome["unused"],
        "intake_rate": intake,
        "baseline_rate": baseline,
        "intake_ratio": intake / baseline if baseline else None,
    }


def _mode_env(mode: str, home: str) -> dict[str, str]:
    env = {"QIKE_CALLBACK_MAX_AGE": "0"}
    if mode == "production":
        _fresh_postgres_database()
        _flush_redis()
        env["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_DATABASE
        env["QIKE_REDIS_URL"] = REDIS_URL
    return env


def _fresh_postgres_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PG_DATABASE}")


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def _prepare_qike(seeded):
    """Migrate, connect the corp, sync staff, and give the corp a default welcome message."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from qike.core import services
    from qike.engagement import services as engagement
    from qike.org.access import access_for
    from qike.sync.full import full_sync

    call_command("migrate", verbosity=0)
    corp = services.create_corp(
        corpid=seeded.corpid, secret=seeded.secret, api_base_url=seeded.sim_url, name="压测企业"
    )
    full_sync(corp)
    admin = User.objects.create_superuser("bench", password="bench")
    access = access_for(admin, corp)
    message = engagement.save_message(
        access=access, name="默认欢迎语", text="您好 #客户昵称#，欢迎！", attachments=[]
    )
    engagement.set_corp_default(access=access, message=message)
    return corp


def _baseline_rate(corp) -> float:
    """Verify, decrypt, parse and insert add callbacks in a bare loop, one transaction each."""
    from django.db import connection, transaction

    from qike.wecom.crypto import CallbackCrypto
    from qike.wecom.events import parse_envelope, parse_event

    box = CallbackCrypto(corp.callback_token, corp.encoding_aes_key, corp.corpid)
    bodies = [_encrypted_add(box, corp.corpid, n) for n in range(BASELINE_EVENTS)]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_baseline (id INTEGER PRIMARY KEY, dedupe_key VARCHAR(200) "
            "UNIQUE, kind VARCHAR(100), payload TEXT)"
            if connection.vendor == "sqlite"
            else "CREATE TABLE bench_baseline (id SERIAL PRIMARY KEY, dedupe_key VARCHAR(200) "
            "UNIQUE, kind VARCHAR(100), payload TEXT)"
        )
    started = time.perf_counter()
    for n, (body, signature, timestamp, nonce) in enumerate(bodies):
        envelope = parse_envelope(body)
        plain = box.decrypt_message(signature, timestamp, nonce, envelope.encrypt)
        event = parse_event(plain)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_baseline (dedupe_key, kind, payload) VALUES (%s, %s, %s)",
                [f"{event.dedupe_key()}-{n}", event.kind, plain.decode()],
            )
    return len(bodies) / (time.perf_counter() - started)


def _encrypted_add(box, corpid: str, n: int) -> tuple[bytes, str, str, str]:
    timestamp, nonce = str(int(time.time())), f"nonce{n}"
    xml = (
        f"<xml><ToUserName><![CDATA[{corpid}]]></ToUserName><FromUserName><![CDATA[sys]]>"
        f"</FromUserName><CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA["
        "add_external_contact]]></ChangeType><UserID><![CDATA[bench]]></UserID>"
        f"<ExternalUserID><![CDATA[wmBENCH{n:08d}]]></ExternalUserID><State><![CDATA[]]></State>"
        f"<WelcomeCode><![CDATA[CODE{n:08d}]]></WelcomeCode></xml>"
    )
    body, signature = box.callback_body(xml.encode(), timestamp, nonce, agent_id="1000002")
    return body, signature, timestamp, nonce


def _start_qike(mode: str, args: argparse.Namespace, port: int) -> list[subprocess.Popen]:
    web_workers = 1 if mode == "embedded" else args.web_workers
    job_processes = 1 if mode == "embedded" else args.job_processes
    env = {**os.environ, "QIKE_WORKERS": str(args.job_threads)}
    log = open(Path(os.environ["QIKE_HOME"]) / "qike.log", "a")  # noqa: SIM115  (the children keep it)
    qike = [sys.executable, "-m", "qike.cli"]
    serve = ["serve", "--port", str(port), "--workers", str(web_workers), "--no-migrate"]
    children = [subprocess.Popen([*qike, *serve], env=env, stdout=log, stderr=subprocess.STDOUT)]
    for _ in range(job_processes):
        children.append(
            subprocess.Popen([*qike, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
        )
    return children


def _wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"Qike did not start at {url}")


def _connect_callback(corp, sim_url: str, port: int) -> None:
    url = f"http://127.0.0.1:{port}/wecom/callback/{corp.corpid}/"
    body = {"url": url, "token": corp.callback_token, "aes_key": corp.encoding_aes_key}
    httpx.post(
        f"{sim_url}/sim/corps/{corp.corpid}/callback", json=body, timeout=10
    ).raise_for_status()


def _burst(sim_url: str, corpid: str, rate: float, seconds: float) -> dict:
    """Start the burst, show progress, and wait until every code was used or has expired."""
    base = f"{sim_url}/sim/corps/{corpid}/traffic/burst"
    httpx.post(base, json={"rate": rate, "seconds": seconds}, timeout=30).raise_for_status()
    started = time.monotonic()
    while True:
        time.sleep(5)
        report = httpx.get(base, timeout=60).raise_for_status().json()
        welcome = report["welcome"]
        _log(
            f"  {time.monotonic() - started:5.0f} s  adds {report['made']}/{report['planned']}  "
            f"welcomed {welcome['sent']}  waiting {welcome['unused']}  expired {welcome['expired']}"
            f"  p99 so far {welcome['latency_p99']}"
        )
        if not report["running"] and welcome["unused"] == 0:
            return report


def _intake_rate(corp) -> float:
    """Add callbacks stored per second, from the first to the last one stored."""
    from django.db.models import Max, Min

    from qike.intake.models import CallbackEvent

    adds = CallbackEvent.objects.filter(
        corp=corp, kind="change_external_contact/add_external_contact"
    )
    span = adds.aggregate(first=Min("received_at"), last=Max("received_at"))
    count = adds.count()
    if count < 2 or span["first"] is None:
        return 0.0
    return count / max((span["last"] - span["first"]).total_seconds(), 1e-6)


# --- output -------------------------------------------------------------------------------------


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _table(results: list[dict]) -> str:
    lines = [
        "mode        adds    p50 s   p99 s   max s  expired  intake/s  baseline/s  ratio",
    ]
    for r in results:
        lines.append(
            f"{r['mode']:<10} {r['adds']:>6} {_s(r['p50'])} {_s(r['p99'])} {_s(r['max'])} "
            f"{r['expired']:>8} {r['intake_rate']:>9.0f} {r['baseline_rate']:>11.0f}  "
            f"{r['intake_ratio'] or 0:.2f}"
        )
    return "\n".join(lines)


def _s(value: float | None) -> str:
    return f"{value:>7.2f}" if value is not None else "      -"


if __name__ == "__main__":
    main()
