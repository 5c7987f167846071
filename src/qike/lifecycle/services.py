"""The customer lifecycle: the pipeline (stages), a relation's stage and its history, stale-stage
and next-follow-up reminders as WeCom app messages, and follow-ups. One transaction per change;
every change is audited.

A relation with no stage row yet stands in the first stage since it was added (relations that
predate the pipeline are shown there but never reminded about until someone moves them)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qike.audit.context import current_actor
from qike.audit.services import record, snapshot
from qike.core import clock
from qike.core.models import Corp
from qike.customers.models import FollowRelation, RelationStatus, TimelineEntry, TimelineKind
from qike.customers.queries import get_relation
from qike.customers.services import add_timeline
from qike.lifecycle.models import (
    MAX_STAGES,
    MAX_STALE_DAYS,
    NAME_MAX,
    FollowUp,
    FollowUpKind,
    Pipeline,
    RelationStage,
    Stage,
    StageChange,
)
from qike.org.access import Access, Action
from qike.org.models import Role, StaffStatus
from qike.org.notify import send_text

log = logging.getLogger("qike.lifecycle")

# The default pipeline (names are the corp's data, editable; zh-Hans is Qike's default language).
DEFAULT_STAGES = [
    ("新客户", 7),
    ("初步沟通", None),
    ("意向客户", None),
    ("付款客户", None),
    ("续费客户", None),
]
DEFAULT_EXIT = "无意向客户"
SEND_HOUR = 9  # reminders go out from 09:00 Asia/Shanghai, on Qike's clock
MAX_REMIND_ATTEMPTS = 3  # a reminder WeCom refused is tried again on the next runs, this often
LIST_IN_MESSAGE = 20  # customers named per reminder message; the rest are counted
CONTENT_MAX = 2000
FUTURE_SLACK = dt.timedelta(minutes=5)


# --- who may -----------------------------------------------------------------------------------


def may_manage(access: Access) -> bool:
    """Editing the pipeline: corp admins and operations."""
    return access.corp_wide and access.can(Action.VIEW_CUSTOMERS)


def require_manage(access: Access) -> None:
    if not may_manage(access):
        raise PermissionDenied(_("Only corp admins and operations may edit the pipeline."))


def _require_work(access: Access) -> None:
    """Moving stages and writing follow-ups: anyone who works on customers (in their scope)."""
    access.require(Action.TAG_CUSTOMERS)


def _actor(access: Access | None) -> str:
    actor = current_actor()
    if actor is not None and actor.name:
        return actor.name[:150]
    if access is not None and access.user_id:
        user = User.objects.filter(pk=access.user_id).first()
        return user.get_username() if user else ""
    return ""


def local_today() -> dt.date:
    return timezone.localtime(clock.now()).date()


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def _on_timeline(
    relation: FollowRelation, kind: str, at: dt.datetime, actor: str, data: dict
) -> None:
    """An entry on the customer's timeline, about the relation's member."""
    add_timeline(
        corp=relation.corp,
        customer_id=relation.customer_id,
        staff_id=relation.staff_id,
        kind=kind,
        occurred_at=at,
        actor=actor,
        data=data,
    )


# --- the pipeline ------------------------------------------------------------------------------


def ensure_pipeline(corp: Corp) -> Pipeline:
    """The corp's pipeline, made with the default stages on first use."""
    pipeline = Pipeline.objects.filter(corp=corp).first()
    if pipeline is not None:
        return pipeline
    now = clock.now()
    try:
        with transaction.atomic():
            pipeline = Pipeline.objects.create(corp=corp, created_at=now)
            Stage.objects.bulk_create(
                [
                    Stage(corp=corp, name=name, order=i, stale_days=days, created_at=now)
                    for i, (name, days) in enumerate(DEFAULT_STAGES)
                ]
                + [
                    Stage(
                        corp=corp,
                        name=DEFAULT_EXIT,
                        order=len(DEFAULT_STAGES),
                        is_exit=True,
                        created_at=now,
                    )
                ]
            )
    except IntegrityError:  # another request made it at the same moment
        pipeline = Pipeline.objects.get(corp=corp)
    return pipeline


