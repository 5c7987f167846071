"""Phone tasks: import (preview, confirm), assignment with a daily cap, daily lists as WeCom app
messages, completion when the member adds the customer, progress. One transaction per change."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qike.core import clock
from qike.core.models import Corp
from qike.core.services import client_for
from qike.customers.mobiles import mobile_hash
from qike.customers.models import FollowRelation, RelationMobile, RelationStatus, TimelineKind
from qike.customers.services import add_timeline
from qike.org.access import Access, Action
from qike.org.models import Department, Staff, StaffStatus
from qike.phonetasks import imports
from qike.phonetasks.models import (
    DEFAULT_DAILY_CAP,
    MAX_DAILY_CAP,
    OPEN_STATUSES,
    SCHEDULED_STATUSES,
    AssignMode,
    Batch,
    DailyList,
    ImportPreview,
    ListStatus,
    MatchedBy,
    Task,
    TaskStatus,
)
from qike.tags.models import Tag, TagType
from qike.tags.services import apply_auto_tags
from qike.wecom.errors import WeComError

log = logging.getLogger("qike.phonetasks")

PREVIEW_HOURS = 24  # an unconfirmed upload is forgotten after this
SEND_HOUR = 9  # daily lists go out from 09:00 Asia/Shanghai, on Qike's clock
MAX_SEND_ATTEMPTS = 3  # a list WeCom refused is tried again on the next runs, this many times
TEXT_LIMIT = 2000  # bytes per app message; WeCom truncates text past 2048
MAX_PARTS = 5  # app messages per member and day (WeCom allows 30 a minute per member)
PHONE_SEARCH_ADD_WAY = 2  # WeCom add_way: the member searched the customer's phone number
# A phone-search add whose customer only matches by name must not be older than its task; WeCom's
# and Qike's clocks may differ a little.
CLOCK_SLACK = dt.timedelta(minutes=10)
CHUNK = 500  # ids per IN (…) query


# --- who may ---------------------------------------------------------------------------------


def may_manage(access: Access) -> bool:
    """Import, assign, cancel, send now: corp admins and operations."""
    return access.corp_wide and access.can(Action.VIEW_CUSTOMERS)


def require_manage(access: Access) -> None:
    if not may_manage(access):
        raise PermissionDenied(_("Only corp admins and operations may manage phone tasks."))


def tasks_in_scope(access: Access) -> QuerySet[Task]:
    """Tasks of members the user may see: staff their own, managers their departments', corp-wide
    roles all of the corp's."""
    access.require(Action.VIEW_CUSTOMERS)
    return Task.objects.filter(access.staff_filter("staff__"), corp=access.corp)


def local_today() -> dt.date:
    return timezone.localtime(clock.now()).date()


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- import: upload and preview --------------------------------------------------------------


@dataclass(frozen=True)
class ImportOptions:
    """What the user chose with the file. Staff by WeCom UserID, departments by WeCom id, tags by
    WeCom tag id."""

    name: str
    assign_mode: str = AssignMode.EVEN
    daily_cap: int = DEFAULT_DAILY_CAP
    userids: tuple[str, ...] = ()
    department_ids: tuple[int, ...] = ()
    tag_ids: tuple[str, ...] = ()

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "assign_mode": self.assign_mode,
            "daily_cap": self.daily_cap,
            "userids": list(self.userids),
            "department_ids": list(self.department_ids),
            "tag_ids": list(self.tag_ids),
        }

    @classmethod
    def from_json(cls, data: dict) -> ImportOptions:
        return cls(
            name=data["name"],
            assign_mode=data["assign_mode"],
            daily_cap=int(data["daily_cap"]),
            userids=tuple(data.get("userids") or ()),
            department_ids=tuple(int(d) for d in data.get("department_ids") or ()),
            tag_ids=tuple(data.get("tag_ids") or ()),
        )


