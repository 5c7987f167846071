"""Console pages for customers: the filtered list, its Excel export, a customer's detail page with
per-relation tag editing (WeCom first), and the customer's timeline."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qike.audit.services import record
from qike.console.decorators import console_view
from qike.core.pagination import BadCursor, Page, newest_first
from qike.customers import exports
from qike.customers.forms import (
    CustomerFilterForm,
    RelationTagsForm,
    add_way_label,
    tag_choices,
)
from qike.customers.models import Customer, FollowRelation, RelationStatus, TimelineEntry
from qike.customers.privacy import mask_phone, reveals_phones
from qike.customers.queries import (
    count_capped,
    filter_relations,
    get_customer,
    get_relation,
    relations_in_scope,
)
from qike.org.access import Access, Action
from qike.tags.models import Tag, TagAssignment, TagType
from qike.tags.services import mark_tags
from qike.wecom.errors import WeComError

PAGE_SIZE = 50
TIMELINE_PAGE = 30
TOTAL_CAP = 10_000


def _with_tags(relations: QuerySet[FollowRelation]) -> QuerySet[FollowRelation]:
    return relations.select_related("customer", "staff").prefetch_related(
        Prefetch(
            "tag_assignments",
            queryset=TagAssignment.objects.select_related("tag").order_by("-tag__order", "tag_id"),
        )
    )


def _decorate(relation: FollowRelation, *, reveal: bool) -> FollowRelation:
    """Display values the templates need, computed once per row."""
    relation.phones = [m if reveal else mask_phone(m) for m in relation.remark_mobiles]
    relation.tag_list = [a.tag for a in relation.tag_assignments.all()]
    relation.add_way_label = add_way_label(relation.add_way)
    return relation


def _query(params: QueryDict, **changes: str) -> str:
    query = params.copy()
    query.pop("cursor", None)
    for key, value in changes.items():
        if value:
            query[key] = value
    return query.urlencode()


def _previous_cursor(relations: QuerySet[FollowRelation], first: FollowRelation) -> str:
    """The cursor of the page before the one starting at `first` ("" when that is the first page).

    Keyset pages only know the way forward, so look back: the page before starts right after the
    row PAGE_SIZE + 1 places newer than `first`, and newest_first gives exactly that row's cursor
    when the row ends a page of one."""
    newer = (
        relations.filter(added_at__gte=first.added_at)  # indexable; see core.pagination
        .filter(Q(added_at__gt=first.added_at) | Q(added_at=first.added_at, pk__gt=first.pk))
        .order_by("added_at", "pk")
    )
    boundary = list(newer.values("pk", "added_at")[PAGE_SIZE : PAGE_SIZE + 1])
    if not boundary:
        return ""
    edge = boundary[0]
    at_or_before = relations.filter(added_at__lte=edge["added_at"]).filter(
        Q(added_at__lt=edge["added_at"]) | Q(added_at=edge["added_at"], pk__lte=edge["pk"])
    )
    return newest_first(at_or_before, field="added_at", size=1).next_cursor


def _list_context(request: HttpRequest, access: Access, form: CustomerFilterForm) -> dict:
    context: dict = {"form": form, "page": None, "can_export": access.can(Action.EXPORT)}
    if not form.is_valid():
        return context
    relations = filter_relations(access, form.to_filter())
    cursor = request.GET.get("cursor", "")
    try:
        page = newest_first(_with_tags(relations), field="added_at", cursor=cursor, size=PAGE_SIZE)
    except BadCursor as exc:
        context["cursor_error"] = str(exc)
        cursor = ""
        page = newest_first(_with_tags(relations), field="added_at", size=PAGE_SIZE)
    for relation in page.items:
        _decorate(relation, reveal=False)
    total, more = count_capped(relations, cap=TOTAL_CAP)
    base = reverse("console:customers")
    context.update(
        page=page,
        total=total,
        total_capped=more,
        next_url=f"{base}?{_query(request.GET, cursor=page.next_cursor)}"
        if page.next_cursor
        else "",
        prev_url="",
        export_url=f"{reverse('console:customer_export')}?{_query(request.GET)}",
        reset_url=base,
    )
    if cursor and page.items:
        previous = _previous_cursor(relations, page.items[0])
        context["prev_url"] = f"{base}?{_query(request.GET, cursor=previous)}"
    return context


@require_GET
@console_view
def customer_list(request: HttpRequest, access: Access) -> HttpResponse:
    form = CustomerFilterForm(request.GET, access=access)
    context = _list_context(request, access, form)
    return render(request, "customers/list.html", context, status=200 if form.is_valid() else 400)


@require_GET
@console_view
def customer_export(request: HttpRequest, access: Access) -> HttpResponse:
    access.require(Action.EXPORT)
    form = CustomerFilterForm(request.GET, access=access)
    back = f"{reverse('console:customers')}?{_query(request.GET)}"
    if not form.is_valid():
        return redirect(back)  # the list shows what is wrong with the filters
    relations = filter_relations(access, form.to_filter())
    _count, too_many = count_capped(relations, cap=exports.EXPORT_MAX_ROWS)
    if too_many:
        messages.error(
            request,
            _("More than %(max)s customers match: narrow the filters and export again.")
            % {"max": f"{exports.EXPORT_MAX_ROWS:,}"},
        )
        return redirect(back)
    reveal = reveals_phones(access)
    workbook = exports.export_file(relations, reveal_phones=reveal)
    record(
        corp=access.corp,
        action="customers.export",
        target_label=_("Customer list"),
        after={"filters": _query(request.GET), "rows": _count, "phones_revealed": reveal},
    )
    filename = f"customers-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
    return FileResponse(
        workbook,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# --- one customer ------------------------------------------------------------------------------


def _timeline_entries(access: Access, customer: Customer) -> QuerySet[TimelineEntry]:
    """The customer's history as far as the user's scope reaches: entries about members they may
    see, and entries about no member in particular."""
    entries = TimelineEntry.objects.filter(corp=access.corp, customer=customer)
    if not access.corp_wide:
        # (Q() | x is x, so the corp-wide case must not go through this OR.)
        entries = entries.filter(Q(staff__isnull=True) | access.staff_filter("staff__"))
    return entries.select_related("staff")


def _timeline_page(access: Access, customer: Customer, cursor: str = "") -> Page:
    return newest_first(
        _timeline_entries(access, customer), field="occurred_at", cursor=cursor, size=TIMELINE_PAGE
    )


def _relation_context(
    relation: FollowRelation, access: Access, groups: list, *, error: str = "", success: str = ""
) -> dict:
    _decorate(relation, reveal=reveals_phones(access))
    return {
        "relation": relation,
        "tag_groups": groups,
        "current_tags": {t.wecom_id for t in relation.tag_list if t.type == TagType.CORP},
        "can_tag": access.can(Action.TAG_CUSTOMERS)
        and relation.status == RelationStatus.ACTIVE
        and bool(groups),
        "error": error,
        "success": success,
    }


@require_GET
@console_view
def customer_detail(request: HttpRequest, access: Access, external_userid: str) -> HttpResponse:
    customer = get_customer(access, external_userid)
    relations = _with_tags(relations_in_scope(access).filter(customer=customer)).order_by(
        "-added_at", "-pk"
    )
    groups = tag_choices(access)
    return render(
        request,
        "customers/detail.html",
        {
            "customer": customer,
            "relations": [_relation_context(r, access, groups) for r in relations],
            "timeline": _timeline_page(access, customer),
        },
    )


@require_GET
@console_view
def customer_timeline(request: HttpRequest, access: Access, external_userid: str) -> HttpResponse:
    """More of the timeline (htmx "load more")."""
    customer = get_customer(access, external_userid)
    try:
        timeline = _timeline_page(access, customer, request.GET.get("cursor", ""))
    except BadCursor as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    return render(
        request, "customers/_timeline_items.html", {"customer": customer, "timeline": timeline}
    )


def _apply_tags(access: Access, relation: FollowRelation, wanted: set[str]) -> str:
    """Make the relation's corp tags `wanted` through WeCom. Returns what went wrong, or ""."""
    current = {
        a.tag.wecom_id: a.tag
        for a in relation.tag_assignments.select_related("tag")
        if a.tag.type == TagType.CORP
    }
    add = list(
        Tag.objects.filter(
            corp=access.corp, type=TagType.CORP, wecom_id__in=wanted - current.keys()
        )
    )
    remove = [current[wecom_id] for wecom_id in current.keys() - wanted]
    try:
        mark_tags(access=access, relation=relation, add=add, remove=remove)
    except WeComError as exc:
        return _("WeCom refused the change: %(errmsg)s (error %(errcode)s)") % {
            "errmsg": exc.errmsg,
            "errcode": exc.errcode,
        }
    except ValidationError as exc:
        return " ".join(exc.messages)
    return ""


@require_POST
@console_view
def relation_tags(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    relation = get_relation(access, pk)
    access.require(Action.TAG_CUSTOMERS)
    groups = tag_choices(access)
    form = RelationTagsForm(request.POST, choices=[c for _n, cs in groups for c in cs])
    if form.is_valid():
        error = _apply_tags(access, relation, set(form.cleaned_data["tags"]))
    else:
        error = " ".join(message for errors in form.errors.values() for message in errors)
    success = "" if error else _("Saved in WeCom.")
    if not request.htmx:
        (messages.error if error else messages.success)(request, error or success)
        return redirect(
            "console:customer_detail", external_userid=relation.customer.external_userid
        )
    fresh = _with_tags(relations_in_scope(access).filter(pk=relation.pk)).get()
    context = _relation_context(fresh, access, groups, error=error, success=success)
    # htmx swaps only 2xx answers, and a refusal is an answer the user must read.
    return render(request, "customers/_relation.html", context)