def stages(corp: Corp, *, retired: bool = False) -> list[Stage]:
    """Active stages in board order (exit stages last); with `retired`, the retired ones too."""
    ensure_pipeline(corp)
    found = Stage.objects.filter(corp=corp)
    if not retired:
        found = found.filter(retired_at__isnull=True)
    return list(found.order_by("is_exit", "order", "pk"))


def first_stage(corp: Corp) -> Stage:
    active = [s for s in stages(corp) if not s.is_exit]
    return active[0]


def get_stage(corp: Corp, pk: int, *, active: bool = True) -> Stage:
    stage = Stage.objects.filter(corp=corp, pk=pk).first()
    if stage is None or (active and stage.retired_at is not None):
        raise ValidationError(_("Unknown stage."))
    return stage


def _clean_name(corp: Corp, name: str, stage: Stage | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the stage a name."))
    if len(name) > NAME_MAX:
        raise ValidationError(_("The name is longer than %(n)d characters.") % {"n": NAME_MAX})
    taken = Stage.objects.filter(corp=corp, name=name, retired_at__isnull=True)
    if stage is not None:
        taken = taken.exclude(pk=stage.pk)
    if taken.exists():
        raise ValidationError(_("Another stage is already named “%(name)s”.") % {"name": name})
    return name


def _clean_days(days: int | None) -> int | None:
    if days is None:
        return None
    if not 1 <= days <= MAX_STALE_DAYS:
        raise ValidationError(
            _("Remind after 1 to %(max)d days, or leave it empty.") % {"max": MAX_STALE_DAYS}
        )
    return days


STAGE_FIELDS = ("name", "order", "is_exit", "stale_days", "retired_at")


def _audit_stage(action: str, stage: Stage, before: dict | None) -> None:
    after = snapshot(stage, STAGE_FIELDS)
    after["retired_at"] = str(after["retired_at"] or "")
    record(corp=stage.corp, action=action, target=stage, before=before, after=after)


def _stage_before(stage: Stage) -> dict:
    values = snapshot(stage, STAGE_FIELDS)
    values["retired_at"] = str(values["retired_at"] or "")
    return values


def create_stage(
    *, access: Access, name: str, stale_days: int | None = None, is_exit: bool = False
) -> Stage:
    """A new stage at the end of the pipeline (or a new exit stage)."""
    require_manage(access)
    corp = access.corp
    ensure_pipeline(corp)
    with transaction.atomic():
        current = Stage.objects.select_for_update().filter(corp=corp, retired_at__isnull=True)
        if current.count() >= MAX_STAGES:
            raise ValidationError(_("A pipeline has at most %(n)d stages.") % {"n": MAX_STAGES})
        name = _clean_name(corp, name, None)
        last = Stage.objects.filter(corp=corp).order_by("-order").values_list("order", flat=True)
        stage = Stage.objects.create(
            corp=corp,
            name=name,
            order=(last.first() or 0) + 1,
            is_exit=bool(is_exit),
            stale_days=_clean_days(stale_days),
            created_at=clock.now(),
        )
        _audit_stage("lifecycle.stage_create", stage, None)
    return stage


def update_stage(*, access: Access, stage: Stage, name: str, stale_days: int | None) -> Stage:
    require_manage(access)
    if stage.corp_id != access.corp.pk or stage.retired_at is not None:
        raise ValidationError(_("Unknown stage."))
    with transaction.atomic():
        stage = Stage.objects.select_for_update().get(pk=stage.pk)
        before = _stage_before(stage)
        stage.name = _clean_name(access.corp, name, stage)
        stage.stale_days = _clean_days(stale_days)
        stage.save(update_fields=["name", "stale_days"])
        _audit_stage("lifecycle.stage_update", stage, before)
    return stage


def reorder_stages(*, access: Access, stage_ids: list[int]) -> list[Stage]:
    """The active non-exit stages in the given order (every one of them, each once)."""
    require_manage(access)
    corp = access.corp
    with transaction.atomic():
        current = list(
            Stage.objects.select_for_update()
            .filter(corp=corp, retired_at__isnull=True, is_exit=False)
            .order_by("order", "pk")
        )
        if len(stage_ids) != len(set(stage_ids)) or set(stage_ids) != {s.pk for s in current}:
            raise ValidationError(_("List every stage of the pipeline once, in the new order."))
        before = {"order": [s.pk for s in current]}
        by_pk = {s.pk: s for s in current}
        for position, pk in enumerate(stage_ids):
            by_pk[pk].order = position
        Stage.objects.bulk_update(current, ["order"])
        record(
            corp=corp,
            action="lifecycle.pipeline_reorder",
            target_type="lifecycle.pipeline",
            target_id=corp.pk,
            target_label=_("Pipeline"),
            before=before,
            after={"order": list(stage_ids)},
        )
    return stages(corp)


def _holds_relations(stage: Stage) -> bool:
    if RelationStage.objects.filter(stage=stage, relation__status=RelationStatus.ACTIVE).exists():
        return True
    if stage.pk == first_stage(stage.corp).pk:
        # Active relations with no stage row stand in the first stage.
        return FollowRelation.objects.filter(
            corp=stage.corp, status=RelationStatus.ACTIVE, lifecycle_stage__isnull=True
        ).exists()
    return False


def _lock_removable(access: Access, stage: Stage) -> Stage:
    """The stage, locked, once it is sure it may leave the board (inside a transaction)."""
    require_manage(access)
    if stage.corp_id != access.corp.pk:
        raise ValidationError(_("Unknown stage."))
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    _check_removable(stage)
    return stage


def _check_removable(stage: Stage) -> None:
    if stage.retired_at is not None:
        raise ValidationError(_("Unknown stage."))
    if not stage.is_exit:
        others = Stage.objects.filter(corp=stage.corp, retired_at__isnull=True, is_exit=False)
        if not others.exclude(pk=stage.pk).exists():
            raise ValidationError(_("The pipeline needs at least one stage."))
    if _holds_relations(stage):
        raise ValidationError(
            _("Customers are in “%(name)s”: move them to another stage first.")
            % {"name": stage.name}
        )


def _used(stage: Stage) -> bool:
    return (
        RelationStage.objects.filter(stage=stage).exists()
        or StageChange.objects.filter(Q(from_stage=stage) | Q(to_stage=stage)).exists()
    )


def retire_stage(*, access: Access, stage: Stage) -> Stage:
    """Take a stage off the board; its history stays readable."""
    with transaction.atomic():
        stage = _lock_removable(access, stage)
        before = _stage_before(stage)
        # Stage rows of ended relations that still point here go with the stage's history.
        RelationStage.objects.filter(stage=stage).delete()
        stage.retired_at = clock.now()
        stage.save(update_fields=["retired_at"])
        _audit_stage("lifecycle.stage_retire", stage, before)
    return stage


def delete_stage(*, access: Access, stage: Stage) -> None:
    """Delete a stage nobody ever used; a used one can only be retired."""
    with transaction.atomic():
        stage = _lock_removable(access, stage)
        if _used(stage):
            raise ValidationError(
                _("“%(name)s” has been used: retire it instead of deleting it.")
                % {"name": stage.name}
            )
        record(
            corp=access.corp,
            action="lifecycle.stage_delete",
            target=stage,
            before=_stage_before(stage),
        )
        stage.delete()


# --- a relation's stage ------------------------------------------------------------------------


def stage_of(relation: FollowRelation) -> tuple[Stage, dt.datetime]:
    """The relation's stage and since when (the first stage since the add when never moved)."""
    row = RelationStage.objects.filter(relation=relation).select_related("stage").first()
    if row is not None:
        return row.stage, row.entered_at
    return first_stage(relation.corp), relation.added_at


def in_stage(stage: Stage, first: Stage, prefix: str = "") -> Q:
    """A Q over FollowRelation (or a model with a `relation` FK, given prefix "relation__")."""
    here = Q(**{f"{prefix}lifecycle_stage__stage": stage})
    if stage.pk == first.pk:
        here |= Q(**{f"{prefix}lifecycle_stage__isnull": True})
    return here


def start(*, corp: Corp, relation: FollowRelation) -> RelationStage:
    """A new relation enters the first stage (idempotent: an existing stay is kept)."""
    first = first_stage(corp)
    row, _created = RelationStage.objects.get_or_create(
        relation=relation,
        defaults={"corp": corp, "stage": first, "entered_at": relation.added_at or clock.now()},
    )
    return row


def move(*, access: Access, relation: FollowRelation, stage: Stage) -> StageChange | None:
    """Move the relation to `stage`: a history row, a timeline entry, an audit row and a fresh
    stay (its reminder not yet sent). None when it is in that stage already."""
    _require_work(access)
    relation = get_relation(access, relation.pk)
    if stage.corp_id != access.corp.pk or stage.retired_at is not None:
        raise ValidationError(_("Unknown stage."))
    if relation.status != RelationStatus.ACTIVE:
        raise ValidationError(_("This customer is no longer followed by the staff member."))
    actor = _actor(access)
    with transaction.atomic():
        current = RelationStage.objects.select_for_update().filter(relation=relation).first()
        if current is None:
            first = first_stage(access.corp)
            from_stage, since = first, relation.added_at
        else:
            from_stage, since = current.stage, current.entered_at
        if from_stage.pk == stage.pk:
            return None
        now = clock.now()
        RelationStage.objects.update_or_create(
            relation=relation,
            defaults={
                "corp": access.corp,
                "stage": stage,
                "entered_at": now,
                "reminded_at": None,
                "remind_attempts": 0,
                "remind_error": "",
            },
        )
        change = StageChange.objects.create(
            corp=access.corp,
            relation=relation,
            from_stage=from_stage,
            to_stage=stage,
            at=now,
            stay_seconds=max(0, int((now - since).total_seconds())) if since else None,
            user_id=access.user_id,
            actor=actor,
        )
        _on_timeline(
            relation,
            TimelineKind.STAGE_CHANGED,
            now,
            actor,
            {"from": from_stage.name, "to": stage.name},
        )
        record(
            corp=access.corp,
            action="lifecycle.stage_move",
            target=relation,
            target_label=f"{relation.customer} · {relation.staff.name or relation.staff.userid}",
            before={"stage": from_stage.name, "stage_id": from_stage.pk},
            after={"stage": stage.name, "stage_id": stage.pk},
        )
    return change


def history(*, access: Access, relation: FollowRelation) -> QuerySet[StageChange]:
    relation = get_relation(access, relation.pk)
    return StageChange.objects.filter(corp=access.corp, relation=relation).select_related(
        "from_stage", "to_stage"
    )


def with_stage(relations: QuerySet[FollowRelation]) -> QuerySet[FollowRelation]:
    return relations.select_related("customer", "staff", "lifecycle_stage__stage")


def decorate(relations: Iterable[FollowRelation], first: Stage) -> list[FollowRelation]:
    """`stage`, `entered_at` and `days_in_stage` on each relation (from with_stage)."""
    now = clock.now()
    out = []
    for relation in relations:
        try:
            row = relation.lifecycle_stage
        except RelationStage.DoesNotExist:
            row = None
        relation.stage = row.stage if row else first
        relation.entered_at = row.entered_at if row else relation.added_at
        relation.days_in_stage = max(0, (now - relation.entered_at).days)
        out.append(relation)
    return out


# --- hand-over ---------------------------------------------------------------------------------


def move_with_customer(corp: Corp, handover: FollowRelation, takeover: FollowRelation) -> None:
    """A mover for qike.customers.handover: the stage (its stay and history continue) and the
    follow-ups go to the takeover member's relation. Idempotent: a second call finds nothing
    left on the handover relation."""
    with transaction.atomic():
        row = RelationStage.objects.select_for_update().filter(relation=handover).first()
        if row is not None:
            RelationStage.objects.filter(relation=takeover).delete()
            row.relation = takeover
            row.save(update_fields=["relation"])
        StageChange.objects.filter(corp=corp, relation=handover).update(relation=takeover)
        FollowUp.objects.filter(corp=corp, relation=handover).update(relation=takeover)


# --- follow-ups --------------------------------------------------------------------------------


def follow_ups(*, access: Access, relation: FollowRelation) -> QuerySet[FollowUp]:
    relation = get_relation(access, relation.pk)
    return FollowUp.objects.filter(corp=access.corp, relation=relation)


def get_follow_up(access: Access, pk: int) -> FollowUp:
    """404 for another corp's (or no) follow-up, 403 outside the user's scope."""
    from django.http import Http404

    found = FollowUp.objects.filter(corp=access.corp, pk=pk).select_related("relation").first()
    if found is None:
        raise Http404
    get_relation(access, found.relation_id)
    return found


def _clean_follow_up(
    kind: str, content: str, next_on: dt.date | None, happened_at: dt.datetime | None
) -> tuple[str, str, dt.date | None, dt.datetime]:
    if kind not in FollowUpKind.values:
        raise ValidationError(_("Choose a note, a call or a visit."))
    content = (content or "").strip()
    if not content:
        raise ValidationError(_("Write what happened."))
    if len(content) > CONTENT_MAX:
        raise ValidationError(_("Keep it under %(n)d characters.") % {"n": CONTENT_MAX})
    now = clock.now()
    happened_at = happened_at or now
    if happened_at > now + FUTURE_SLACK:
        raise ValidationError(_("A follow-up cannot happen in the future."))
    if next_on is not None:
        today = local_today()
        if next_on < today:
            raise ValidationError(_("The next follow-up date is in the past."))
        if next_on > today + dt.timedelta(days=MAX_STALE_DAYS):
            raise ValidationError(_("The next follow-up date is more than a year away."))
    return kind, content, next_on, happened_at


FOLLOW_UP_FIELDS = ("kind", "content", "next_on", "happened_at")


def _follow_up_values(follow_up: FollowUp) -> dict:
    values = snapshot(follow_up, FOLLOW_UP_FIELDS)
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in values.items()}