def _pool(corp: Corp, options: ImportOptions) -> list[Staff]:
    """Active members chosen directly or through a department (sub-departments included), in
    UserID order, so turns are stable."""
    userids = sorted({u.strip() for u in options.userids if u.strip()})
    wanted = set(options.department_ids)
    departments = list(Department.objects.filter(corp=corp, wecom_id__in=wanted))
    unknown = wanted - {d.wecom_id for d in departments}
    if unknown:
        raise ValidationError(
            _("Unknown department ids: %(ids)s.") % {"ids": ", ".join(map(str, sorted(unknown)))}
        )
    chosen = Q(userid__in=userids)
    for department in departments:
        chosen |= Q(staffdepartment__department__path__startswith=department.path)
    pool = list(
        Staff.objects.filter(chosen, corp=corp, status=StaffStatus.ACTIVE)
        .distinct()
        .order_by("userid")
    )
    missing = set(userids) - {s.userid for s in pool}
    if missing:
        raise ValidationError(
            _("No active staff member with UserID %(ids)s.") % {"ids": "、".join(sorted(missing))}
        )
    if not pool:
        raise ValidationError(_("Choose at least one active staff member or department."))
    return pool


def _tags(corp: Corp, options: ImportOptions) -> list[Tag]:
    wanted = set(options.tag_ids)
    tags = list(Tag.objects.filter(corp=corp, type=TagType.CORP, wecom_id__in=wanted))
    if len(tags) != len(wanted):
        raise ValidationError(_("Tags must be existing corp tags."))
    return tags


def _check_options(corp: Corp, options: ImportOptions) -> tuple[list[Staff], list[Tag]]:
    if not options.name.strip():
        raise ValidationError(_("Give the list a name."))
    if len(options.name.strip()) > 64:
        raise ValidationError(_("The name is longer than 64 characters."))
    if not 1 <= options.daily_cap <= MAX_DAILY_CAP:
        raise ValidationError(
            _("The daily cap must be between 1 and %(max)d.") % {"max": MAX_DAILY_CAP}
        )
    if options.assign_mode == AssignMode.EVEN:
        pool = _pool(corp, options)
    elif options.assign_mode == AssignMode.BY_COLUMN:
        pool = []
    else:
        raise ValidationError(_("Unknown assignment."))
    return pool, _tags(corp, options)


class _StaffByText:
    """The staff column: a UserID (case-insensitive, as WeCom) or a member's name."""

    def __init__(self, corp: Corp) -> None:
        self.by_userid: dict[str, Staff] = {}
        self.by_name: dict[str, list[Staff]] = defaultdict(list)
        for staff in Staff.objects.filter(corp=corp):
            self.by_userid[staff.userid.lower()] = staff
            if staff.name:
                self.by_name[staff.name].append(staff)

    def find(self, text: str) -> tuple[Staff | None, str]:
        if not text:
            return None, _("No staff member in the staff column.")
        staff = self.by_userid.get(text.lower())
        if staff is None:
            named = self.by_name.get(text, [])
            if len(named) > 1:
                return None, _(
                    "Several staff members are named “%(name)s”: write the UserID instead."
                ) % {"name": text}
            staff = named[0] if named else None
        if staff is None:
            return None, _("Unknown staff member “%(name)s”.") % {"name": text}
        if staff.status != StaffStatus.ACTIVE:
            return None, _("“%(name)s” is not an active staff member.") % {"name": text}
        return staff, ""


def _open_phone_hashes(corp: Corp, hashes: list[str]) -> dict[str, str]:
    """phone hash → name of the batch that already has an open task for it."""
    found: dict[str, str] = {}
    for chunk in _chunks(hashes):
        found.update(
            Task.objects.filter(corp=corp, status__in=OPEN_STATUSES, phone_hash__in=chunk)
            .values_list("phone_hash", "batch__name")
            .iterator()
        )
    return found


