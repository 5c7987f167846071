"""Moment tasks (客户朋友圈): create (WeCom first), follow the job, each staff member's publish status,
the customers reached, comments and likes (onto the customers' timelines, once each); cancel.

WeCom's rules (doc 95094, 93333, 97612; wecomsim/moments.py): text ≤ 2000 characters; attachments
are up to 9 images, or 1 video, or 1 link, never mixed; text and attachments cannot both be empty.
add_moment_task is asynchronous: its jobid (valid 24 hours) is polled with get_moment_task_result
until status 3 gives the moment_id. cancel_moment_task stops the task for staff who have not
published; what was published stays, so stopping once everyone published has nothing to stop.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils.translation import gettext as _

from qike.audit.context import current_actor
from qike.audit.services import record
from qike.core import clock
from qike.core.models import Corp
from qike.core.services import client_for
from qike.customers.models import Customer, TimelineKind
from qike.customers.services import add_timeline
from qike.moments.models import (
    TEXT_MAX,
    InteractionKind,
    Moment,
    MomentInteraction,
    MomentSender,
    MomentStatus,
)
from qike.org.access import Access, Action
from qike.org.models import Department, Staff, StaffStatus
from qike.tags.models import Tag, TagType
from qike.wecom.calls_moments import JOB_DONE
from qike.wecom.errors import WeComError

log = logging.getLogger("qike.moments")

IMAGES_MAX = 9
KINDS = ("image", "video", "link")
MAX_STAFF = 10_000  # per task (WeCom takes 100,000; a console form never needs more)
MAX_DEPARTMENTS = 100
MAX_TAGS = 100
JOB_VALID = dt.timedelta(hours=24)  # WeCom keeps a jobid's result 24 hours
FOLLOW_FOR = dt.timedelta(days=14)  # comments and likes are polled this long after creation
# How often the job asks WeCom about a moment, by its age: each check costs two calls per staff
# member who published (reach, comments), so a moment of thousands of staff polled every five
# minutes for two weeks would spend the corp's API allowance; most comments come early.
CHECK_EVERY = (
    (dt.timedelta(hours=1), dt.timedelta(minutes=5)),
    (dt.timedelta(days=1), dt.timedelta(minutes=30)),
    (dt.timedelta(days=3), dt.timedelta(hours=3)),
    (FOLLOW_FOR, dt.timedelta(hours=12)),
)
CHECK_SLACK = dt.timedelta(minutes=1)  # the job runs every 5 minutes; a check takes a moment


# --- who may ---------------------------------------------------------------------------------


def require_moments(access: Access) -> None:
    if not access.can(Action.RUN_CAMPAIGNS):
        raise PermissionDenied(_("Your role may not run moments."))


def moments_in_scope(access: Access) -> QuerySet[Moment]:
    """Moments are a corp-wide campaign tool: every role that may run them sees all of them."""
    require_moments(access)
    return Moment.objects.filter(corp=access.corp)


def get_moment(access: Access, pk: int) -> Moment:
    moment = moments_in_scope(access).filter(pk=pk).first()
    if moment is None:
        raise Http404
    return moment


# --- checking what is asked ------------------------------------------------------------------


@dataclass
class Audience:
    staff: list[Staff] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if len(text) > TEXT_MAX:
        raise ValidationError(
            _("The text is at most %(n)d characters (it has %(m)d).")
            % {"n": TEXT_MAX, "m": len(text)}
        )
    return text


def check_content(text: str, kinds: Sequence[str]) -> str:
    """WeCom's content rule: the kind of attachment ("" for none). Raises ValidationError."""
    if not text and not kinds:
        raise ValidationError(_("Write a text or choose images, a video or a link."))
    wrong = sorted({k for k in kinds if k not in KINDS})
    if wrong:
        raise ValidationError(
            _("Moments take images, a video or a link only, not: %(kinds)s")
            % {"kinds": ", ".join(wrong)}
        )
    distinct = set(kinds)
    if len(distinct) > 1:
        raise ValidationError(
            _("Choose images, or one video, or one link: they cannot be mixed in one moment.")
        )
    kind = next(iter(distinct), "")
    if kind == "image" and len(kinds) > IMAGES_MAX:
        raise ValidationError(
            _("At most %(n)d images in one moment (you chose %(m)d).")
            % {"n": IMAGES_MAX, "m": len(kinds)}
        )
    if kind in ("video", "link") and len(kinds) > 1:
        raise ValidationError(_("Only one video or one link fits in one moment."))
    return kind