def _timeline_data(follow_up: FollowUp) -> dict:
    return {
        "follow_up_id": follow_up.pk,
        "kind": follow_up.kind,
        "text": follow_up.content[:200],
        "next_on": follow_up.next_on.isoformat() if follow_up.next_on else "",
    }


def _label(follow_up: FollowUp) -> str:
    return f"{follow_up.get_kind_display()}: {follow_up.content[:40]}"


def add_follow_up(
    *,
    access: Access,
    relation: FollowRelation,
    kind: str,
    content: str,
    next_on: dt.date | None = None,
    happened_at: dt.datetime | None = None,
) -> FollowUp:
    _require_work(access)
    relation = get_relation(access, relation.pk)
    kind, content, next_on, happened_at = _clean_follow_up(kind, content, next_on, happened_at)
    author = _actor(access)
    now = clock.now()
    with transaction.atomic():
        follow_up = FollowUp.objects.create(
            corp=access.corp,
            relation=relation,
            kind=kind,
            content=content,
            happened_at=happened_at,
            next_on=next_on,
            user_id=access.user_id,
            author=author,
            created_at=now,
            updated_at=now,
        )
        _on_timeline(
            relation, TimelineKind.FOLLOW_UP, happened_at, author, _timeline_data(follow_up)
        )
        record(
            corp=access.corp,
            action="lifecycle.follow_up_create",
            target=follow_up,
            target_label=_label(follow_up),
            after=_follow_up_values(follow_up),
        )
    return follow_up


