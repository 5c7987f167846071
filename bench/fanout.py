"""Fan-out of a mass message: plan and dispatch one campaign to N customers across S staff members
through wecomsim (a separate process, reached over HTTP as in production).

    .venv/bin/python bench/fanout.py                       # 1,000,000 customers, 5,000 staff
    .venv/bin/python bench/fanout.py --customers 100000 --staff 500

Seeding (not timed): wecomsim and Qike's database get the same generated corp in bulk (every
--shared-every'th customer is followed by two staff members); the first --pre-sent staff members
send their own mass message to all their customers beforehand, so today's limit must skip those.
Timed: pre-flight + create (one plan) and dispatch (the plan again at send time, one Delivery per
customer, every add_msg_template call). Printed: wall time, WeCom calls by path, and rule breaches
(calls with > 10,000 ids, customers sent twice, customers over the per-customer limit, WeCom
errors). Goal: ≤ 60 s and 0 breaches.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import _wait_until_up, free_port, fresh_home

GOAL_SECONDS = 60.0
PREFIX = "f"


def main() -> None:
    args = _parser().parse_args()
    home = fresh_home()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "wecomsim", "serve", "--port", str(port)]
    sim = subprocess.Popen(
        [*command, "--db", f"{home}/sim.sqlite3"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(url)
        result = run(args, url)
    finally:
        sim.terminate()
        sim.wait()
    _print(args, result)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--staff", type=int, default=5000)
    parser.add_argument("--shared-every", type=int, default=10)
    parser.add_argument("--pre-sent", type=int, default=20, help="staff who mass-messaged today")
    return parser


def run(args: argparse.Namespace, url: str) -> dict:
    control = httpx.Client(base_url=url, timeout=3600, trust_env=False)
    corp_data = control.post("/sim/corps", json={"name": "压测企业"}).raise_for_status().json()
    corpid = corp_data["corpid"]
    started = time.monotonic()
    added_at = int(time.time()) - 30 * 86400
    control.post(
        f"/sim/corps/{corpid}/groupmsg/bulk_seed",
        json={
            "staff": args.staff,
            "customers": args.customers,
            "shared_every": args.shared_every,
            "prefix": PREFIX,
            "added_at": added_at,
        },
    ).raise_for_status()
    _log(f"wecomsim seeded in {time.monotonic() - started:.1f}s")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qike.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from qike.core import services as core_services

    corp = core_services.create_corp(
        corpid=corpid, secret=corp_data["secret"], api_base_url=url, name="压测企业"
    )
    started = time.monotonic()
    _seed_qike(corp, args, added_at)
    _log(f"Qike seeded in {time.monotonic() - started:.1f}s")
    presend = _pre_send(control, corpid, args)
    _log(f"{presend} customers already received a mass message today")
    return _measure(corp, control, args, presend)


def _seed_qike(corp, args: argparse.Namespace, added_at: int) -> None:
    """The same corp in Qike's tables, written in bulk (as a full sync would leave it)."""
    import datetime as dt

    from qike.customers.models import Customer, FollowRelation
    from qike.org.models import Staff

    since = dt.datetime.fromtimestamp(added_at, tz=dt.UTC)
    Staff.objects.bulk_create(
        [
            Staff(corp=corp, userid=f"{PREFIX}u{i:05d}", name=f"成员{i}", status=1)
            for i in range(args.staff)
        ],
        batch_size=5000,
    )
    staff = dict(Staff.objects.filter(corp=corp).values_list("userid", "pk"))
    batch = 50_000
    for start in range(0, args.customers, batch):
        stop = min(start + batch, args.customers)
        Customer.objects.bulk_create(
            [
                Customer(corp=corp, external_userid=f"wm{PREFIX}{j:09d}", name=f"客户{j}")
                for j in range(start, stop)
            ],
            batch_size=5000,
        )
        ids = dict(
            Customer.objects.filter(
                corp=corp,
                external_userid__gte=f"wm{PREFIX}{start:09d}",
                external_userid__lt=f"wm{PREFIX}{stop:09d}",
            ).values_list("external_userid", "pk")
        )
        relations = []
        for j in range(start, stop):
            customer_id = ids[f"wm{PREFIX}{j:09d}"]
            first = staff[f"{PREFIX}u{j % args.staff:05d}"]
            relations.append(
                FollowRelation(corp=corp, customer_id=customer_id, staff_id=first, added_at=since)
            )
            if args.shared_every and j % args.shared_every == 0:
                second = staff[f"{PREFIX}u{(j + 1) % args.staff:05d}"]
                relations.append(
                    FollowRelation(
                        corp=corp,
                        customer_id=customer_id,
                        staff_id=second,
                        added_at=since + dt.timedelta(seconds=1),
                    )
                )
        FollowRelation.objects.bulk_create(relations, batch_size=5000)