def _checked_rows(corp: Corp, parsed: imports.Parsed, options: ImportOptions):
    """The rows that may become tasks, and the problems of the others (by row number)."""
    problems = [{"row": p.row, "reason": p.reason} for p in parsed.problems]
    hashes = {row.number: mobile_hash(row.phone) for row in parsed.rows}
    open_tasks = _open_phone_hashes(corp, list(set(hashes.values())))
    staff = _StaffByText(corp) if options.assign_mode == AssignMode.BY_COLUMN else None
    first_seen: dict[str, int] = {}
    valid: list[dict] = []
    for row in parsed.rows:
        digest = hashes[row.number]
        reason = ""
        member = None
        if digest in first_seen:
            reason = _("The same number as row %(n)d.") % {"n": first_seen[digest]}
        elif digest in open_tasks:
            reason = _("Already an open task in the list “%(batch)s”.") % {
                "batch": open_tasks[digest]
            }
        elif staff is not None:
            member, reason = staff.find(row.staff)
        first_seen.setdefault(digest, row.number)
        if reason:
            problems.append({"row": row.number, "reason": reason})
            continue
        valid.append(
            {
                "row": row.number,
                "name": row.name,
                "phone": row.phone,
                "staff_id": member.pk if member else None,
                "extra": row.extra,
            }
        )
    problems.sort(key=lambda p: p["row"])
    return valid, problems


def upload(*, access: Access, options: ImportOptions, filename: str, data: bytes) -> ImportPreview:
    """Read and check the file; keep the result (valid rows and bad rows) for the user to confirm.
    Nothing becomes a task here. A file that cannot be read raises ValidationError."""
    require_manage(access)
    corp = access.corp
    _check_options(corp, options)
    try:
        parsed = imports.parse(data, want_staff=options.assign_mode == AssignMode.BY_COLUMN)
    except imports.BadFile as exc:
        raise ValidationError(str(exc)) from exc
    valid, problems = _checked_rows(corp, parsed, options)
    now = clock.now()
    with transaction.atomic():
        ImportPreview.objects.filter(corp=corp, expires_at__lte=now).delete()
        return ImportPreview.objects.create(
            corp=corp,
            created_by_id=access.user_id,
            filename=(filename or "")[:255],
            options=options.as_json(),
            columns={**parsed.columns, "extra": parsed.extra_headers},
            rows_json=json.dumps(valid, ensure_ascii=False),
            problems_json=json.dumps(problems, ensure_ascii=False),
            valid_count=len(valid),
            problem_count=len(problems),
            created_at=now,
            expires_at=now + dt.timedelta(hours=PREVIEW_HOURS),
        )


def get_preview(*, access: Access, preview_id: int) -> ImportPreview:
    require_manage(access)
    preview = ImportPreview.objects.filter(
        corp=access.corp, pk=preview_id, expires_at__gt=clock.now()
    ).first()
    if preview is None:
        raise ValidationError(_("This upload is gone (confirmed, discarded or expired)."))
    return preview


def discard(*, access: Access, preview_id: int) -> None:
    require_manage(access)
    ImportPreview.objects.filter(corp=access.corp, pk=preview_id).delete()


def forget_expired_previews() -> int:
    deleted, _by_model = ImportPreview.objects.filter(expires_at__lte=clock.now()).delete()
    return deleted


# --- import: confirm and assign --------------------------------------------------------------


@dataclass
class Confirmed:
    batch: Batch
    tasks: int  # to add
    already: int  # phones the assigned member already has as a customer
    skipped: int  # rows that turned bad since the preview (now an open task elsewhere, staff left)


def _start_days(corp: Corp, staff_ids: set[int], today: dt.date) -> dict[int, dt.date]:
    """A member whose list for today has gone out gets new tasks from tomorrow on."""
    sent_today = set(
        DailyList.objects.filter(corp=corp, day=today, staff_id__in=staff_ids)
        .exclude(status=ListStatus.FAILED)
        .values_list("staff_id", flat=True)
    )
    tomorrow = today + dt.timedelta(days=1)
    return {pk: tomorrow if pk in sent_today else today for pk in staff_ids}