def _require_own(access: Access, follow_up: FollowUp) -> None:
    """Staff edit and delete their own follow-ups; managers and corp-wide roles any in scope."""
    if access.role == Role.STAFF and follow_up.user_id != access.user_id:
        raise PermissionDenied(_("You may only change your own follow-ups."))


def _timeline_entries(follow_up: FollowUp) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(
        corp_id=follow_up.corp_id,
        customer_id=follow_up.relation.customer_id,
        kind=TimelineKind.FOLLOW_UP,
        data__follow_up_id=follow_up.pk,
    )


def update_follow_up(
    *,
    access: Access,
    follow_up: FollowUp,
    kind: str,
    content: str,
    next_on: dt.date | None,
) -> FollowUp:
    _require_work(access)
    follow_up = get_follow_up(access, follow_up.pk)
    _require_own(access, follow_up)
    if next_on is not None and next_on == follow_up.next_on:
        kind, content, _n, _h = _clean_follow_up(kind, content, None, follow_up.happened_at)
    else:
        kind, content, next_on, _h = _clean_follow_up(kind, content, next_on, follow_up.happened_at)
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        before = _follow_up_values(follow_up)
        if next_on != follow_up.next_on:
            follow_up.reminded_at, follow_up.remind_attempts, follow_up.remind_error = None, 0, ""
        follow_up.kind, follow_up.content, follow_up.next_on = kind, content, next_on
        follow_up.updated_at = clock.now()
        follow_up.save()
        _timeline_entries(follow_up).update(data=_timeline_data(follow_up))
        record(
            corp=access.corp,
            action="lifecycle.follow_up_update",
            target=follow_up,
            target_label=_label(follow_up),
            before=before,
            after=_follow_up_values(follow_up),
        )
    return follow_up


