"""REST endpoints under /api/v1/: phone-task batches with their progress, and tasks."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from qike.api.auth import access_of, read_auth
from qike.api.pagination import cursor_page
from qike.api.schemas import CursorQuery, errors
from qike.customers.privacy import mask_phone
from qike.org.access import Access
from qike.phonetasks import services
from qike.phonetasks.models import OPEN_STATUSES, Batch, Task, TaskStatus
from qike.phonetasks.schemas import BatchDetailOut, BatchOut, TaskPage

router = Router(tags=["phonetasks"], auth=read_auth)

PROGRESS_KEYS = ("total", "added", "already", "open", "overdue", "cancelled")


class TaskFilterQuery(Schema):
    batch: int | None = Field(None, description="Batch id.")
    staff: str = Field("", max_length=64, description="WeCom UserID of the assigned member.")
    status: str = Field(
        "",
        max_length=20,
        description="pending, sent, added, already_customer, cancelled; or open / overdue.",
    )
    day: str = Field("", max_length=10, description="Scheduled day, YYYY-MM-DD.")


def _batch_data(batch: Batch) -> dict:
    return {
        "id": batch.pk,
        "name": batch.name,
        "filename": batch.filename,
        "assign_mode": batch.assign_mode,
        "daily_cap": batch.daily_cap,
        "tags": sorted(t.wecom_id for t in batch.tags.all()),
        "created_at": batch.created_at,
        "cancelled_at": batch.cancelled_at,
        "progress": {key: getattr(batch, key) for key in PROGRESS_KEYS},
    }


def _find_batch(access: Access, batch_id: int) -> Batch:
    batch = services.batches_in_scope(access).filter(pk=batch_id).first()
    if batch is None:
        if Batch.objects.filter(corp=access.corp, pk=batch_id).exists():
            raise PermissionDenied
        raise Http404
    return batch


@router.get(
    "/phone-task-batches",
    response={200: list[BatchOut], **errors(403)},
    summary="List phone-task batches",
)
def list_batches(request: HttpRequest) -> list[dict]:
    """Newest first, with progress counted over the tasks you may see."""
    batches = services.batches_in_scope(access_of(request)).prefetch_related("tags")
    return [_batch_data(batch) for batch in batches]


@router.get(
    "/phone-task-batches/{batch_id}",
    response={200: BatchDetailOut, **errors(403, 404)},
    summary="Get a phone-task batch with progress per staff member",
)
def get_batch(request: HttpRequest, batch_id: int) -> dict:
    access = access_of(request)
    batch = _find_batch(access, batch_id)
    tasks = services.tasks_in_scope(access).filter(batch=batch)
    by_staff = [
        {
            "staff": row["staff__userid"],
            "staff_name": row["staff__name"],
            **{key: row[key] for key in PROGRESS_KEYS},
        }
        for row in services.staff_progress(tasks)
    ]
    return {**_batch_data(batch), "by_staff": by_staff}


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_("Write the day as YYYY-MM-DD.")) from None


def _task_data(task: Task, today) -> dict:
    return {
        "id": task.pk,
        "batch_id": task.batch_id,
        "row": task.row_number,
        "name": task.name,
        "phone": mask_phone(task.phone),
        "extra": task.extra,
        "staff": task.staff.userid,
        "scheduled_on": task.scheduled_on,
        "status": task.status,
        "overdue": task.is_open and task.scheduled_on is not None and task.scheduled_on < today,
        "sent_on": task.sent_on,
        "completed_at": task.completed_at,
        "matched_by": task.matched_by,
        "external_userid": task.relation.customer.external_userid if task.relation else None,
    }


@router.get("/phone-tasks", response={200: TaskPage, **errors(400, 403)}, summary="List tasks")
def list_tasks(
    request: HttpRequest, filters: Query[TaskFilterQuery], page: Query[CursorQuery]
) -> dict:
    """Tasks of staff you may see, newest batch first. Phone numbers are masked."""
    access = access_of(request)
    today = services.local_today()
    tasks = services.tasks_in_scope(access).select_related("staff", "relation__customer")
    if filters.batch is not None:
        tasks = tasks.filter(batch_id=filters.batch)
    if filters.staff:
        tasks = tasks.filter(staff__userid=filters.staff)
    if filters.status == "open":
        tasks = tasks.filter(status__in=OPEN_STATUSES)
    elif filters.status == "overdue":
        tasks = tasks.filter(status__in=OPEN_STATUSES, scheduled_on__lt=today)
    elif filters.status in TaskStatus.values:
        tasks = tasks.filter(status=filters.status)
    elif filters.status:
        raise ValidationError(_("Unknown status: %(status)s.") % {"status": filters.status})
    if filters.day:
        tasks = tasks.filter(scheduled_on=_day(filters.day))
    result = cursor_page(tasks, field="created_at", params=page)
    result["items"] = [_task_data(task, today) for task in result["items"]]
    return result