def _loads(corp: Corp, staff_ids: set[int], today: dt.date) -> dict[tuple[int, dt.date], int]:
    """Adds already planned per member and day (other lists count against the same cap)."""
    rows = (
        Task.objects.filter(
            corp=corp,
            staff_id__in=staff_ids,
            scheduled_on__gte=today,
            status__in=SCHEDULED_STATUSES,
        )
        .values("staff_id", "scheduled_on")
        .annotate(n=Count("pk"))
    )
    return {(r["staff_id"], r["scheduled_on"]): r["n"] for r in rows}


def _known_customers(corp: Corp, hashes: list[str], staff_ids: set[int]) -> dict[str, dict]:
    """phone hash → {staff id: relation id} for members who already have that phone as an active
    customer (by remark mobile)."""
    known: dict[str, dict[int, int]] = defaultdict(dict)
    for chunk in _chunks(hashes):
        rows = RelationMobile.objects.filter(
            corp=corp,
            mobile_hash__in=chunk,
            relation__staff_id__in=staff_ids,
            relation__status=RelationStatus.ACTIVE,
        ).values_list("mobile_hash", "relation__staff_id", "relation_id")
        for digest, staff_id, relation_id in rows:
            known[digest].setdefault(staff_id, relation_id)
    return known


class _Calendar:
    """Days with room per member: the first day from the member's start with fewer than `cap`."""

    def __init__(self, start: dict[int, dt.date], loads: dict, cap: int) -> None:
        self.next_day = dict(start)
        self.loads = loads
        self.cap = cap

    def take(self, staff_id: int) -> dt.date:
        day = self.next_day[staff_id]
        while self.loads.get((staff_id, day), 0) >= self.cap:
            day += dt.timedelta(days=1)
        self.next_day[staff_id] = day  # loads only grow: never look before this day again
        self.loads[(staff_id, day)] = self.loads.get((staff_id, day), 0) + 1
        return day


def _plan(
    corp: Corp, batch: Batch, rows: list[dict], pool: list[Staff], today: dt.date
) -> tuple[list[Task], int]:
    """Tasks for the rows: a member each (evenly in turn, or the row's), "already a customer" when
    one of the candidates has the phone, else the first day with room under the cap."""
    hashes = {row["row"]: mobile_hash(row["phone"]) for row in rows}
    open_now = _open_phone_hashes(corp, list(hashes.values()))
    if batch.assign_mode == AssignMode.EVEN:
        candidates = [s.pk for s in pool]
    else:
        wanted = {row["staff_id"] for row in rows}
        candidates = list(
            Staff.objects.filter(corp=corp, pk__in=wanted, status=StaffStatus.ACTIVE)
            .order_by("userid")
            .values_list("pk", flat=True)
        )
    candidate_set = set(candidates)
    known = _known_customers(corp, list(set(hashes.values())), candidate_set)
    calendar = _Calendar(
        _start_days(corp, candidate_set, today), _loads(corp, candidate_set, today), batch.daily_cap
    )
    now = clock.now()
    tasks: list[Task] = []
    skipped = turn = 0
    for row in rows:
        digest = hashes[row["row"]]
        owners = known.get(digest, {})
        if digest in open_now:
            skipped += 1
            continue
        if batch.assign_mode == AssignMode.BY_COLUMN:
            staff_id = row["staff_id"]
            if staff_id not in candidate_set:
                skipped += 1
                continue
        else:
            owner = next((pk for pk in candidates if pk in owners), None)
            staff_id = owner or candidates[turn % len(candidates)]
            turn += owner is None
        task = Task(
            corp=corp,
            batch=batch,
            row_number=row["row"],
            name=row["name"],
            phone=row["phone"],
            phone_hash=digest,
            extra_json=json.dumps(row["extra"], ensure_ascii=False) if row["extra"] else "",
            staff_id=staff_id,
            created_at=now,
        )
        if staff_id in owners:
            task.status = TaskStatus.ALREADY_CUSTOMER
            task.relation_id = owners[staff_id]
        else:
            task.scheduled_on = calendar.take(staff_id)
        tasks.append(task)
    return tasks, skipped