def _item_ids(values: Iterable) -> list[int]:
    try:
        ids = [int(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("Library items are given by their numeric ids.")) from exc
    if len(set(ids)) != len(ids):
        raise ValidationError(_("Each library item can be chosen once."))
    return ids


def _item_kinds(corp: Corp, ids: list[int]) -> list[str]:
    """The kinds of the chosen content library items, in order; unknown ids are an error."""
    if not ids:
        return []
    from qike.engagement.models import ContentItem

    kinds = dict(ContentItem.objects.filter(corp=corp, pk__in=ids).values_list("pk", "kind"))
    missing = [str(i) for i in ids if i not in kinds]
    if missing:
        raise ValidationError(_("No library items with ids %(ids)s.") % {"ids": ", ".join(missing)})
    # Text items are not attachments: their text joins the moment's text (library.text_of).
    return [kinds[i] for i in ids if kinds[i] != "text"]


def _strings(values: Iterable, what: str, limit: int) -> list[str]:
    if isinstance(values, str):
        values = [values]
    cleaned = list(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))
    if len(cleaned) > limit:
        raise ValidationError(_("At most %(n)d %(what)s.") % {"n": limit, "what": what})
    return cleaned


def _audience(
    corp: Corp, userids: Iterable, department_ids: Iterable, tag_ids: Iterable
) -> Audience:
    users = _strings(userids, _("staff members"), MAX_STAFF)
    staff = {s.userid: s for s in Staff.objects.filter(corp=corp, userid__in=users)}
    unknown = [u for u in users if u not in staff]
    if unknown:
        raise ValidationError(
            _("No staff members with UserIDs %(ids)s.") % {"ids": ", ".join(unknown[:10])}
        )
    inactive = [str(staff[u]) for u in users if staff[u].status != StaffStatus.ACTIVE]
    if inactive:
        raise ValidationError(
            _("Not active staff members: %(names)s.") % {"names": ", ".join(inactive[:10])}
        )
    try:
        dept_ids = [int(d) for d in _strings(department_ids, _("departments"), MAX_DEPARTMENTS)]
    except ValueError as exc:
        raise ValidationError(_("Departments are given by their WeCom ids (numbers).")) from exc
    departments = {
        d.wecom_id: d for d in Department.objects.filter(corp=corp, wecom_id__in=dept_ids)
    }
    missing = [str(d) for d in dept_ids if d not in departments]
    if missing:
        raise ValidationError(_("No departments with ids %(ids)s.") % {"ids": ", ".join(missing)})
    wanted = _strings(tag_ids, _("tags"), MAX_TAGS)
    tags = {
        t.wecom_id: t for t in Tag.objects.filter(corp=corp, wecom_id__in=wanted, type=TagType.CORP)
    }
    unknown_tags = [t for t in wanted if t not in tags]
    if unknown_tags:
        raise ValidationError(
            _("No corp tags with ids %(ids)s.") % {"ids": ", ".join(unknown_tags[:10])}
        )
    return Audience(
        staff=[staff[u] for u in users],
        departments=[departments[d] for d in dept_ids],
        tags=[tags[t] for t in wanted],
    )


def _library():
    try:
        from qike.engagement import library
    except ImportError as exc:  # the content library is not installed in this build
        raise ValidationError(
            _("Attachments need the content library, which is not available.")
        ) from exc
    return library


def _library_text(corp: Corp, text: str, item_ids: list[int]) -> str:
    """The moment's text followed by the text items' text (checked against WeCom's limit)."""
    if not item_ids:
        return text
    extra = _library().text_of(corp=corp, item_ids=item_ids)
    return _clean_text("\n".join(t for t in (text, extra) if t))


def _attachments(corp: Corp, item_ids: list[int]) -> list[dict]:
    """WeCom attachments for the chosen library items (the library uploads their files with
    media/upload_attachment and re-uploads media near their 3 days)."""
    if not item_ids:
        return []
    library = _library()
    library.validate_attachments(corp=corp, item_ids=item_ids, purpose="moment")
    return library.attachments_for_send(
        corp=corp, item_ids=item_ids, purpose="moment", campaign_ref="moments"
    )


