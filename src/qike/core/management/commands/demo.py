"""`qike demo`: wecomsim with a seeded corp, Qike connected to it, a web server, a worker, and a
simulator that keeps producing customers, so everything can be watched working on one machine."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from qike.core import services
from qike.core.models import Corp
from qike.customers.models import Customer, FollowRelation, RelationStatus
from qike.intake.models import CallbackEvent
from qike.sync.full import full_sync
from qike.sync.progress import BarProgress

log = logging.getLogger("qike.demo")

ADMIN_USERNAME = "admin"
SEED = {"seed": 2026, "departments": 5, "staff": 40, "customers": 3000}


class Command(BaseCommand):
    help = "Run the demo: wecomsim + a seeded corp + Qike's web server and worker + live traffic."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sim-port", type=int, default=8800)
        parser.add_argument(
            "--traffic",
            type=float,
            default=6.0,
            help="simulated customer actions per minute (0: none)",
        )
        parser.add_argument(
            "--duration", type=float, default=0, help="stop after N seconds (0: run until Ctrl-C)"
        )
        parser.add_argument(
            "--staff", type=int, default=SEED["staff"], help="size of a new demo corp"
        )
        parser.add_argument(
            "--customers", type=int, default=SEED["customers"], help="size of a new demo corp"
        )

    def handle(self, *args, host, port, sim_port, traffic, duration, staff, customers, **options):
        home = Path(settings.QIKE_HOME)
        home.mkdir(parents=True, exist_ok=True)
        for wanted in (port, sim_port):
            _require_free_port(host, wanted)
        started = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0)
        _install_front_end(home, self.stderr)
        password = _ensure_admin(home)
        children: list[subprocess.Popen] = []
        stop = threading.Event()
        # A service manager (or a test) stops the demo with SIGTERM: treat it like Ctrl-C, so the
        # simulator, web server and worker (in sessions of their own) are stopped too.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            sim_url = f"http://{host}:{sim_port}"
            children.append(_start_sim(home, host, sim_port))
            _wait_for(f"{sim_url}/sim/clock", "wecomsim")
            demo = _demo_corp(
                home, sim_url, self.stdout, {**SEED, "staff": staff, "customers": customers}
            )
            qike_url = f"http://{host}:{port}"
            os.environ["QIKE_PUBLIC_URL"] = qike_url
            settings.QIKE_PUBLIC_URL = qike_url
            corp = _connect_corp(demo, sim_url)
            children.append(
                _start_qike(["serve", "--host", host, "--port", str(port), "--no-migrate"])
            )
            children.append(_start_qike(["worker"]))
            _wait_for(f"{qike_url}/healthz", "Qike")
            if not demo.get("synced"):
                report = full_sync(corp, progress=BarProgress(stream=sys.stderr))
                self.stdout.write(f"synced: {json.dumps(report.as_dict(), ensure_ascii=False)}")
                demo["synced"] = True
                _save_demo(home, demo)
            if not demo.get("showcase"):
                demo["showcase"] = _showcase(corp, self.stderr)
                _save_demo(home, demo)
            self._announce(qike_url, sim_url, corp, password, time.monotonic() - started)
            if traffic > 0:
                threading.Thread(
                    target=_traffic, args=(sim_url, corp.corpid, traffic, stop), daemon=True
                ).start()
            self._watch(corp, stop, duration)
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            _stop_all(children)
            self.stdout.write("demo stopped; data kept in " + str(home))

    def _announce(
        self, qike_url: str, sim_url: str, corp: Corp, password: str, seconds: float
    ) -> None:
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"Qike is running:        {qike_url}/   (ready in {seconds:.0f}s)",
                    f"log in as:              {ADMIN_USERNAME} / {password}",
                    f"WeCom callback URL:     {qike_url}/wecom/callback/{corp.corpid}/",
                    f"wecomsim (WeCom API):   {sim_url}/cgi-bin/  control: {sim_url}/sim/",
                    f"corp:                   {corp.corpid}",
                    "Press Ctrl-C to stop.",
                    "",
                ]
            )
        )

    def _watch(self, corp: Corp, stop: threading.Event, duration: float) -> None:
        started = time.monotonic()
        while not stop.is_set():
            left = duration - (time.monotonic() - started) if duration else 10.0
            if left <= 0:
                return
            if not stop.wait(min(10.0, left)):
                self.stdout.write(_summary(corp))


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _summary(corp: Corp) -> str:
    relations = FollowRelation.objects.filter(corp=corp)
    return (
        f"[{time.strftime('%H:%M:%S')}] customers={Customer.objects.filter(corp=corp).count()} "
        f"active_relations={relations.filter(status=RelationStatus.ACTIVE).count()} "
        f"lost={relations.exclude(status=RelationStatus.ACTIVE).count()} "
        f"events={CallbackEvent.objects.filter(corp=corp).count()}"
    )


def _require_free_port(host: str, port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"port {port} on {host} is in use; choose another with --port/--sim-port"
            ) from exc


def _start_sim(home: Path, host: str, port: int) -> subprocess.Popen:
    db = home / "wecomsim.sqlite3"
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wecomsim.cli",
            "serve",
            "--host",
            host,
            "--port",
            str(port),
            "--db",
            str(db),
        ],
        stdout=open(home / "wecomsim.log", "a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _start_qike(arguments: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "qike.cli", *arguments],
        env={**os.environ},
        start_new_session=True,
    )


def _wait_for(url: str, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise CommandError(f"{what} did not start within {timeout:.0f}s ({url})")


def _demo_file(home: Path) -> Path:
    return home / "demo.json"


def _save_demo(home: Path, demo: dict) -> None:
    _demo_file(home).write_text(json.dumps(demo))


def _demo_corp(home: Path, sim_url: str, out, seed: dict) -> dict:
    path = _demo_file(home)
    if path.exists():
        return json.loads(path.read_text())
    out.write(f"seeding wecomsim: {seed['staff']} staff, {seed['customers']} customers …")
    answer = httpx.post(f"{sim_url}/sim/seed", json=seed, timeout=120).raise_for_status().json()
    demo = {
        "corpid": answer["corpid"],
        "secret": answer["secret"],
        "agentid": answer.get("agentid"),
    }
    _save_demo(home, demo)
    return demo


def _connect_corp(demo: dict, sim_url: str) -> Corp:
    corp = Corp.objects.filter(corpid=demo["corpid"]).first()
    if corp is None:
        corp = services.create_corp(
            corpid=demo["corpid"],
            secret=demo["secret"],
            api_base_url=sim_url,
            agent_id=demo.get("agentid"),
            name="演示企业",
        )
    cb = services.callback_settings(corp)
    httpx.post(
        f"{sim_url}/sim/corps/{corp.corpid}/callback",
        json={"url": cb.callback_url, "token": cb.token, "aes_key": cb.encoding_aes_key},
        timeout=10,
    ).raise_for_status()
    return corp


def _traffic(sim_url: str, corpid: str, per_minute: float, stop: threading.Event) -> None:
    """Plays the corp's customers and staff through wecomsim's control API."""
    rng = random.Random()
    with httpx.Client(base_url=f"{sim_url}/sim/corps/{corpid}", timeout=10) as sim:
        while not stop.wait(rng.expovariate(per_minute / 60.0)):
            play_one(sim, rng)


def play_one(sim: httpx.Client, rng: random.Random) -> bool:
    """One random customer or staff action. The simulator may refuse it (the customer already
    left, say): that is logged with the simulator's reason and the next action is another one."""
    try:
        _one_action(sim, rng)
    except httpx.HTTPStatusError as exc:
        log.info(
            "demo.traffic refused: %s %s -> %s %s",
            exc.request.method,
            exc.request.url.path,
            exc.response.status_code,
            exc.response.text[:200],
        )
        return False
    except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
        log.info("demo.traffic skipped: %s: %s", type(exc).__name__, exc)
        return False
    return True