def delete_follow_up(*, access: Access, follow_up: FollowUp) -> None:
    _require_work(access)
    follow_up = get_follow_up(access, follow_up.pk)
    _require_own(access, follow_up)
    with transaction.atomic():
        record(
            corp=access.corp,
            action="lifecycle.follow_up_delete",
            target=follow_up,
            target_label=_label(follow_up),
            before=_follow_up_values(follow_up),
        )
        _timeline_entries(follow_up).delete()
        follow_up.delete()


# --- reminders ---------------------------------------------------------------------------------


def _board_url() -> str:
    return settings.QIKE_PUBLIC_URL + reverse("console:lifecycle_board")


def _materialise(corp: Corp, pipeline: Pipeline) -> int:
    """Active relations added since the pipeline exists but never given a stage row (an add the
    handler missed, a relation found by a sync) enter the first stage from their add."""
    missing = list(
        FollowRelation.objects.filter(
            corp=corp,
            status=RelationStatus.ACTIVE,
            added_at__gte=pipeline.created_at,
            lifecycle_stage__isnull=True,
        ).values_list("pk", "added_at")[:5000]
    )
    if not missing:
        return 0
    first = first_stage(corp)
    RelationStage.objects.bulk_create(
        [
            RelationStage(corp=corp, relation_id=pk, stage=first, entered_at=added_at)
            for pk, added_at in missing
        ],
        ignore_conflicts=True,
    )
    return len(missing)