def _summary(attachments: list[dict]) -> list[dict]:
    """What was sent, for the record: kinds and link titles/URLs, not the 3-day media_ids."""
    result = []
    for a in attachments:
        kind = a.get("msgtype", "")
        entry = {"msgtype": kind}
        if kind == "link":
            link = a.get("link") or {}
            entry |= {"title": link.get("title", ""), "url": link.get("url", "")}
        result.append(entry)
    return result


# --- creating --------------------------------------------------------------------------------


def create_moment(
    *,
    access: Access,
    text: str = "",
    item_ids: Iterable = (),
    userids: Iterable = (),
    department_ids: Iterable = (),
    tag_ids: Iterable = (),
) -> Moment:
    """Check everything, ask WeCom (add_moment_task), then record the task. Nothing is saved when
    the input is wrong or WeCom refuses. With no staff and no departments every staff member in
    the app's range is asked; with tags only the followers of the tagged customers are."""
    require_moments(access)
    corp = access.corp
    text = _clean_text(text)
    ids = _item_ids(item_ids)
    kinds = _item_kinds(corp, ids)
    text = _library_text(corp, text, ids)
    kind = check_content(text, kinds)
    audience = _audience(corp, userids, department_ids, tag_ids)
    attachments = _attachments(corp, ids)
    check_content(text, [a.get("msgtype", "") for a in attachments])
    with client_for(corp) as client:
        jobid = client.add_moment_task(
            text=text,
            attachments=attachments,
            userids=[s.userid for s in audience.staff],
            department_ids=[d.wecom_id for d in audience.departments],
            tag_ids=[t.wecom_id for t in audience.tags],
        )
    actor = current_actor()
    with transaction.atomic():
        moment = Moment.objects.create(
            corp=corp,
            text=text,
            content_kind=kind,
            item_ids=ids,
            attachments=_summary(attachments),
            userids=[s.userid for s in audience.staff],
            department_ids=[d.wecom_id for d in audience.departments],
            tag_ids=[t.wecom_id for t in audience.tags],
            status=MomentStatus.CREATING,
            jobid=jobid,
            created_by=(actor.name if actor else "")[:150],
            created_at=clock.now(),
        )
        record(
            corp=corp,
            action="moments.create",
            target=moment,
            after={
                "text": text,
                "content_kind": kind,
                "item_ids": ids,
                "staff": moment.userids,
                "departments": moment.department_ids,
                "tags": moment.tag_ids,
                "jobid": jobid,
            },
        )
        from qike.moments.tasks import refresh_moment_job

        transaction.on_commit(lambda: refresh_moment_job(moment.pk))
    return moment


# --- following -------------------------------------------------------------------------------


@dataclass
class Changes:
    job: str = ""  # "", "done" or "failed"
    published: list[str] = field(default_factory=list)
    interactions: int = 0

    def __bool__(self) -> bool:
        return bool(self.job or self.published or self.interactions)


def _settle_job(corp: Corp, moment: Moment, client) -> str:
    """Ask for the job's result; record the moment_id (or the failure) once it is done."""
    try:
        answer = client.get_moment_task_result(moment.jobid)
    except WeComError as exc:
        if clock.now() - moment.created_at < JOB_VALID:
            raise
        # Past 24 hours WeCom forgets the job (40088): it will never say more.
        answer = {"status": JOB_DONE, "result": {"errcode": exc.errcode, "errmsg": exc.errmsg}}
    if int(answer.get("status") or 0) != JOB_DONE:
        return ""
    result = answer.get("result") or {}
    errcode = int(result.get("errcode") or 0)
    invalid_senders = result.get("invalid_sender_list") or {}
    with transaction.atomic():
        locked = Moment.objects.select_for_update().get(pk=moment.pk)
        if locked.status != MomentStatus.CREATING:
            return ""
        locked.errcode = errcode
        locked.errmsg = str(result.get("errmsg") or "")[:255]
        locked.moment_id = str(result.get("moment_id") or "")[:64]
        locked.invalid_userids = list(invalid_senders.get("user_list") or [])
        locked.invalid_department_ids = list(invalid_senders.get("department_list") or [])
        locked.invalid_tag_ids = list(
            (result.get("invalid_external_contact_list") or {}).get("tag_list") or []
        )
        ok = errcode == 0 and bool(locked.moment_id)
        locked.status = MomentStatus.ACTIVE if ok else MomentStatus.FAILED
        locked.save()
        record(
            corp=corp,
            action="moments.created" if ok else "moments.failed",
            target=locked,
            after={
                "moment_id": locked.moment_id,
                "errcode": errcode,
                "invalid_staff": locked.invalid_userids,
                "invalid_departments": locked.invalid_department_ids,
                "invalid_tags": locked.invalid_tag_ids,
            },
        )
    moment.refresh_from_db()
    return "done" if ok else "failed"