def _one_action(sim: httpx.Client, rng: random.Random) -> None:
    snapshot = sim.get("/snapshot").raise_for_status().json()
    users = [u["userid"] for u in snapshot["users"] if u.get("status", 1) == 1]
    customers = snapshot["customers"]
    roll = rng.random()
    if roll < 0.6 or not customers:
        sim.post(
            "/customers/add",
            json={
                "userid": rng.choice(users),
                "customer": {"name": _random_name(rng)},
                "add_way": rng.choice([1, 1, 2, 3]),
            },
        ).raise_for_status()
        return
    if roll < 0.7:
        _engagement_action(sim, rng, snapshot)
        return
    customer = rng.choice(customers)
    follower = rng.choice(customer["follow_users"])["userid"]
    ext = customer["external_userid"]
    if roll < 0.8:
        sim.post(f"/customers/{ext}/delete_member", json={"userid": follower}).raise_for_status()
    elif roll < 0.88:
        sim.post(
            f"/members/{follower}/delete_customer", json={"external_userid": ext}
        ).raise_for_status()
    else:
        tags = [t["id"] for g in snapshot["tag_groups"] for t in g["tags"]]
        sim.post(
            f"/members/{follower}/edit_customer",
            json={"external_userid": ext, "add_tag": rng.sample(tags, k=min(2, len(tags)))},
        ).raise_for_status()


