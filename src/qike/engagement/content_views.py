"""Console pages of the content library (素材库) and the quick replies (话术库)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qike.console.decorators import console_view
from qike.core.ids import parse_id
from qike.engagement import library, quick_replies
from qike.engagement.content_forms import (
    FolderForm,
    GroupForm,
    ItemFilterForm,
    ItemForm,
    ReplyFilterForm,
    ReplyForm,
    split_tags,
)
from qike.engagement.models import (
    ContentFolder,
    ContentItem,
    ContentKind,
    ContentTag,
    LinkOpen,
    QuickReply,
    QuickReplyGroup,
)
from qike.org.access import Access

LIST_LIMIT = 200
RECENT_OPENS = 20


def _require_manage(access: Access) -> None:
    if not library.may_manage(access):
        raise PermissionDenied(_("Your role may not do this."))


def _item(access: Access, pk: int) -> ContentItem:
    found = library.items(access.corp).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _form_problems(form) -> list[str]:
    problems = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        problems.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return problems


# --- library ---------------------------------------------------------------------------------


@require_GET
@console_view
def content_list(request: HttpRequest, access: Access) -> HttpResponse:
    filters = ItemFilterForm(request.GET or None)
    found = library.items(access.corp).none()
    if filters.is_bound and not filters.is_valid():
        problems = _form_problems(filters)
    else:
        problems = []
        data = filters.cleaned_data if filters.is_bound else {}
        folder_id, unfiled = filters.folder_filter() if filters.is_bound else (None, False)
        found = library.search_items(
            corp=access.corp,
            q=data.get("q", ""),
            kind=data.get("kind", ""),
            folder_id=folder_id,
            tag_id=data.get("tag"),
            unfiled=unfiled,
        )
    rows = list(found[:LIST_LIMIT])
    opens = library.open_counts(access.corp, [item.pk for item in rows])
    for item in rows:
        item.open_count, item.open_customers = opens.get(item.pk, (0, 0))
    return render(
        request,
        "engagement/content_list.html",
        {
            "items": rows,
            "total": found.count(),
            "limit": LIST_LIMIT,
            "filters": filters,
            "problems": problems,
            "folders": ContentFolder.objects.filter(corp=access.corp),
            "tags": ContentTag.objects.filter(corp=access.corp),
            "kinds": ContentKind.choices,
            "may_manage": library.may_manage(access),
            "folder_form": FolderForm(),
        },
    )


def _item_input(form: ItemForm, kind: str) -> library.ItemInput:
    data = form.cleaned_data
    folder = data.get("folder")
    return library.ItemInput(
        kind=kind,
        title=data.get("title", ""),
        text=data.get("text", ""),
        url=data.get("url", "").strip(),
        appid=data.get("appid", ""),
        page=data.get("page", ""),
        cover_url=data.get("cover_url", "").strip(),
        tracked=bool(data.get("tracked")),
        folder_id=folder.pk if folder else None,
        tag_names=split_tags(data.get("tags", "")),
        upload=data.get("upload"),
        cover_upload=data.get("cover"),
    )


def _editor(
    request: HttpRequest,
    access: Access,
    item: ContentItem | None,
    form: ItemForm,
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "item": item,
        "form": form,
        "problems": problems or [],
        "kind": form["kind"].value() or (item.kind if item else ContentKind.TEXT),
    }
    if item is not None:
        context["stats"] = library.item_stats(item)
        context["uses"] = library.uses_of(item)
        context["opens"] = (
            LinkOpen.objects.filter(corp=access.corp, item=item)
            .select_related("customer")
            .order_by("-opened_at")[:RECENT_OPENS]
        )
    return render(request, "engagement/content_edit.html", context, status=status)


def _save_item(request: HttpRequest, access: Access, item: ContentItem | None) -> HttpResponse:
    form = ItemForm(request.POST, request.FILES, corp=access.corp)
    if not form.is_valid():
        return _editor(request, access, item, form, _form_problems(form), status=400)
    kind = item.kind if item is not None else form.cleaned_data["kind"]
    try:
        saved = library.save_item(access=access, data=_item_input(form, kind), item=item)
    except ValidationError as exc:
        return _editor(request, access, item, form, exc.messages, status=400)
    flash.success(request, _("Saved %(title)s.") % {"title": saved.title})
    return redirect("console:content_edit", saved.pk)


@require_http_methods(["GET", "POST"])
@console_view
def content_create(request: HttpRequest, access: Access) -> HttpResponse:
    _require_manage(access)
    if request.method == "POST":
        return _save_item(request, access, None)
    kind = request.GET.get("kind", ContentKind.TEXT)
    if kind not in ContentKind.values:
        kind = ContentKind.TEXT
    folder = parse_id(request.GET.get("folder", ""))
    initial = {"kind": kind, "tracked": True}
    if folder is not None:
        initial["folder"] = folder
    return _editor(request, access, None, ItemForm(initial=initial, corp=access.corp))


@require_http_methods(["GET", "POST"])
@console_view
def content_edit(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    item = _item(access, pk)
    if request.method == "POST":
        _require_manage(access)
        return _save_item(request, access, item)
    form = ItemForm(initial=ItemForm.initial_for(item), corp=access.corp)
    return _editor(request, access, item, form)


@require_POST
@console_view
def content_delete(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    item = _item(access, pk)
    _require_manage(access)
    try:
        library.delete_item(access=access, item=item)
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
        return redirect("console:content_edit", item.pk)
    flash.success(request, _("Deleted %(title)s.") % {"title": item.title})
    return redirect("console:content")


@require_GET
@console_view
def content_file(request: HttpRequest, access: Access, pk: int, role: str) -> FileResponse:
    """The item's file or cover, for previews and downloads in the console."""
    item = _item(access, pk)
    stored = item.file if role == "file" else item.cover if role == "cover" else None
    if not stored:
        raise Http404
    name = item.filename if role == "file" else stored.name.rsplit("/", 1)[-1]
    return FileResponse(stored.open("rb"), filename=name)


