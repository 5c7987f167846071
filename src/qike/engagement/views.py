"""Welcome-message pages: the library (create, edit, delete), the corp and staff defaults, the
files behind attachments, and the list of recent sends with their results."""

from __future__ import annotations

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.console.decorators import console_view
from qike.core.ids import parse_id
from qike.core.pagination import BadCursor, newest_first
from qike.engagement import library as content_library
from qike.engagement import queries, services
from qike.engagement.forms import (
    AttachmentFormSet,
    CorpDefaultForm,
    MessageForm,
    SendFilterForm,
    StaffDefaultForm,
    VariantFormSet,
    attachment_initial,
    variant_initial,
)
from qike.engagement.models import (
    MAX_ATTACHMENTS,
    AttachmentKind,
    ContentItem,
    ContentKind,
    WelcomeMedia,
    WelcomeMessage,
)
from qike.org.access import Access

SENDS_PAGE_SIZE = 50
PICKER_RESULTS = 30  # library items offered per search in the editor's picker


def _media_names(access: Access, library: list[WelcomeMessage]) -> dict[int, str]:
    refs = [ref for message in library for ref in services.media_refs(message.attachments)]
    return dict(
        WelcomeMedia.objects.filter(corp=access.corp, pk__in=refs).values_list("pk", "filename")
    )


@require_GET
@console_view
def library(request: HttpRequest, access: Access) -> HttpResponse:
    rows = list(queries.messages(access))
    counts = queries.staff_counts(access)
    for message in rows:
        message.staff_count = counts.get(message.pk, 0)
    defaults = queries.staff_defaults(access)
    staff = list(queries.staff_in_scope(access))
    for member in staff:
        member.welcome = defaults.get(member.pk)
        member.may_set = services.may_set_default_for(access, member)
    return render(
        request,
        "engagement/library.html",
        {
            "library": rows,
            "may_manage": services.may_manage(access),
            "staff": staff,
            "corp_default": next((m for m in rows if m.is_corp_default), None),
            "own_staff_id": access.staff_id,
        },
    )


def _item_row(item: ContentItem) -> dict:
    return {
        "id": item.pk,
        "title": item.title,
        "kind": item.kind,
        "kind_label": str(item.get_kind_display()),
        "missing": False,
    }


def picked_rows(access: Access, raw_ids: list) -> list[dict]:
    """The editor's chosen library items in order; an id whose item is gone (deleted from the
    library) stays as a "missing" row, so the user sees it will not be sent."""
    ids = list(dict.fromkeys(pk for pk in map(parse_id, raw_ids) if pk is not None))
    found = {item.pk: item for item in content_library.items(access.corp).filter(pk__in=ids)}
    rows = []
    for pk in ids:
        if pk in found:
            rows.append(_item_row(found[pk]))
        else:
            missing = _("Deleted from the content library (#%(id)d)") % {"id": pk}
            rows.append({"id": pk, "title": missing, "kind": "", "kind_label": "", "missing": True})
    return rows


@require_GET
@console_view
def library_items(request: HttpRequest, access: Access) -> JsonResponse:
    """The picker's search: the corp's library items by title or text and kind, newest first."""
    kind = request.GET.get("kind", "")
    if kind not in ContentKind.values:
        kind = ""
    found = content_library.search_items(
        corp=access.corp, q=request.GET.get("q", "")[:100], kind=kind
    )
    return JsonResponse({"items": [_item_row(item) for item in found[:PICKER_RESULTS]]})


def _formsets(request: HttpRequest | None, message: WelcomeMessage | None):
    if request is not None:
        return (
            AttachmentFormSet(request.POST, request.FILES, prefix="att"),
            VariantFormSet(request.POST, prefix="var"),
        )
    return (
        AttachmentFormSet(prefix="att", initial=attachment_initial(message)),
        VariantFormSet(prefix="var", initial=variant_initial(message)),
    )


