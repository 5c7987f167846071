"""The tag library page: the corp's tag groups and tags with how many customers carry each, and the
changes that go to WeCom first (create, add, rename, reorder, delete)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qike.console.decorators import console_view
from qike.customers.models import RelationStatus
from qike.org.access import Access, Action
from qike.tags import services
from qike.tags.forms import GroupCreateForm, RenameForm, ReorderForm, TagAddForm
from qike.tags.models import Tag, TagGroup, TagType
from qike.wecom.errors import WeComError

KINDS = {"group": TagGroup, "tag": Tag}


def describe_wecom_error(exc: WeComError) -> str:
    return _("WeCom refused the change: %(errmsg)s (errcode %(errcode)s).") % {
        "errmsg": exc.errmsg or "-",
        "errcode": exc.errcode,
    }


def _tags_with_usage(access: Access):
    """Corp tags with the number of customers (active follow relations) in the user's scope that
    carry each: one aggregate query."""
    in_use = Q(assignments__relation__status=RelationStatus.ACTIVE) & access.staff_filter(
        "assignments__relation__staff__"
    )
    return (
        Tag.objects.filter(corp=access.corp, type=TagType.CORP)
        .annotate(usage=Count("assignments", filter=in_use))
        .order_by("-order", "wecom_id")
    )


def tag_library(access: Access) -> tuple[list[TagGroup], list[Tag]]:
    """The groups in WeCom's order with their tags, and corp tags in no group."""
    access.require(Action.VIEW_CUSTOMERS)
    tags = _tags_with_usage(access)
    groups = list(
        TagGroup.objects.filter(corp=access.corp)
        .order_by("-order", "wecom_id")
        .prefetch_related(Prefetch("tags", queryset=tags, to_attr="tag_list"))
    )
    loose = list(tags.filter(group__isnull=True))
    return groups, loose


def _render(
    request: HttpRequest,
    access: Access,
    *,
    problem: str = "",
    create_form: GroupCreateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    groups, loose = tag_library(access)
    return render(
        request,
        "tags/tags.html",
        {
            "groups": groups,
            "loose": loose,
            "may_manage": access.can(Action.MANAGE_TAGS),
            "create_form": create_form or GroupCreateForm(),
            "problem": problem,
            "max_order": 2**32 - 1,
        },
        status=status,
    )


@require_GET
@console_view
def tags(request: HttpRequest, access: Access) -> HttpResponse:
    return _render(request, access)


def _first_error(form) -> str:
    return " ".join(
        f"{form.fields[name].label}: {' '.join(errors)}"
        if name in form.fields
        else " ".join(errors)
        for name, errors in form.errors.items()
    )


def _change(
    request: HttpRequest,
    access: Access,
    change: Callable[[], None],
    success: str,
    create_form: GroupCreateForm | None = None,
) -> HttpResponse:
    """Run a change that goes to WeCom; on success back to the page, else the page with why."""
    try:
        change()
    except ValidationError as exc:
        problem = " ".join(exc.messages)
    except WeComError as exc:
        problem = describe_wecom_error(exc)
    else:
        messages.success(request, success)
        return redirect("console:tags")
    return _render(request, access, problem=problem, create_form=create_form, status=400)


def _item(access: Access, kind: str, pk: int) -> Tag | TagGroup:
    """A group or corp tag of this corp; another corp's (or a personal tag) is not found."""
    model = KINDS.get(kind)
    if model is None:
        raise Http404
    found = model.objects.filter(corp=access.corp, pk=pk)
    if model is Tag:
        found = found.filter(type=TagType.CORP)
    item = found.first()
    if item is None:
        raise Http404
    return item


@require_POST
@console_view
def group_create(request: HttpRequest, access: Access) -> HttpResponse:
    access.require(Action.MANAGE_TAGS)
    form = GroupCreateForm(request.POST)
    if not form.is_valid():
        return _render(request, access, create_form=form, status=400)
    data = form.cleaned_data
    return _change(
        request,
        access,
        lambda: services.create_group(
            access=access, name=data["name"], tag_names=data["tags"], order=data["order"] or 0
        ),
        _("Tag group %(name)s created in WeCom.") % {"name": data["name"]},
        create_form=form,
    )


@require_POST
@console_view
def tag_add(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    access.require(Action.MANAGE_TAGS)
    group = _item(access, "group", pk)
    form = TagAddForm(request.POST)
    if not form.is_valid():
        return _render(request, access, problem=_first_error(form), status=400)
    names = form.cleaned_data["names"]
    return _change(
        request,
        access,
        lambda: services.add_tags(access=access, group=group, names=names),
        _("Added %(names)s to %(group)s.") % {"names": "、".join(names), "group": group.name},
    )


@require_POST
@console_view
def tag_rename(request: HttpRequest, access: Access, kind: str, pk: int) -> HttpResponse:
    access.require(Action.MANAGE_TAGS)
    item = _item(access, kind, pk)
    form = RenameForm(request.POST)
    if not form.is_valid():
        return _render(request, access, problem=_first_error(form), status=400)
    name = form.cleaned_data["name"]
    return _change(
        request,
        access,
        lambda: services.rename(access=access, item=item, name=name),
        _("Renamed %(old)s to %(new)s.") % {"old": item.name, "new": name},
    )


@require_POST
@console_view
def tag_reorder(request: HttpRequest, access: Access, kind: str, pk: int) -> HttpResponse:
    access.require(Action.MANAGE_TAGS)
    item = _item(access, kind, pk)
    form = ReorderForm(request.POST)
    if not form.is_valid():
        return _render(request, access, problem=_first_error(form), status=400)
    order = form.cleaned_data["order"]
    return _change(
        request,
        access,
        lambda: services.reorder(access=access, item=item, order=order),
        _("%(name)s now has order %(order)s.") % {"name": item.name, "order": order},
    )


@require_POST
@console_view
def tag_delete(request: HttpRequest, access: Access, kind: str, pk: int) -> HttpResponse:
    access.require(Action.MANAGE_TAGS)
    item = _item(access, kind, pk)
    return _change(
        request,
        access,
        lambda: services.delete(access=access, item=item),
        _("Deleted %(name)s in WeCom.") % {"name": item.name},
    )