def confirm(*, access: Access, preview_id: int) -> Confirmed:
    """Turn the preview's valid rows into a batch of tasks, all at once; the preview is gone after.
    The checks run again: a phone that became an open task meanwhile is skipped."""
    require_manage(access)
    corp = access.corp
    with transaction.atomic():
        preview = (
            ImportPreview.objects.select_for_update()
            .filter(corp=corp, pk=preview_id, expires_at__gt=clock.now())
            .first()
        )
        if preview is None:
            raise ValidationError(_("This upload is gone (confirmed, discarded or expired)."))
        options = ImportOptions.from_json(preview.options)
        pool, tags = _check_options(corp, options)
        rows = preview.rows
        if not rows:
            raise ValidationError(_("The file has no valid rows to import."))
        batch = Batch.objects.create(
            corp=corp,
            name=options.name.strip(),
            filename=preview.filename,
            uploaded_by_id=access.user_id,
            assign_mode=options.assign_mode,
            daily_cap=options.daily_cap,
            created_at=clock.now(),
        )
        batch.tags.set(tags)
        tasks, skipped = _plan(corp, batch, rows, pool, local_today())
        if not tasks:
            raise ValidationError(_("None of the rows can be imported any more."))
        Task.objects.bulk_create(tasks, batch_size=CHUNK)
        preview.delete()
    already = sum(t.status == TaskStatus.ALREADY_CUSTOMER for t in tasks)
    return Confirmed(batch, len(tasks) - already, already, skipped)


def cancel_batch(*, access: Access, batch: Batch) -> int:
    """Cancel the batch's open tasks (added ones stay added). Returns how many were cancelled."""
    require_manage(access)
    if batch.corp_id != access.corp.pk:
        raise PermissionDenied
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        cancelled = Task.objects.filter(batch=batch, status__in=OPEN_STATUSES).update(
            status=TaskStatus.CANCELLED
        )
        if batch.cancelled_at is None:
            batch.cancelled_at = clock.now()
            batch.save(update_fields=["cancelled_at"])
    return cancelled


# --- completion ------------------------------------------------------------------------------


def _complete(task_id: int, relation: FollowRelation, how: str) -> bool:
    with transaction.atomic():
        task = (
            Task.objects.select_for_update()
            .select_related("batch")
            .filter(pk=task_id, status__in=OPEN_STATUSES)
            .first()
        )
        if task is None:
            return False
        task.status = TaskStatus.ADDED
        task.completed_at = clock.now()
        task.relation = relation
        task.matched_by = how
        task.save(update_fields=["status", "completed_at", "relation", "matched_by"])
        add_timeline(
            corp=relation.corp,
            customer_id=relation.customer_id,
            staff_id=relation.staff_id,
            kind=TimelineKind.CHANNEL,
            occurred_at=task.completed_at,
            data={
                "kind": "phone_task",
                "label": task.batch.name,
                "batch_id": task.batch_id,
                "task_id": task.pk,
            },
        )
    return True


def _matching_tasks(relation: FollowRelation) -> tuple[list[int], str]:
    open_tasks = Task.objects.filter(
        corp_id=relation.corp_id, staff_id=relation.staff_id, status__in=OPEN_STATUSES
    )
    hashes = list(relation.mobile_hashes.values_list("mobile_hash", flat=True))
    if hashes:
        by_phone = list(open_tasks.filter(phone_hash__in=hashes).values_list("pk", flat=True))
        if by_phone:
            return by_phone, MatchedBy.REMARK_MOBILE
    name = relation.customer.name
    if relation.add_way == PHONE_SEARCH_ADD_WAY and name:
        named = list(
            open_tasks.filter(
                name=name, created_at__lte=relation.added_at + CLOCK_SLACK
            ).values_list("pk", flat=True)[:2]
        )
        if len(named) == 1:
            return named, MatchedBy.NAME
    return [], ""