def _engagement_action(sim: httpx.Client, rng: random.Random, snapshot: dict) -> None:
    """Staff answer what Qike asked of them in the WeCom client: they send the mass messages
    waiting for them and publish moments; customers comment on and like what they see."""
    if rng.random() < 0.4:
        sim.post("/groupmsg/confirm_all").raise_for_status()
        return
    act_on_a_moment(sim, rng, snapshot)


COMMENTS = ["好看！", "多少钱？", "已下单", "周末去店里看看", "有优惠吗？"]


def act_on_a_moment(sim: httpx.Client, rng: random.Random, snapshot: dict) -> None:
    """A staff member publishes a moment waiting for them, or a customer of one who published
    comments or likes it."""
    moments = [
        m
        for m in sim.get("/moments").raise_for_status().json()
        if m["ready"] and not m["cancelled"]
    ]
    moment = rng.choice(moments)  # IndexError (logged, skipped) while there is none
    path = f"/moments/{moment['moment_id']}"
    waiting = [s["userid"] for s in moment["senders"] if not s["publish_status"]]
    published = [s["userid"] for s in moment["senders"] if s["publish_status"]]
    if waiting and (not published or rng.random() < 0.5):
        sim.post(f"{path}/publish", json={"userid": rng.choice(waiting)}).raise_for_status()
        return
    sender = rng.choice(published)
    fans = [
        c["external_userid"]
        for c in snapshot["customers"]
        if any(f["userid"] == sender for f in c["follow_users"])
    ]
    body = {"userid": sender, "external_userid": rng.choice(fans)}
    if rng.random() < 0.5:
        sim.post(f"{path}/like", json=body).raise_for_status()
    else:
        sim.post(f"{path}/comment", json={**body, "text": rng.choice(COMMENTS)}).raise_for_status()


def _random_name(rng: random.Random) -> str:
    return rng.choice("赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨") + rng.choice(
        ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "杰"]
    )


def _stop_all(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)


def _install_front_end(home: Path, err) -> None:
    """htmx, Alpine.js and ECharts from npm (once); without npm the console still works, minus
    charts, so say so and go on."""
    from qike.console import assets

    if assets.installed(home):
        return
    err.write("installing the console's front-end packages (npm) …")
    try:
        assets.install(home)
    except assets.AssetsError as exc:
        err.write(f"warning: {exc}\nthe console runs without charts until `qike assets` succeeds")


def _showcase(corp: Corp, err) -> dict:
    """Library items, a welcome message, quick replies, segments and a live code, so the demo's
    pages show something; a failure is reported and the demo goes on without them."""
    from django.contrib.auth.models import User

    from qike.audit.services import Actor, acting
    from qike.core.demo_content import seed_showcase
    from qike.org.access import access_for

    admin = User.objects.get(username=ADMIN_USERNAME)
    try:
        with acting(Actor(user_id=admin.pk, name=ADMIN_USERNAME, via="command")):
            return seed_showcase(access_for(admin, corp))
    except Exception as exc:  # the demo is still worth running without its showcase
        log.exception("demo.showcase_failed")
        err.write(f"could not add the demo content: {exc}")
        return {"failed": str(exc)}


def _ensure_admin(home: Path) -> str:
    """A super admin for the demo, with a password generated once and kept in QIKE_HOME."""
    from django.contrib.auth.models import User

    path = home / "admin-password"
    if path.exists() and User.objects.filter(username=ADMIN_USERNAME).exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(9)
    user, _created = User.objects.get_or_create(username=ADMIN_USERNAME)
    user.is_superuser = user.is_staff = True
    user.set_password(password)
    user.save()
    path.write_text(password)
    path.chmod(0o600)
    return password