def _claim(model, pk: int) -> bool:
    """This worker's right to send the reminder of one row, once (attempts counted)."""
    return bool(
        model.objects.filter(
            pk=pk, reminded_at__isnull=True, remind_attempts__lt=MAX_REMIND_ATTEMPTS
        ).update(reminded_at=clock.now(), remind_attempts=F("remind_attempts") + 1)
    )


def _send(corp: Corp, model, userid: str, rows: list[tuple[int, str]], heading: str) -> int:
    """Claim the rows, send one message naming them, keep the outcome. Returns rows reminded."""
    claimed = [(pk, line) for pk, line in rows if _claim(model, pk)]
    if not claimed:
        return 0
    lines = [f"{i}. {line}" for i, (_pk, line) in enumerate(claimed[:LIST_IN_MESSAGE], 1)]
    if len(claimed) > LIST_IN_MESSAGE:
        lines.append(_("…and %(n)d more.") % {"n": len(claimed) - LIST_IN_MESSAGE})
    text = "\n".join([heading, *lines, _("Open in Qike: %(url)s") % {"url": _board_url()}])
    outcome = send_text(corp=corp, userids=[userid], text=text)
    ids = [pk for pk, _line in claimed]
    if outcome.reached:
        model.objects.filter(pk__in=ids).update(remind_error="")
        return len(ids)
    log.warning("lifecycle.remind_failed corp=%s user=%s %s", corp.corpid, userid, outcome.error)
    model.objects.filter(pk__in=ids).update(reminded_at=None, remind_error=outcome.error[:255])
    return 0


