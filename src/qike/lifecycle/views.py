"""Console pages: the board (drag a card, or pick "move to"), the list with the customer list's
filters, the funnel, the pipeline editor (admins and operations), and a relation's page with its
stage history and follow-ups."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.console.decorators import console_view
from qike.core.pagination import BadCursor, newest_first
from qike.customers.forms import CustomerFilterForm
from qike.customers.queries import count_capped, filter_relations, get_relation
from qike.lifecycle import queries, services
from qike.lifecycle.forms import FollowUpForm, MoveForm, StageForm
from qike.lifecycle.models import Stage
from qike.org.access import Access

PAGE_SIZE = 50


def _problem(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _form_problems(form) -> str:
    return " ".join(m for errors in form.errors.values() for m in errors)


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


def _filters(request: HttpRequest, access: Access) -> CustomerFilterForm:
    return CustomerFilterForm(request.GET, access=access)


@require_GET
@console_view
def board(request: HttpRequest, access: Access) -> HttpResponse:
    form = _filters(request, access)
    columns = queries.board(access, form.to_filter()) if form.is_valid() else []
    return render(
        request,
        "lifecycle/board.html",
        {
            "form": form,
            "columns": columns,
            "stages": services.stages(access.corp),
            "may_manage": services.may_manage(access),
            "limit": queries.CARDS_PER_COLUMN,
        },
        status=200 if form.is_valid() else 400,
    )


@require_GET
@console_view
def stage_list(request: HttpRequest, access: Access) -> HttpResponse:
    form = _filters(request, access)
    all_stages = services.stages(access.corp)
    context: dict = {
        "form": form,
        "stages": all_stages,
        "page": None,
        "chosen": None,
        "may_manage": services.may_manage(access),
    }
    if not form.is_valid():
        return render(request, "lifecycle/list.html", context, status=400)
    relations = filter_relations(access, form.to_filter())
    first = services.first_stage(access.corp)
    chosen = request.GET.get("stage", "")
    if chosen:
        stage = next((s for s in all_stages if str(s.pk) == chosen), None)
        if stage is None:
            context["stage_error"] = True
            return render(request, "lifecycle/list.html", context, status=400)
        relations = relations.filter(services.in_stage(stage, first))
        context["chosen"] = stage.pk
    try:
        page = newest_first(
            services.with_stage(relations),
            field="added_at",
            cursor=request.GET.get("cursor", ""),
            size=PAGE_SIZE,
        )
    except BadCursor:
        page = newest_first(services.with_stage(relations), field="added_at", size=PAGE_SIZE)
    services.decorate(page.items, first)
    query = request.GET.copy()
    query.pop("cursor", None)
    total, capped = count_capped(relations)
    context.update(
        page=page,
        total=total,
        total_capped=capped,
        next_url=f"?{query.urlencode()}&cursor={page.next_cursor}" if page.next_cursor else "",
    )
    return render(request, "lifecycle/list.html", context)


@require_POST
@console_view
def move_relation(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    """Move a card: the board's drag (htmx, answers 204 or 400 with the reason) or the plain
    "move to" form (redirects back with a message)."""
    relation = get_relation(access, pk)
    form = MoveForm(request.POST)
    problem = ""
    if form.is_valid():
        try:
            stage = services.get_stage(access.corp, form.cleaned_data["stage"])
            services.move(access=access, relation=relation, stage=stage)
        except ValidationError as exc:
            problem = _problem(exc)
    else:
        problem = _form_problems(form)
    if request.htmx:
        if problem:
            return HttpResponse(problem, status=400, content_type="text/plain; charset=utf-8")
        return HttpResponse(status=204)
    if problem:
        messages.error(request, problem)
    return redirect(_back(request, reverse("console:lifecycle_board")))


@require_GET
@console_view
def funnel(request: HttpRequest, access: Access) -> HttpResponse:
    form = _filters(request, access)
    data = queries.funnel(access, form.to_filter()) if form.is_valid() else None
    return render(
        request,
        "lifecycle/funnel.html",
        {"form": form, "funnel": data, "may_manage": services.may_manage(access)},
        status=200 if form.is_valid() else 400,
    )


# --- the pipeline ------------------------------------------------------------------------------


def _stage(access: Access, pk: int) -> Stage:
    stage = Stage.objects.filter(corp=access.corp, pk=pk, retired_at__isnull=True).first()
    if stage is None:
        raise Http404
    return stage


@require_http_methods(["GET", "POST"])
@console_view
def pipeline(request: HttpRequest, access: Access) -> HttpResponse:
    """The stages; POST adds one."""
    services.require_manage(access)
    form = StageForm(request.POST or None)
    problem = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                services.create_stage(access=access, **form.cleaned_data)
                return redirect("console:lifecycle_pipeline")
            except ValidationError as exc:
                problem = _problem(exc)
        else:
            problem = _form_problems(form)
    all_stages = services.stages(access.corp, retired=True)
    return render(
        request,
        "lifecycle/pipeline.html",
        {"form": form, "problem": problem, "stages": all_stages},
        status=400 if problem else 200,
    )


@require_POST
@console_view
def stage_action(request: HttpRequest, access: Access, pk: int, action: str) -> HttpResponse:
    """save / up / down / retire / delete one stage."""
    services.require_manage(access)
    stage = _stage(access, pk)
    try:
        if action == "save":
            form = StageForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_form_problems(form))
            services.update_stage(
                access=access,
                stage=stage,
                name=form.cleaned_data["name"],
                stale_days=form.cleaned_data["stale_days"],
            )
        elif action in ("up", "down"):
            ordered = [s.pk for s in services.stages(access.corp) if not s.is_exit]
            if stage.pk in ordered:
                i = ordered.index(stage.pk)
                j = i - 1 if action == "up" else i + 1
                if 0 <= j < len(ordered):
                    ordered[i], ordered[j] = ordered[j], ordered[i]
                    services.reorder_stages(access=access, stage_ids=ordered)
        elif action == "retire":
            services.retire_stage(access=access, stage=stage)
        elif action == "delete":
            services.delete_stage(access=access, stage=stage)
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, _problem(exc))
    return redirect("console:lifecycle_pipeline")


# --- one relation: stage, history, follow-ups --------------------------------------------------


def _relation_page(
    request: HttpRequest, access: Access, pk: int, form: FollowUpForm, problem: str = ""
) -> HttpResponse:
    relation = get_relation(access, pk)
    stage, since = services.stage_of(relation)
    return render(
        request,
        "lifecycle/relation.html",
        {
            "relation": relation,
            "stage": stage,
            "since": since,
            "stages": services.stages(access.corp),
            "history": services.history(access=access, relation=relation)[:100],
            "follow_ups": services.follow_ups(access=access, relation=relation)[:200],
            "form": form,
            "problem": problem,
        },
        status=400 if problem else 200,
    )


@require_http_methods(["GET", "POST"])
@console_view
def relation_page(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    """GET: the page; POST: add a follow-up."""
    if request.method == "GET":
        return _relation_page(request, access, pk, FollowUpForm())
    relation = get_relation(access, pk)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        return _relation_page(request, access, pk, form, _form_problems(form))
    try:
        services.add_follow_up(access=access, relation=relation, **form.cleaned_data)
    except ValidationError as exc:
        return _relation_page(request, access, pk, form, _problem(exc))
    return redirect("console:lifecycle_relation", pk=pk)


@require_POST
@console_view
def follow_up_action(request: HttpRequest, access: Access, pk: int, action: str) -> HttpResponse:
    """save / delete one follow-up."""
    follow_up = services.get_follow_up(access, pk)
    try:
        if action == "delete":
            services.delete_follow_up(access=access, follow_up=follow_up)
        elif action == "save":
            form = FollowUpForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_form_problems(form))
            services.update_follow_up(access=access, follow_up=follow_up, **form.cleaned_data)
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, _problem(exc))
    return redirect("console:lifecycle_relation", pk=follow_up.relation_id)
