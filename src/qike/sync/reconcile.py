"""`qike reconcile`: compare Qike with WeCom, report every difference, and repair them.

Callbacks can be lost (WeCom gives up after 3 retries; a Qike outage outlasts them), so Qike never
relies on them alone: reconcile reads WeCom in full, as sync does, and compares before it writes.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from qike.core.models import Corp
from qike.core.services import client_for
from qike.customers import services as customers
from qike.customers.models import Customer, FollowRelation, RelationStatus
from qike.sync.full import FOLLOWERS_PER_BATCH, SyncReport, sync_org_and_tags
from qike.sync.progress import Progress, SilentProgress
from qike.tags.models import TagAssignment

MAX_LISTED = 200  # differences listed one by one; the counts cover all of them


@dataclass(frozen=True)
class Difference:
    kind: str  # missing_customer | customer_changed | missing_relation | relation_changed | ...
    external_userid: str
    userid: str = ""
    detail: str = ""


@dataclass
class ReconcileReport:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    differences: list[Difference] = field(default_factory=list)
    repaired: bool = False
    seconds: float = 0.0

    def add(self, difference: Difference) -> None:
        self.counts[difference.kind] += 1
        if len(self.differences) < MAX_LISTED:
            self.differences.append(difference)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict:
        return {
            "differences": self.total,
            "by_kind": dict(self.counts),
            "repaired": self.repaired,
            "seconds": round(self.seconds, 2),
            "examples": [d.__dict__ for d in self.differences],
        }


def _compare_page(corp: Corp, contacts: list[customers.Contact], report: ReconcileReport) -> None:
    ids = [c.external_userid for c in contacts]
    stored = {
        c.external_userid: c for c in Customer.objects.filter(corp=corp, external_userid__in=ids)
    }
    relations = {
        (r.customer.external_userid, r.staff.userid): r
        for r in FollowRelation.objects.filter(
            corp=corp, customer__external_userid__in=ids
        ).select_related("customer", "staff")
    }
    tags: dict[int, set[str]] = defaultdict(set)
    for relation_id, wecom_id in TagAssignment.objects.filter(
        relation__in=[r.pk for r in relations.values()]
    ).values_list("relation_id", "tag__wecom_id"):
        tags[relation_id].add(wecom_id)
    for contact in contacts:
        customer = stored.get(contact.external_userid)
        if customer is None:
            report.add(Difference("missing_customer", contact.external_userid))
            continue  # its relations are missing too; one difference says it
        else:
            changed = [k for k, v in contact.values.items() if getattr(customer, k) != v]
            if changed:
                report.add(
                    Difference("customer_changed", contact.external_userid, "", ",".join(changed))
                )
        for follow in contact.follows:
            _compare_relation(contact, follow, relations, tags, report)


def _compare_relation(
    contact: customers.Contact,
    follow: customers.Follow,
    relations: dict[tuple[str, str], FollowRelation],
    tags: dict[int, set[str]],
    report: ReconcileReport,
) -> None:
    relation = relations.get((contact.external_userid, follow.userid))
    if relation is None:
        report.add(Difference("missing_relation", contact.external_userid, follow.userid))
        return
    if relation.status == RelationStatus.DELETED_BY_STAFF:
        report.add(Difference("relation_deleted_in_qike", contact.external_userid, follow.userid))
    changed = [k for k, v in follow.values.items() if getattr(relation, k) != v]
    if changed:
        report.add(
            Difference(
                "relation_changed", contact.external_userid, follow.userid, ",".join(changed)
            )
        )
    if tags[relation.pk] != set(follow.tag_ids):
        report.add(Difference("tags_differ", contact.external_userid, follow.userid))


def reconcile(
    corp: Corp, *, repair: bool = True, progress: Progress | None = None
) -> ReconcileReport:
    progress = progress or SilentProgress()
    started = time.monotonic()
    report = ReconcileReport(repaired=repair)
    sync_report = SyncReport()
    client = client_for(corp)
    try:
        if repair:
            sync_org_and_tags(corp, client, sync_report, progress)
        followers = client.get_follow_user_list()
        progress.stage("reconcile", total=len(followers))
        for start in range(0, len(followers), FOLLOWERS_PER_BATCH):
            chunk = followers[start : start + FOLLOWERS_PER_BATCH]
            for page in client.iter_batch_get_by_user(chunk, limit=100):
                contacts = customers.contacts_from_batch(page)
                _compare_page(corp, contacts, report)
                if repair:
                    customers.apply_contacts(
                        corp=corp, contacts=contacts, revive_staff_deleted=True
                    )
                # After the repair, so relations it just created count as seen.
                _remember_seen(corp, contacts, sync_report)
            progress.advance(len(chunk))
        _report_extra_relations(corp, sync_report.seen_relations, report, repair)
    finally:
        client.close()
        progress.finish()
    report.seconds = time.monotonic() - started
    return report


def _remember_seen(corp: Corp, contacts: list[customers.Contact], sync_report: SyncReport) -> None:
    pairs = {(c.external_userid, f.userid) for c in contacts for f in c.follows}
    for pk, ext, userid in FollowRelation.objects.filter(
        corp=corp, customer__external_userid__in=[c.external_userid for c in contacts]
    ).values_list("pk", "customer__external_userid", "staff__userid"):
        if (ext, userid) in pairs:
            sync_report.seen_relations.add(pk)


def _report_extra_relations(
    corp: Corp, seen: set[int], report: ReconcileReport, repair: bool
) -> None:
    """Relations active in Qike that WeCom no longer lists: the member deleted the customer."""
    active = FollowRelation.objects.filter(corp=corp, status=RelationStatus.ACTIVE)
    extra = [
        (pk, ext, userid)
        for pk, ext, userid in active.values_list(
            "pk", "customer__external_userid", "staff__userid"
        ).iterator()
        if pk not in seen
    ]
    for _pk, ext, userid in extra:
        report.add(Difference("relation_gone_in_wecom", ext, userid))
    if repair and extra:
        customers.mark_missing_relations(corp=corp, seen=seen)