@require_POST
@console_view
def folder_create(request: HttpRequest, access: Access) -> HttpResponse:
    _require_manage(access)
    form = FolderForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_form_problems(form))
        folder = library.create_folder(access=access, name=form.cleaned_data["name"])
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
        return redirect("console:content")
    flash.success(request, _("Created the folder %(name)s.") % {"name": folder.name})
    return redirect(f"{reverse('console:content')}?folder={folder.pk}")


@require_POST
@console_view
def folder_delete(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    _require_manage(access)
    folder = ContentFolder.objects.filter(corp=access.corp, pk=pk).first()
    if folder is None:
        raise Http404
    library.delete_folder(access=access, folder=folder)
    flash.success(
        request, _("Deleted the folder %(name)s; its items are unfiled.") % {"name": folder.name}
    )
    return redirect("console:content")


# --- quick replies ---------------------------------------------------------------------------


def _reply(access: Access, pk: int) -> QuickReply:
    found = QuickReply.objects.filter(corp=access.corp, pk=pk).first()
    if found is None:
        raise Http404
    return found


@require_GET
@console_view
def reply_list(request: HttpRequest, access: Access) -> HttpResponse:
    filters = ReplyFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    found = quick_replies.search(corp=access.corp, q=data.get("q", ""), group_id=data.get("group"))
    return render(
        request,
        "engagement/quick_replies.html",
        {
            "replies": list(found[:LIST_LIMIT]),
            "total": found.count(),
            "limit": LIST_LIMIT,
            "filters": filters,
            "problems": _form_problems(filters) if filters.is_bound and filters.errors else [],
            "groups": quick_replies.groups(access.corp),
            "may_manage": quick_replies.may_manage(access),
            "group_form": GroupForm(),
        },
    )


def _reply_editor(
    request: HttpRequest,
    reply: QuickReply | None,
    form: ReplyForm,
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "engagement/quick_reply_edit.html",
        {"reply": reply, "form": form, "problems": problems or []},
        status=status,
    )


def _save_reply(request: HttpRequest, access: Access, reply: QuickReply | None) -> HttpResponse:
    form = ReplyForm(request.POST, corp=access.corp)
    if not form.is_valid():
        return _reply_editor(request, reply, form, _form_problems(form), status=400)
    data = form.cleaned_data
    try:
        saved = quick_replies.save_reply(
            access=access,
            reply=reply,
            group_id=data["group"].pk,
            title=data["title"],
            text=data["text"],
            keywords=data["keywords"],
            item_ids=[item.pk for item in data["items"]],
        )
    except ValidationError as exc:
        return _reply_editor(request, reply, form, exc.messages, status=400)
    flash.success(request, _("Saved the reply %(title)s.") % {"title": saved.title})
    return redirect("console:quick_replies")


@require_http_methods(["GET", "POST"])
@console_view
def reply_create(request: HttpRequest, access: Access) -> HttpResponse:
    _require_manage(access)
    if request.method == "POST":
        return _save_reply(request, access, None)
    group = parse_id(request.GET.get("group", ""))
    initial = {"group": group} if group is not None else {}
    return _reply_editor(request, None, ReplyForm(initial=initial, corp=access.corp))


@require_http_methods(["GET", "POST"])
@console_view
def reply_edit(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    reply = _reply(access, pk)
    _require_manage(access)
    if request.method == "POST":
        return _save_reply(request, access, reply)
    initial = {
        "group": reply.group_id,
        "title": reply.title,
        "keywords": reply.keywords,
        "text": reply.text,
        "items": list(reply.items.values_list("pk", flat=True)),
    }
    return _reply_editor(request, reply, ReplyForm(initial=initial, corp=access.corp))


@require_POST
@console_view
def reply_delete(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    reply = _reply(access, pk)
    _require_manage(access)
    quick_replies.delete_reply(access=access, reply=reply)
    flash.success(request, _("Deleted the reply %(title)s.") % {"title": reply.title})
    return redirect("console:quick_replies")


@require_POST
@console_view
def reply_used(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    """A staff member copied or sent the reply."""
    reply = quick_replies.mark_used(access=access, reply=_reply(access, pk))
    flash.success(
        request,
        _("Counted a use of %(title)s (%(n)d in all).")
        % {"title": reply.title, "n": reply.used_count},
    )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("console:quick_replies")
    return redirect(target)


@require_POST
@console_view
def group_create(request: HttpRequest, access: Access) -> HttpResponse:
    _require_manage(access)
    form = GroupForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_form_problems(form))
        group = quick_replies.save_group(
            access=access,
            name=form.cleaned_data["name"],
            position=form.cleaned_data.get("position") or 0,
        )
    except ValidationError as exc:
        flash.error(request, " ".join(exc.messages))
        return redirect("console:quick_replies")
    flash.success(request, _("Created the group %(name)s.") % {"name": group.name})
    return redirect(f"{reverse('console:quick_replies')}?group={group.pk}")


@require_POST
@console_view
def group_delete(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    _require_manage(access)
    group = QuickReplyGroup.objects.filter(corp=access.corp, pk=pk).first()
    if group is None:
        raise Http404
    quick_replies.delete_group(access=access, group=group)
    flash.success(request, _("Deleted the group %(name)s and its replies.") % {"name": group.name})
    return redirect("console:quick_replies")