def _remind(
    corp: Corp, rows: QuerySet, order: str, fields: tuple[str, ...], line, heading: str
) -> int:
    """Group the due, unreminded rows (of active relations of active members) by member and send
    each member one message; `line(customer, *fields)` names one row."""
    found = (
        rows.filter(
            corp=corp,
            reminded_at__isnull=True,
            remind_attempts__lt=MAX_REMIND_ATTEMPTS,
            relation__status=RelationStatus.ACTIVE,
            relation__staff__status=StaffStatus.ACTIVE,
        )
        .order_by("relation__staff__userid", order, "pk")
        .values_list(
            "pk",
            "relation__staff__userid",
            "relation__remark",
            "relation__customer__name",
            "relation__customer__external_userid",
            *fields,
        )
    )
    by_staff: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for pk, userid, remark, name, external_userid, *values in found:
        by_staff[userid].append((pk, line(remark or name or external_userid, *values)))
    return sum(
        _send(corp, rows.model, userid, items, heading) for userid, items in by_staff.items()
    )


def remind_stale(*, corp: Corp, today: dt.date | None = None) -> int:
    """Members whose customers stayed in a stage past its rule get one message each, naming them;
    each stay is reminded about once. Returns the stays reminded now."""
    pipeline = ensure_pipeline(corp)
    _materialise(corp, pipeline)
    today = today or local_today()
    ruled = [s for s in stages(corp) if s.stale_days and not s.is_exit]
    if not ruled:
        return 0
    due = Q()
    for stage in ruled:
        # Day 1 is the day the stay began: a rule of 7 days reminds on day 8.
        cutoff = _day_start(today - dt.timedelta(days=stage.stale_days - 1))
        due |= Q(stage=stage, entered_at__lt=cutoff)
    now = clock.now()

    def line(customer: str, stage_name: str, entered_at: dt.datetime) -> str:
        return _("%(customer)s: %(days)d days in %(stage)s") % {
            "customer": customer,
            "days": (now - entered_at).days,
            "stage": stage_name,
        }

    return _remind(
        corp,
        RelationStage.objects.filter(due),
        "entered_at",
        ("stage__name", "entered_at"),
        line,
        _("Qike reminder: these customers have stayed in their stage too long."),
    )


def remind_follow_ups(*, corp: Corp, today: dt.date | None = None) -> int:
    """Follow-ups whose next date has come remind their member, once. Returns those reminded."""
    return _remind(
        corp,
        FollowUp.objects.filter(next_on__lte=today or local_today()),
        "next_on",
        ("content",),
        lambda customer, content: f"{customer}: {content[:60]}",
        _("Qike reminder: follow up with these customers today."),
    )


def send_due_reminders() -> int:
    """The periodic job: from SEND_HOUR (Asia/Shanghai, Qike's clock), every corp's due stale and
    follow-up reminders. One corp's trouble does not stop the others."""
    if timezone.localtime(clock.now()).hour < SEND_HOUR:
        return 0
    sent = 0
    corps = Corp.objects.filter(
        Q(pk__in=Pipeline.objects.values("corp_id"))
        | Q(pk__in=FollowUp.objects.filter(reminded_at__isnull=True).values("corp_id")),
        is_active=True,
    )
    for corp in corps:
        try:
            sent += remind_stale(corp=corp) + remind_follow_ups(corp=corp)
        except Exception:
            log.exception("lifecycle.reminders_error corp=%s", corp.corpid)
    return sent
