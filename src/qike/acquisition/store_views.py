"""Console pages for store codes (门店活码). Thin: stores.py changes and reads, stats.py counts."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.acquisition import stores
from qike.acquisition.models import Store, StoreImportStatus, StoreStatus
from qike.acquisition.store_forms import (
    REGION_LISTS,
    CompareForm,
    ImportForm,
    StoreFilterForm,
    StoreForm,
    store_initial,
)
from qike.acquisition.views import _qr_response, code_context
from qike.console.decorators import console_view
from qike.org.access import Access
from qike.tags.views import describe_wecom_error
from qike.wecom.errors import WeComError

PAGE_SIZE = 50
LIST_DAYS = 30


def public_url(request: HttpRequest, access: Access, store: Store | None = None) -> str:
    return request.build_absolute_uri(stores.public_path(access.corp, store))


def _places(access: Access) -> dict[str, list[str]]:
    """The regions the corp's stores use, offered while typing so places are spelt alike."""
    rows = Store.objects.filter(corp=access.corp, deleted_at__isnull=True).order_by()
    return {
        datalist: sorted(set(rows.exclude(**{name: ""}).values_list(name, flat=True)))
        for name, datalist in REGION_LISTS.items()
    }


@require_GET
@console_view
def store_list(request: HttpRequest, access: Access) -> HttpResponse:
    stores.require_view(access)
    form = StoreFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = stores.stores_of(access)
    if filters.get("q"):
        q = filters["q"]
        rows = rows.filter(Q(name__icontains=q) | Q(short_code__iexact=q) | Q(address__icontains=q))
    for name in ("province", "city", "status"):
        if filters.get(name):
            rows = rows.filter(**{name: filters[name]})
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    adds = stores.adds_since(access, stores.period_start(LIST_DAYS))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "acquisition/stores.html",
        {
            "form": form,
            "page": page,
            "rows": [(store, adds.get(store.live_code_id, 0)) for store in page.object_list],
            "days": LIST_DAYS,
            "query": query.urlencode(),
            "places": _places(access),
            "public_url": public_url(request, access),
            "may_manage": stores.may_manage(access),
        },
    )


def _form_page(
    request: HttpRequest, access: Access, form: StoreForm, store: Store | None, problem: str
) -> HttpResponse:
    return render(
        request,
        "acquisition/store_form.html",
        {"form": form, "store": store, "problem": problem, "places": _places(access)},
        status=400 if form.is_bound else 200,
    )


def _save(request: HttpRequest, access: Access, store: Store | None) -> HttpResponse:
    form = StoreForm(request.POST, corp=access.corp)
    problem = ""
    if form.is_valid():
        try:
            if store is None:
                store = stores.create_store(access=access, spec=form.store_spec())
                messages.success(
                    request,
                    _("Store %(name)s created with its code in WeCom.") % {"name": store.name},
                )
            else:
                store = stores.update_store(access=access, store=store, spec=form.store_spec())
                messages.success(request, _("Saved %(name)s.") % {"name": store.name})
            return redirect("console:store", pk=store.pk)
        except ValidationError as exc:
            problem = " ".join(exc.messages)
        except WeComError as exc:
            problem = describe_wecom_error(exc)
    return _form_page(request, access, form, store, problem)


@require_http_methods(["GET", "POST"])
@console_view
def store_new(request: HttpRequest, access: Access) -> HttpResponse:
    stores.require_manage(access)
    if request.method == "POST":
        return _save(request, access, None)
    return _form_page(request, access, StoreForm(corp=access.corp), None, "")


@require_http_methods(["GET", "POST"])
@console_view
def store_edit(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    stores.require_manage(access)
    store = stores.get_store(access, pk)
    if request.method == "POST":
        return _save(request, access, store)
    form = StoreForm(initial=store_initial(store), corp=access.corp)
    return _form_page(request, access, form, store, "")


@require_GET
@console_view
def store_detail(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    store = stores.get_store(access, pk)
    return render(
        request,
        "acquisition/store_detail.html",
        {
            **code_context(access, store.live_code),
            "store": store,
            "public_url": public_url(request, access, store),
            "may_manage": stores.may_manage(access),
            "open": StoreStatus.OPEN,
            "closed": StoreStatus.CLOSED,
        },
    )


@require_POST
@console_view
def store_status(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    store = stores.get_store(access, pk)
    try:
        stores.set_status(access=access, store=store, status=request.POST.get("status", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("console:store", pk=store.pk)


@require_POST
@console_view
def store_delete(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    stores.require_manage(access)
    store = stores.get_store(access, pk)
    try:
        stores.delete_store(access=access, store=store)
    except WeComError as exc:
        messages.error(request, describe_wecom_error(exc))
        return redirect("console:store", pk=store.pk)
    messages.success(request, _("Deleted %(name)s and its code in WeCom.") % {"name": store.name})
    return redirect("console:stores")


@require_GET
@console_view
def store_qr(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    store = stores.get_store(access, pk)
    return _qr_response(store.live_code.qr_code, f"store-{store.public_key}", request)


@require_GET
@console_view
def store_stats(request: HttpRequest, access: Access) -> HttpResponse:
    stores.require_view(access)
    form = CompareForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    days = filters.get("days") or 30
    rows, regions = stores.compare(access, days=days, province=filters.get("province", ""))
    return render(
        request,
        "acquisition/store_stats.html",
        {
            "form": form,
            "rows": rows,
            "regions": regions,
            "days": days,
            "places": _places(access),
            "total_adds": sum(r.adds for r in rows),
        },
    )


@require_http_methods(["GET", "POST"])
@console_view
def store_import(request: HttpRequest, access: Access) -> HttpResponse:
    stores.require_manage(access)
    form = ImportForm(request.POST or None, request.FILES or None, corp=access.corp)
    problem = ""
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = stores.stage_import(
                access=access,
                filename=upload.name,
                data=upload.read(stores.MAX_UPLOAD_BYTES + 1),
                defaults=form.defaults(),
            )
            return redirect("console:store_import_batch", pk=batch.pk)
        except ValidationError as exc:
            problem = " ".join(exc.messages)
    return render(
        request,
        "acquisition/store_import.html",
        {"form": form, "problem": problem},
        status=400 if form.is_bound else 200,
    )


@require_GET
@console_view
def store_import_template(request: HttpRequest, access: Access) -> HttpResponse:
    stores.require_manage(access)
    response = HttpResponse(
        stores.template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="stores-template.xlsx"'
    return response


@require_GET
@console_view
def store_import_batch(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    batch = stores.get_import(access, pk)
    return render(
        request,
        "acquisition/store_import_batch.html",
        {
            "batch": batch,
            "pending": batch.status == StoreImportStatus.PENDING,
            "running": batch.status == StoreImportStatus.RUNNING,
            "failed": sorted(batch.failed.items(), key=lambda item: int(item[0])),
        },
    )


@require_POST
@console_view
def store_import_confirm(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    batch = stores.get_import(access, pk)
    try:
        stores.confirm_import(access=access, batch=batch)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("console:store_import_batch", pk=batch.pk)


@require_POST
@console_view
def store_import_cancel(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    batch = stores.get_import(access, pk)
    try:
        stores.cancel_import(access=access, batch=batch)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("console:store_import_batch", pk=batch.pk)
    messages.success(request, _("The file was discarded; no store was imported."))
    return redirect("console:stores")