def _pre_send(control: httpx.Client, corpid: str, args: argparse.Namespace) -> int:
    """The first staff members send their own mass message to all their customers (WeCom
    counts it towards today's limit; Qike learns it through get_groupmsg_list_v2)."""
    reached = 0
    for i in range(min(args.pre_sent, args.staff)):
        exts = [f"wm{PREFIX}{j:09d}" for j in range(i, args.customers, args.staff)]
        if not exts:
            continue
        answer = control.post(
            f"/sim/corps/{corpid}/groupmsg/personal",
            json={"userid": f"{PREFIX}u{i:05d}", "external_userids": exts, "text": "早安"},
        ).raise_for_status()
        reached += answer.json()["sent"]
    return reached


def _count_calls() -> Counter:
    """Every WeCom request Qike makes, by path (the client's one exit)."""
    from qike.wecom.client import WeComClient

    calls: Counter = Counter()
    original = WeComClient._send

    def counted(self, method, path, params, body):
        calls[path] += 1
        answer = original(self, method, path, params, body)
        if answer.get("errcode"):
            calls[f"error {answer.get('errcode')} {path}"] += 1
        return answer

    WeComClient._send = counted
    return calls


def _measure(corp, control: httpx.Client, args: argparse.Namespace, presend: int) -> dict:
    from qike.campaigns import services
    from qike.campaigns.models import CampaignMessage, Delivery, MessageStatus
    from qike.core import clock
    from qike.org.access import SUPER_ADMIN, Access
    from qike.segments.models import Segment

    access = Access(corp=corp, role=SUPER_ADMIN)
    segment = Segment.objects.create(
        corp=corp, name="全部客户", rules={}, created_at=clock.now(), updated_at=clock.now()
    )
    calls = _count_calls()
    started = time.monotonic()
    campaign = services.create(
        access=access,
        draft=services.Draft(title="双十一", text="双十一特惠，点此查看", segment_id=segment.pk),
    )
    created = time.monotonic()
    # create() enqueued the dispatch job; run it here, in the measured process.
    services.dispatch(campaign_id=campaign.pk)
    finished = time.monotonic()
    campaign.refresh_from_db()
    stats = control.get(f"/sim/corps/{corp.corpid}/groupmsg/stats").raise_for_status().json()
    failed_messages = CampaignMessage.objects.filter(
        campaign=campaign, status=MessageStatus.FAILED
    ).count()
    sent_twice_qike = (
        Delivery.objects.filter(campaign=campaign, message__isnull=False)
        .values("external_userid")
        .annotate(n=django_count())
        .filter(n__gt=1)
        .count()
    )
    errors = sum(n for path, n in calls.items() if path.startswith("error"))
    return {
        "create": created - started,
        "dispatch": finished - created,
        "wall": finished - started,
        "calls": dict(calls),
        "plan": campaign.plan,
        "status": campaign.status,
        "stats": stats,
        "presend": presend,
        "breaches": {
            "calls over 10,000 ids": int(stats["max_recipients"] > 10_000),
            "customers sent twice": stats["customers_twice"] + sent_twice_qike,
            "customers over the limit": stats["customers_over_limit"],
            "WeCom errors": errors + failed_messages,
        },
    }


def django_count():
    from django.db.models import Count

    return Count("id")


def _log(text: str) -> None:
    print(f"[fanout] {text}", file=sys.stderr, flush=True)


def _print(args: argparse.Namespace, r: dict) -> None:
    breaches = sum(r["breaches"].values())
    print(f"fanout: {args.customers:,} customers, {args.staff:,} staff")
    print(f"  plan        {r['plan']}")
    print(f"  campaign    {r['status']}")
    print(f"  pre-flight+create {r['create']:.1f}s   dispatch {r['dispatch']:.1f}s")
    print(
        f"  wall time   {r['wall']:.1f}s  (goal ≤ {GOAL_SECONDS:.0f}s, ratio {GOAL_SECONDS / r['wall']:.2f})"
    )
    print(
        f"  WeCom calls {sum(n for p, n in r['calls'].items() if not p.startswith('error'))}: {r['calls']}"
    )
    print(f"  wecomsim    {r['stats']}")
    for name, n in r["breaches"].items():
        print(f"  breach      {name}: {n}")
    verdict = "OK" if breaches == 0 and r["wall"] <= GOAL_SECONDS else "MISSED"
    print(f"  result      {verdict} ({breaches} breaches)")


if __name__ == "__main__":
    main()