def complete_for_relation(*, corp: Corp, external_userid: str, userid: str) -> list[int]:
    """The member added (or edited) this customer: complete the member's open task whose phone is
    one of the relation's remark mobiles; for an add by phone search without a matching remark
    mobile, the one open task of the member with the customer's name, if exactly one. Then the
    batch's tags. Running again changes nothing (tags that failed in WeCom are tried again)."""
    relation = (
        FollowRelation.objects.filter(
            corp=corp, customer__external_userid=external_userid, staff__userid=userid
        )
        .select_related("customer", "staff", "corp")
        .first()
    )
    if relation is None or relation.status != RelationStatus.ACTIVE or relation.is_half:
        return []
    task_ids, how = _matching_tasks(relation)
    done = [pk for pk in task_ids if _complete(pk, relation, how)]
    _apply_batch_tags(corp, relation)
    return done


def _apply_batch_tags(corp: Corp, relation: FollowRelation) -> None:
    batches = Batch.objects.filter(
        tasks__relation=relation, tasks__status=TaskStatus.ADDED, tags__isnull=False
    ).distinct()
    for batch in batches:
        apply_auto_tags(corp=corp, relation=relation, tags=list(batch.tags.all()), actor=batch.name)


def complete_known(*, corp: Corp, staff_id: int) -> int:
    """Open tasks of a member whose phone a customer of theirs already has as a remark mobile
    (learnt from a sync, or an edit WeCom sent no event for): complete them."""
    matches = (
        RelationMobile.objects.filter(
            corp=corp,
            relation__staff_id=staff_id,
            relation__status=RelationStatus.ACTIVE,
            mobile_hash__in=Task.objects.filter(
                corp=corp, staff_id=staff_id, status__in=OPEN_STATUSES
            ).values("phone_hash"),
        )
        .select_related("relation__customer", "relation__corp")
        .order_by("relation_id")
    )
    done = 0
    for match in matches:
        relation = match.relation
        task_ids = Task.objects.filter(
            corp=corp, staff_id=staff_id, status__in=OPEN_STATUSES, phone_hash=match.mobile_hash
        ).values_list("pk", flat=True)
        completed = sum(_complete(pk, relation, MatchedBy.REMARK_MOBILE) for pk in list(task_ids))
        if completed:
            done += completed
            try:
                _apply_batch_tags(corp, relation)
            except WeComError as exc:  # the task is done; the tags wait for the next event
                log.warning("phonetasks.tags_failed corp=%s errcode=%s", corp.corpid, exc.errcode)
    return done


# --- daily lists -----------------------------------------------------------------------------


def due_tasks(*, corp: Corp, staff_id: int, day: dt.date) -> QuerySet[Task]:
    """A member's list for `day`: its tasks and earlier ones still open, oldest first."""
    return (
        Task.objects.filter(
            corp=corp, staff_id=staff_id, status__in=OPEN_STATUSES, scheduled_on__lte=day
        )
        .select_related("batch")
        .order_by("scheduled_on", "batch_id", "row_number")
    )


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def mine_url() -> str:
    return settings.QIKE_PUBLIC_URL + reverse("console:phone_tasks_mine")