def _editor(
    request: HttpRequest,
    access: Access,
    message: WelcomeMessage | None,
    *,
    form: MessageForm,
    attachments,
    variants,
    item_ids: list | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    if item_ids is None:
        item_ids = list(message.item_ids) if message is not None else []
    media = _media_names(access, [message]) if message is not None else {}
    for row in attachments.forms:
        value = row["media"].value()
        row.media_pk = parse_id(value or "")
        row.media_name = media.get(row.media_pk, "")
    return render(
        request,
        "engagement/edit.html",
        {
            "message": message,
            "form": form,
            "attachments": attachments,
            "variants": variants,
            "problems": problems or [],
            "max_attachments": MAX_ATTACHMENTS,
            "shown_rows": max(1, len(message.attachments) if message else 1),
            "shown_variants": len(message.variants) if message else 0,
            "media_kinds": [AttachmentKind.IMAGE, AttachmentKind.VIDEO, AttachmentKind.FILE],
            "picked": picked_rows(access, item_ids),
            "content_kinds": ContentKind.choices,
        },
        status=status,
    )


def _form_problems(*forms) -> list[str]:
    problems = []
    for form in forms:
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            problems.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return problems


def _save(request: HttpRequest, access: Access, message: WelcomeMessage | None) -> HttpResponse:
    form = MessageForm(request.POST)
    attachments, variants = _formsets(request, message)
    item_ids = request.POST.getlist("item_ids")
    problems: list[str] = []
    if not (form.is_valid() and attachments.is_valid() and variants.is_valid()):
        problems = _form_problems(form, *attachments.forms, *variants.forms)
        problems += list(attachments.non_form_errors()) + list(variants.non_form_errors())
    else:
        items = [row.as_input() for row in attachments.forms]
        chosen = [row.as_variant() for row in variants.forms]
        try:
            saved = services.save_message(
                access=access,
                message=message,
                name=form.cleaned_data["name"],
                text=form.cleaned_data["text"],
                nickname_fallback=form.cleaned_data["nickname_fallback"],
                is_corp_default=form.cleaned_data["is_corp_default"],
                attachments=[item for item in items if item is not None],
                item_ids=item_ids,
                variants=[variant for variant in chosen if variant is not None],
            )
        except ValidationError as exc:
            problems = exc.messages
        else:
            flash.success(request, _("Saved the welcome message %(name)s.") % {"name": saved.name})
            return redirect("console:welcome_messages")
    return _editor(
        request,
        access,
        message,
        form=form,
        attachments=attachments,
        variants=variants,
        item_ids=item_ids,
        problems=problems,
        status=400,
    )


@require_http_methods(["GET", "POST"])
@console_view
def create(request: HttpRequest, access: Access) -> HttpResponse:
    if not services.may_manage(access):
        raise PermissionDenied(_("Your role may not do this."))
    if request.method == "POST":
        return _save(request, access, None)
    attachments, variants = _formsets(None, None)
    return _editor(
        request, access, None, form=MessageForm(), attachments=attachments, variants=variants
    )


@require_http_methods(["GET", "POST"])
@console_view
def edit(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    message = queries.get_message(access, pk)
    if not services.may_manage(access):
        raise PermissionDenied(_("Your role may not do this."))
    if request.method == "POST":
        return _save(request, access, message)
    form = MessageForm(
        initial={
            "name": message.name,
            "text": message.text,
            "nickname_fallback": message.nickname_fallback,
            "is_corp_default": message.is_corp_default,
        }
    )
    attachments, variants = _formsets(None, message)
    return _editor(request, access, message, form=form, attachments=attachments, variants=variants)


@require_POST
@console_view
def delete(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    message = queries.get_message(access, pk)
    try:
        services.delete_message(access=access, message=message)
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
    else:
        flash.success(request, _("Deleted the welcome message %(name)s.") % {"name": message.name})
    return redirect("console:welcome_messages")


def _chosen_message(access: Access, pk: int | None) -> WelcomeMessage | None:
    return queries.get_message(access, pk) if pk else None


@require_POST
@console_view
def corp_default(request: HttpRequest, access: Access) -> HttpResponse:
    form = CorpDefaultForm(request.POST)
    if not form.is_valid():
        flash.error(request, " ".join(_form_problems(form)))
        return redirect("console:welcome_messages")
    message = _chosen_message(access, form.cleaned_data["message"])
    services.set_corp_default(access=access, message=message)
    if message is None:
        flash.success(request, _("The corp has no default welcome message now."))
    else:
        flash.success(
            request, _("%(name)s is now the corp's default welcome message.") % {"name": message}
        )
    return redirect("console:welcome_messages")


@require_POST
@console_view
def staff_default(request: HttpRequest, access: Access) -> HttpResponse:
    form = StaffDefaultForm(request.POST)
    if not form.is_valid():
        flash.error(request, " ".join(_form_problems(form)))
        return redirect("console:welcome_messages")
    member = queries.get_staff(access, pk=form.cleaned_data["staff"])
    message = _chosen_message(access, form.cleaned_data["message"])
    services.set_staff_default(access=access, staff=member, message=message)
    who = member.name or member.userid
    if message is None:
        flash.success(request, _("%(who)s has no own welcome message now.") % {"who": who})
    else:
        flash.success(
            request,
            _("%(who)s now welcomes customers with %(name)s.") % {"who": who, "name": message},
        )
    return redirect("console:welcome_messages")


@require_GET
@console_view
def media_file(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    media = queries.get_media(access, pk)
    try:
        handle = media.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, filename=media.filename, as_attachment=False)


@require_GET
@console_view
def send_list(request: HttpRequest, access: Access) -> HttpResponse:
    form = SendFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = queries.filter_sends(
        access,
        status=filters.get("status", ""),
        staff=filters.get("staff", ""),
        customer=filters.get("customer", ""),
        since=filters.get("since"),
        until=filters.get("until"),
    )
    problem = ""
    try:
        page = newest_first(
            rows, field="created_at", cursor=request.GET.get("cursor", ""), size=SENDS_PAGE_SIZE
        )
    except BadCursor as exc:
        problem = str(exc)
        page = newest_first(rows, field="created_at", size=SENDS_PAGE_SIZE)
    params = request.GET.copy()
    params.pop("cursor", None)
    return render(
        request,
        "engagement/sends.html",
        {
            "form": form,
            "page": page,
            "problem": problem or " ".join(_form_problems(form)) if form.is_bound else problem,
            "query": params.urlencode(),
        },
    )
