"""`qike sync`: read a corp's whole state from WeCom and make Qike equal to it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.db import connection

from qike.core.models import Corp
from qike.core.services import client_for
from qike.customers import services as customers
from qike.org import services as org
from qike.sync.progress import Progress, SilentProgress
from qike.tags import services as tags
from qike.wecom.client import WeComClient

# After loading this many relations, the database's planner statistics are stale enough to pick
# whole-table plans for the console's keyset pages (measured: page 51 at 100k took 430 ms on
# PostgreSQL before ANALYZE, under 1 ms after). Autovacuum would catch up later; sync does it now.
BULK_LOAD_ROWS = 10_000
ANALYZED_TABLES = (
    "customers_customer",
    "customers_followrelation",
    "customers_timelineentry",
    "tags_tagassignment",
)

# Fewer members per batch request than WeCom's 100 gives a finer progress bar for the same pages.
FOLLOWERS_PER_BATCH = 20


@dataclass
class SyncReport:
    departments: int = 0
    staff: int = 0
    tags: int = 0
    followers: int = 0
    customers: int = 0
    relations: int = 0
    relations_marked_deleted: int = 0
    seconds: float = 0.0
    seen_relations: set[int] = field(default_factory=set, repr=False)

    @property
    def customers_per_second(self) -> float:
        return self.customers / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {
            "departments": self.departments,
            "staff": self.staff,
            "tags": self.tags,
            "followers": self.followers,
            "customers": self.customers,
            "relations": self.relations,
            "relations_marked_deleted": self.relations_marked_deleted,
            "seconds": round(self.seconds, 2),
            "customers_per_second": round(self.customers_per_second, 1),
        }


def sync_org_and_tags(
    corp: Corp, client: WeComClient, report: SyncReport, progress: Progress
) -> None:
    progress.stage("departments")
    departments = client.department_list()
    report.departments = org.replace_departments(corp=corp, departments=departments)
    progress.advance(report.departments)
    progress.stage("staff")
    ids = {int(d["id"]) for d in departments}
    roots = [d for d in departments if int(d.get("parentid") or 0) not in ids]
    users: dict[str, dict] = {}
    for root in roots:
        for user in client.user_list(int(root["id"]), fetch_child=True):
            users[user["userid"]] = user
    report.staff = org.replace_staff(corp=corp, users=users.values())
    progress.advance(report.staff)
    progress.stage("tags")
    report.tags = tags.replace_corp_tags(corp=corp, groups=client.get_corp_tag_list())
    progress.advance(report.tags)


def sync_customers(corp: Corp, client: WeComClient, report: SyncReport, progress: Progress) -> None:
    followers = client.get_follow_user_list()
    report.followers = len(followers)
    progress.stage("customers", total=len(followers))
    seen_customers: set[str] = set()
    for start in range(0, len(followers), FOLLOWERS_PER_BATCH):
        chunk = followers[start : start + FOLLOWERS_PER_BATCH]
        for page in client.iter_batch_get_by_user(chunk, limit=100):
            contacts = customers.contacts_from_batch(page)
            result = customers.apply_contacts(
                corp=corp, contacts=contacts, revive_staff_deleted=True
            )
            report.seen_relations.update(result.relations)
            fresh = {c.external_userid for c in contacts} - seen_customers
            seen_customers |= fresh
            progress.advance(0, customers=len(fresh), relations=len(page))
        progress.advance(len(chunk))
    report.customers = len(seen_customers)
    report.relations = len(report.seen_relations)


def full_sync(corp: Corp, *, progress: Progress | None = None) -> SyncReport:
    progress = progress or SilentProgress()
    started = time.monotonic()
    report = SyncReport()
    client = client_for(corp)
    try:
        sync_org_and_tags(corp, client, report, progress)
        sync_customers(corp, client, report, progress)
        report.relations_marked_deleted = len(
            customers.mark_missing_relations(corp=corp, seen=report.seen_relations)
        )
        if report.relations >= BULK_LOAD_ROWS:
            refresh_planner_statistics()
    finally:
        client.close()
        progress.finish()
    report.seconds = time.monotonic() - started
    return report


def refresh_planner_statistics() -> None:
    with connection.cursor() as cursor:
        for table in ANALYZED_TABLES:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