def _sync_senders(corp: Corp, moment: Moment, client) -> list[str]:
    """get_moment_task (every page): each staff member's publish status. Returns who newly
    published."""
    rows = [row for page in client.iter_moment_task(moment.moment_id) for row in page]
    known = {s.userid: s for s in moment.senders.all()}
    staff = {
        s.userid: s
        for s in Staff.objects.filter(corp=corp, userid__in=[r.get("userid") for r in rows])
    }
    newly = []
    now = clock.now()
    for row in rows:
        userid = str(row.get("userid") or "")
        published = int(row.get("publish_status") or 0) == 1
        sender = known.get(userid)
        if sender is None:
            sender = MomentSender.objects.create(
                corp=corp, moment=moment, staff=staff.get(userid), userid=userid
            )
            known[userid] = sender
        if published and not sender.published:
            sender.published, sender.published_seen_at = True, now
            sender.save(update_fields=["published", "published_seen_at"])
            newly.append(userid)
    return newly


def _reach(moment: Moment, sender: MomentSender, client) -> None:
    reached = sum(
        len(page) for page in client.iter_moment_send_result(moment.moment_id, sender.userid)
    )
    if reached != sender.reached:
        MomentSender.objects.filter(pk=sender.pk).update(reached=reached)


def _interactions(corp: Corp, moment: Moment, sender: MomentSender, client) -> int:
    """get_moment_comments for one published staff member: new comments and likes are stored
    and put on the customer's timeline, once each however often this runs."""
    answer = client.get_moment_comments(moment.moment_id, sender.userid)
    rows = [(InteractionKind.COMMENT, r) for r in answer["comment_list"]] + [
        (InteractionKind.LIKE, r) for r in answer["like_list"]
    ]
    exts = {str(r.get("external_userid") or "") for _, r in rows} - {""}
    customers = {
        c.external_userid: c for c in Customer.objects.filter(corp=corp, external_userid__in=exts)
    }
    added = 0
    for kind, row in rows:
        ext, userid = str(row.get("external_userid") or ""), str(row.get("userid") or "")
        # The time is part of what makes a row unique: never "now", or each poll would add it again.
        at = clock.from_timestamp(row.get("create_time")) or moment.created_at
        customer = customers.get(ext)
        try:
            with transaction.atomic():
                MomentInteraction.objects.create(
                    corp=corp,
                    moment=moment,
                    sender=sender,
                    kind=kind,
                    external_userid=ext,
                    userid=userid if not ext else "",
                    customer=customer,
                    occurred_at=at,
                )
                if customer is not None:
                    data = {"moment_id": moment.moment_id, "moment": moment.pk, "event": kind}
                    if row.get("text"):  # WeCom does not give comment text today
                        data["text"] = str(row["text"])
                    add_timeline(
                        corp=corp,
                        customer_id=customer.pk,
                        staff_id=sender.staff_id,
                        kind=TimelineKind.MOMENT,
                        occurred_at=at,
                        data=data,
                    )
        except IntegrityError:
            continue  # seen on an earlier poll
        added += 1
    return added