def list_texts(tasks: list[Task], day: dt.date) -> tuple[list[str], int]:
    """The app messages of one member's list (each under WeCom's size limit) and how many tasks
    they name; past MAX_PARTS the rest is left to the console page."""
    earlier = sum(t.scheduled_on < day for t in tasks)
    head = _("Phone tasks for %(day)s: %(n)d to add.") % {"day": day.isoformat(), "n": len(tasks)}
    if earlier:
        head += " " + _("%(n)d of them are from earlier days.") % {"n": earlier}
    head += "\n" + _("In WeCom, search each number (Add customer → search phone) and add them:")
    footer = _("Your list and progress: %(url)s") % {"url": mine_url()}
    lines = [f"{i}. {t.name or '-'} {t.phone}" for i, t in enumerate(tasks, start=1)]
    budget = TEXT_LIMIT - _utf8(head) - _utf8(footer) - 64  # room for "(2/3)" and "… n more"
    parts: list[list[str]] = [[]]
    used = 0
    for line in lines:
        size = _utf8(line) + 1
        if parts[-1] and used + size > budget:
            if len(parts) == MAX_PARTS:
                break
            parts.append([])
            used = 0
        parts[-1].append(line)
        used += size
    named = sum(len(p) for p in parts)
    texts = []
    for number, part in enumerate(parts, start=1):
        top = head if number == 1 else ""
        if len(parts) > 1:
            top = f"{top}\n({number}/{len(parts)})".strip()
        bottom = footer
        if number == len(parts) and named < len(tasks):
            more = _("… and %(n)d more: see the page below.") % {"n": len(tasks) - named}
            bottom = f"{more}\n{footer}"
        texts.append("\n".join([top, *part, bottom]))
    return texts, named


def _claim(corp: Corp, staff_id: int, day: dt.date) -> DailyList | None:
    """This worker's right to send the member's list for the day: at most once, except that a list
    WeCom refused outright may be tried again a few times."""
    now = clock.now()
    with transaction.atomic():
        row, created = DailyList.objects.get_or_create(
            staff_id=staff_id,
            day=day,
            defaults={"corp": corp, "status": ListStatus.SENDING, "attempts": 1, "created_at": now},
        )
    if created:
        return row
    if row.status != ListStatus.FAILED or row.attempts >= MAX_SEND_ATTEMPTS:
        return None
    took = DailyList.objects.filter(
        pk=row.pk, status=ListStatus.FAILED, attempts=row.attempts
    ).update(status=ListStatus.SENDING, attempts=F("attempts") + 1, error="")
    if not took:
        return None
    row.refresh_from_db()
    return row


def _finish_list(row: DailyList, status: str, *, error: str = "", **fields) -> DailyList:
    row.status = status
    row.error = error[:255]
    for key, value in fields.items():
        setattr(row, key, value)
    row.save()
    return row


