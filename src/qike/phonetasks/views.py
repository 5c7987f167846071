"""Console pages: lists and their progress (corp admins, operations, managers in scope), the
import with its preview, and each member's own tasks with the phones to dial."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.console.decorators import console_view
from qike.customers.privacy import mask_phone
from qike.org.access import Access
from qike.org.models import Role, Staff
from qike.phonetasks import services
from qike.phonetasks.forms import ImportForm
from qike.phonetasks.imports import MAX_BYTES
from qike.phonetasks.models import OPEN_STATUSES, Batch, DailyList, ListStatus, TaskStatus

PAGE_SIZE = 100
PROBLEMS_SHOWN = 500


@require_GET
@console_view
def batch_list(request: HttpRequest, access: Access) -> HttpResponse:
    if access.role == Role.STAFF:
        return redirect("console:phone_tasks_mine")
    today = services.local_today()
    lists = DailyList.objects.filter(corp=access.corp, day=today)
    if not access.corp_wide:
        lists = lists.filter(access.staff_filter("staff__"))
    return render(
        request,
        "phonetasks/batches.html",
        {
            "batches": services.batches_in_scope(access),
            "may_manage": services.may_manage(access),
            "today": today,
            "lists_sent": lists.filter(status=ListStatus.SENT).count(),
            "lists_failed": lists.filter(status=ListStatus.FAILED).select_related("staff"),
        },
    )


@require_http_methods(["GET", "POST"])
@console_view
def import_new(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_manage(access)
    problem = ""
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, corp=access.corp)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                preview = services.upload(
                    access=access,
                    options=form.options(),
                    filename=upload.name,
                    data=upload.read(MAX_BYTES + 1),
                )
                return redirect("console:phone_task_preview", pk=preview.pk)
            except ValidationError as exc:
                problem = " ".join(exc.messages)
    else:
        form = ImportForm(corp=access.corp)
    return render(
        request,
        "phonetasks/import.html",
        {"form": form, "problem": problem},
        status=400 if request.method == "POST" else 200,
    )


def _preview(access: Access, pk: int):
    try:
        return services.get_preview(access=access, preview_id=pk)
    except ValidationError:
        raise Http404 from None


@require_GET
@console_view
def import_preview(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    preview = _preview(access, pk)
    options = services.ImportOptions.from_json(preview.options)
    problems = preview.problems
    return render(
        request,
        "phonetasks/preview.html",
        {
            "preview": preview,
            "options": options,
            "problems": problems[:PROBLEMS_SHOWN],
            "more_problems": max(0, len(problems) - PROBLEMS_SHOWN),
            "sample": [{**row, "phone": mask_phone(row["phone"])} for row in preview.rows[:10]],
            "staff": Staff.objects.filter(corp=access.corp, userid__in=options.userids),
        },
    )


@require_POST
@console_view
def import_confirm(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    try:
        done = services.confirm(access=access, preview_id=pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("console:phone_tasks")
    text = _("Imported %(n)d tasks into “%(name)s”.") % {"n": done.tasks, "name": done.batch.name}
    if done.already:
        text += " " + _("%(n)d phones are already customers of their staff member.") % {
            "n": done.already
        }
    if done.skipped:
        text += " " + _("%(n)d rows were skipped: they became open tasks elsewhere.") % {
            "n": done.skipped
        }
    messages.success(request, text)
    return redirect("console:phone_task_batch", pk=done.batch.pk)


@require_POST
@console_view
def import_discard(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.discard(access=access, preview_id=pk)
    messages.success(request, _("The upload was discarded; nothing was imported."))
    return redirect("console:phone_tasks")


def _batch(access: Access, pk: int) -> Batch:
    batch = Batch.objects.filter(corp=access.corp, pk=pk).first()
    if batch is None:
        raise Http404
    return batch


@require_GET
@console_view
def batch_detail(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    batch = _batch(access, pk)
    tasks = services.tasks_in_scope(access).filter(batch=batch)
    if not access.corp_wide and not tasks.exists():
        raise PermissionDenied(_("This list has no tasks of staff in your scope."))
    chosen = {"status": request.GET.get("status", ""), "staff": request.GET.get("staff", "")}
    shown = tasks.select_related("staff", "relation__customer")
    if chosen["status"] == "open":
        shown = shown.filter(status__in=OPEN_STATUSES)
    elif chosen["status"] == "overdue":
        shown = shown.filter(status__in=OPEN_STATUSES, scheduled_on__lt=services.local_today())
    elif chosen["status"] in TaskStatus.values:
        shown = shown.filter(status=chosen["status"])
    if chosen["staff"]:
        shown = shown.filter(staff__userid=chosen["staff"])
    page = Paginator(shown.order_by("scheduled_on", "row_number", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for task in page.object_list:
        task.masked_phone = mask_phone(task.phone)
    return render(
        request,
        "phonetasks/batch.html",
        {
            "batch": batch,
            "totals": services.totals(tasks),
            "by_staff": services.staff_progress(tasks),
            "page": page,
            "chosen": chosen,
            "statuses": TaskStatus.choices,
            "today": services.local_today(),
            "may_manage": services.may_manage(access),
            "tags": batch.tags.all(),
        },
    )


@require_POST
@console_view
def batch_cancel(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    batch = _batch(access, pk)
    cancelled = services.cancel_batch(access=access, batch=batch)
    messages.success(request, _("Cancelled %(n)d open tasks.") % {"n": cancelled})
    return redirect("console:phone_task_batch", pk=batch.pk)


@require_POST
@console_view
def send_now(request: HttpRequest, access: Access) -> HttpResponse:
    sent = services.send_lists_now(access=access)
    messages.success(request, _("Sent today's list to %(n)d staff members.") % {"n": sent})
    return redirect("console:phone_tasks")


@require_GET
@console_view
def mine(request: HttpRequest, access: Access) -> HttpResponse:
    """The member's own tasks for today (and earlier ones still open), with the full phone: they
    have to search it in WeCom."""
    today = services.local_today()
    context: dict = {"today": today, "linked": access.staff_id is not None}
    if access.staff_id is not None:
        own = services.tasks_in_scope(access).filter(staff_id=access.staff_id)
        context.update(
            tasks=services.due_tasks(corp=access.corp, staff_id=access.staff_id, day=today),
            upcoming=own.filter(status__in=OPEN_STATUSES, scheduled_on__gt=today).count(),
            added_today=own.filter(status=TaskStatus.ADDED, completed_at__date=today).count(),
        )
    return render(request, "phonetasks/mine.html", context)