def refresh(*, corp: Corp, moment: Moment) -> Changes:
    """Ask WeCom how the moment stands: the job's result, publish statuses, reach, comments and
    likes. Idempotent: running it twice records nothing twice."""
    changes = Changes()
    with client_for(corp) as client:
        if moment.status == MomentStatus.CREATING:
            changes.job = _settle_job(corp, moment, client)
        if moment.moment_id and moment.status in (MomentStatus.ACTIVE, MomentStatus.CANCELLED):
            changes.published = _sync_senders(corp, moment, client)
            for sender in moment.senders.filter(published=True):
                _reach(moment, sender, client)
                changes.interactions += _interactions(corp, moment, sender, client)
    Moment.objects.filter(pk=moment.pk).update(checked_at=clock.now())
    moment.refresh_from_db()
    return changes


def refresh_now(*, access: Access, moment: Moment) -> Changes:
    require_moments(access)
    if moment.corp_id != access.corp.pk:
        raise Http404
    return refresh(corp=access.corp, moment=moment)


def due_for_check(moment: Moment, now: dt.datetime) -> bool:
    """Whether the periodic job should ask WeCom about the moment now (see CHECK_EVERY)."""
    if moment.status == MomentStatus.CREATING or moment.checked_at is None:
        return True
    age = now - moment.created_at
    every = next((every for under, every in CHECK_EVERY if age < under), None)
    return every is not None and now - moment.checked_at >= every - CHECK_SLACK


def open_moments() -> QuerySet[Moment]:
    """Moments still worth asking WeCom about: jobs running, or created recently enough that
    staff may still publish and customers still comment."""
    since = clock.now() - FOLLOW_FOR
    return Moment.objects.filter(
        Q(status=MomentStatus.CREATING)
        | Q(status__in=[MomentStatus.ACTIVE, MomentStatus.CANCELLED], created_at__gte=since)
    ).select_related("corp")


# --- cancelling ------------------------------------------------------------------------------


def cancel(*, access: Access, moment: Moment) -> Moment:
    """Stop the task for staff who have not published (what was published stays)."""
    require_moments(access)
    if moment.corp_id != access.corp.pk:
        raise Http404
    if moment.status == MomentStatus.CREATING:
        refresh(corp=access.corp, moment=moment)
    if moment.status == MomentStatus.CANCELLED:
        raise ValidationError(_("This moment was already stopped."))
    if moment.status != MomentStatus.ACTIVE:
        raise ValidationError(
            _("Only a created moment can be stopped (this one is %(status)s).")
            % {"status": moment.get_status_display()}
        )
    refresh(corp=access.corp, moment=moment)
    senders = list(moment.senders.all())
    if senders and all(s.published for s in senders):
        raise ValidationError(
            _("Every staff member has published this moment: there is nothing left to stop.")
        )
    with client_for(access.corp) as client:
        client.cancel_moment_task(moment.moment_id)
    with transaction.atomic():
        moment.status = MomentStatus.CANCELLED
        moment.cancelled_at = clock.now()
        moment.save(update_fields=["status", "cancelled_at"])
        record(
            corp=access.corp,
            action="moments.cancel",
            target=moment,
            before={"status": MomentStatus.ACTIVE},
            after={
                "status": MomentStatus.CANCELLED,
                "not_published": [s.userid for s in senders if not s.published],
            },
        )
    return moment


# --- reading ---------------------------------------------------------------------------------


def counts(moments: Iterable[Moment]) -> dict[int, dict[str, int]]:
    """{moment id: {senders, published, reached, comments, likes}} in two queries."""
    ids = [m.pk for m in moments]
    result = {
        pk: {"senders": 0, "published": 0, "reached": 0, "comments": 0, "likes": 0} for pk in ids
    }
    for row in (
        MomentSender.objects.filter(moment_id__in=ids)
        .values("moment_id")
        .annotate(n=Count("id"), published=Count("id", filter=Q(published=True)))
    ):
        result[row["moment_id"]]["senders"] = row["n"]
        result[row["moment_id"]]["published"] = row["published"]
    for row in (
        MomentSender.objects.filter(moment_id__in=ids)
        .values("moment_id")
        .annotate(r=Sum("reached"))
    ):
        result[row["moment_id"]]["reached"] = row["r"] or 0
    for row in (
        MomentInteraction.objects.filter(moment_id__in=ids)
        .values("moment_id", "kind")
        .annotate(n=Count("id"))
    ):
        key = "comments" if row["kind"] == InteractionKind.COMMENT else "likes"
        result[row["moment_id"]][key] = row["n"]
    return result