def send_list(*, corp: Corp, staff: Staff, day: dt.date) -> DailyList | None:
    """Send the member their list for `day` as app messages, once. None when it was sent (or is
    being sent) already, or when there is nothing to send."""
    row = _claim(corp, staff.pk, day)
    if row is None:
        return None
    try:
        complete_known(corp=corp, staff_id=staff.pk)
        tasks = list(due_tasks(corp=corp, staff_id=staff.pk, day=day))
        texts, named = list_texts(tasks, day) if tasks else ([], 0)
    except Exception as exc:  # recorded, so the next run may try again
        _finish_list(row, ListStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    if not tasks:
        row.delete()  # nothing today (yet): a list can still go out if tasks arrive later
        return None
    if corp.agent_id is None:
        return _finish_list(row, ListStatus.FAILED, error=_("The corp has no app agent id."))
    msgids: list[str] = []
    error = ""
    try:
        with client_for(corp) as client:
            for text in texts:
                answer = client.send_app_message(
                    agentid=corp.agent_id, touser=[staff.userid], content=text
                )
                msgids.append(str(answer.get("msgid", "")))
    except WeComError as exc:
        error = f"{exc.errcode} {exc.errmsg}"
        log.warning("phonetasks.list_failed corp=%s staff=%s %s", corp.corpid, staff.userid, error)
    if not msgids:
        return _finish_list(row, ListStatus.FAILED, error=error)
    sent_ids = [t.pk for t in tasks[:named]] if len(msgids) == len(texts) else []
    if sent_ids:
        Task.objects.filter(pk__in=sent_ids, status__in=OPEN_STATUSES).update(
            status=TaskStatus.SENT, sent_on=day
        )
    return _finish_list(
        row,
        ListStatus.SENT,
        error=error,
        task_count=named,
        parts=len(msgids),
        msgids=msgids,
        sent_at=clock.now(),
    )


def send_lists(*, corp: Corp, day: dt.date) -> int:
    """Every active member with open tasks due by `day` gets their list, once. One member's WeCom
    trouble does not stop the others. Returns the lists sent now."""
    staff = Staff.objects.filter(
        corp=corp,
        status=StaffStatus.ACTIVE,
        pk__in=Task.objects.filter(
            corp=corp, status__in=OPEN_STATUSES, scheduled_on__lte=day
        ).values("staff_id"),
    ).order_by("userid")
    sent = 0
    for member in staff:
        try:
            sent += send_list(corp=corp, staff=member, day=day) is not None
        except Exception:
            log.exception("phonetasks.list_error corp=%s staff=%s", corp.corpid, member.userid)
    return sent


def send_due_lists() -> int:
    """The periodic job: from SEND_HOUR on (Asia/Shanghai, Qike's clock), today's lists of every
    corp that has not had them yet. Before that hour, nothing."""
    forget_expired_previews()
    local = timezone.localtime(clock.now())
    if local.hour < SEND_HOUR:
        return 0
    day = local.date()
    corps = Corp.objects.filter(
        is_active=True,
        pk__in=Task.objects.filter(status__in=OPEN_STATUSES, scheduled_on__lte=day).values(
            "corp_id"
        ),
    )
    return sum(send_lists(corp=corp, day=day) for corp in corps)


def send_lists_now(*, access: Access) -> int:
    """The console's "send today's lists now" (before 09:00, or after a late import)."""
    require_manage(access)
    return send_lists(corp=access.corp, day=local_today())


# --- progress --------------------------------------------------------------------------------


def progress_counts(prefix: str, day: dt.date, scope: Q | None = None) -> dict[str, Count]:
    """Count annotations over tasks (`prefix` "tasks__" from a batch, "" from tasks)."""

    def count(condition: Q) -> Count:
        return Count(f"{prefix}pk", filter=condition & scope if scope is not None else condition)

    status = f"{prefix}status"
    return {
        "total": count(~Q(**{status: TaskStatus.CANCELLED})),
        "added": count(Q(**{status: TaskStatus.ADDED})),
        "already": count(Q(**{status: TaskStatus.ALREADY_CUSTOMER})),
        "open": count(Q(**{f"{status}__in": OPEN_STATUSES})),
        "overdue": count(Q(**{f"{status}__in": OPEN_STATUSES, f"{prefix}scheduled_on__lt": day})),
        "cancelled": count(Q(**{status: TaskStatus.CANCELLED})),
    }


def batches_in_scope(access: Access) -> QuerySet[Batch]:
    """Batches with their progress, counted over the tasks the user may see: managers and staff
    see the batches holding tasks of members in their scope (staff: their own)."""
    access.require(Action.VIEW_CUSTOMERS)
    scope = access.staff_filter("tasks__staff__")
    batches = Batch.objects.filter(corp=access.corp)
    if not access.corp_wide:
        batches = batches.filter(pk__in=tasks_in_scope(access).values("batch_id"))
    return batches.annotate(**progress_counts("tasks__", local_today(), scope))


def staff_progress(tasks: QuerySet[Task]) -> list[dict]:
    return list(
        tasks.values("staff_id", "staff__userid", "staff__name")
        .annotate(**progress_counts("", local_today()))
        .order_by("staff__name", "staff__userid")
    )


def totals(tasks: QuerySet[Task]) -> dict[str, int]:
    return tasks.aggregate(**progress_counts("", local_today()))
