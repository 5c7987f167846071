"""REST API: the corp's tag library (WeCom first) and tagging customers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from qike.api.auth import access_of, read_auth, write_auth
from qike.api.errors import ApiError
from qike.api.pagination import numbered_page
from qike.api.schemas import Id, PageQuery, errors
from qike.customers.api import relation_detail_data
from qike.customers.models import RelationStatus
from qike.customers.queries import get_relation
from qike.customers.schemas import RelationWithCustomer
from qike.org.access import Access, Action
from qike.tags import services
from qike.tags.models import Tag, TagGroup
from qike.tags.schemas import (
    Change,
    GroupCreate,
    MarkTags,
    TagDetail,
    TagGroupOut,
    TagGroupPage,
    TagsAdd,
    WeComId,
)

router = Router(tags=["tags"], auth=read_auth)

WRITE_ERRORS = errors(400, 403, 404, 502)


# --- reading --------------------------------------------------------------------------------


def tags_with_usage(access: Access) -> QuerySet[Tag]:
    """Tags with `usage`: how many active relations the caller may see carry them."""
    in_scope = Q(assignments__relation__status=RelationStatus.ACTIVE) & access.staff_filter(
        "assignments__relation__staff__"
    )
    return Tag.objects.filter(corp=access.corp).annotate(
        usage=Count("assignments", filter=in_scope)
    )


def groups_with_tags(access: Access) -> QuerySet[TagGroup]:
    access.require(Action.VIEW_CUSTOMERS)
    return TagGroup.objects.filter(corp=access.corp).prefetch_related(
        Prefetch("tags", queryset=tags_with_usage(access).order_by("-order", "wecom_id"))
    )


def tag_data(tag: Tag) -> dict:
    return {
        "id": tag.wecom_id,
        "name": tag.name,
        "order": tag.order,
        "created_at": tag.created_at,
        "usage": tag.usage,
    }


def group_data(group: TagGroup) -> dict:
    return {
        "id": group.wecom_id,
        "name": group.name,
        "order": group.order,
        "created_at": group.created_at,
        "tags": [tag_data(t) for t in group.tags.all()],
    }


def find_group(access: Access, group_id: str) -> TagGroup:
    access.require(Action.VIEW_CUSTOMERS)
    group = groups_with_tags(access).filter(wecom_id=group_id).first()
    if group is None:
        raise ApiError(404, "not_found", _("No tag group with id %(id)s.") % {"id": group_id})
    return group


def find_tag(access: Access, tag_id: str) -> Tag:
    access.require(Action.VIEW_CUSTOMERS)
    tag = tags_with_usage(access).select_related("group").filter(wecom_id=tag_id).first()
    if tag is None:
        raise ApiError(404, "not_found", _("No tag with id %(id)s.") % {"id": tag_id})
    return tag


def tag_detail_data(tag: Tag) -> dict:
    return {
        **tag_data(tag),
        "group_id": tag.group.wecom_id if tag.group else None,
        "group_name": tag.group.name if tag.group else None,
    }


@router.get("/tag-groups", response={200: TagGroupPage, **errors(403)}, summary="List tag groups")
def list_groups(request: HttpRequest, page: Query[PageQuery]) -> dict:
    """Corp tag groups in WeCom's order, each with its tags and how often they are used."""
    result = numbered_page(groups_with_tags(access_of(request)), page)
    result["items"] = [group_data(g) for g in result["items"]]
    return result


@router.get(
    "/tag-groups/{group_id}",
    response={200: TagGroupOut, **errors(403, 404)},
    summary="Get a tag group",
)
def group_detail(request: HttpRequest, group_id: WeComId) -> dict:
    return group_data(find_group(access_of(request), group_id))


@router.get("/tags/{tag_id}", response={200: TagDetail, **errors(403, 404)}, summary="Get a tag")
def tag_detail(request: HttpRequest, tag_id: WeComId) -> dict:
    return tag_detail_data(find_tag(access_of(request), tag_id))


# --- changing the library: WeCom first, then Qike's copy -------------------------------------


@router.post(
    "/tag-groups",
    auth=write_auth,
    response={201: TagGroupOut, **WRITE_ERRORS},
    summary="Create a tag group",
)
def create_group(request: HttpRequest, payload: GroupCreate) -> Status:
    """Creates the group with its first tags in WeCom, then in Qike."""
    access = access_of(request)
    access.require(Action.MANAGE_TAGS)
    group = services.create_group(
        access=access, name=payload.name, tag_names=payload.tags, order=payload.order
    )
    return Status(201, group_data(find_group(access, group.wecom_id)))


@router.post(
    "/tag-groups/{group_id}/tags",
    auth=write_auth,
    response={201: TagGroupOut, **WRITE_ERRORS},
    summary="Add tags to a group",
)
def add_tags(request: HttpRequest, group_id: WeComId, payload: TagsAdd) -> Status:
    access = access_of(request)
    access.require(Action.MANAGE_TAGS)
    services.add_tags(access=access, group=find_group(access, group_id), names=payload.names)
    return Status(201, group_data(find_group(access, group_id)))


def apply_change(access: Access, item: Tag | TagGroup, change: Change) -> None:
    if change.name is None and change.order is None:
        raise ValidationError(_("Give a new name, a new order, or both."))
    if change.name is not None:
        services.rename(access=access, item=item, name=change.name)
    if change.order is not None:
        services.reorder(access=access, item=item, order=change.order)


@router.patch(
    "/tag-groups/{group_id}",
    auth=write_auth,
    response={200: TagGroupOut, **WRITE_ERRORS},
    summary="Rename or reorder a tag group",
)
def change_group(request: HttpRequest, group_id: WeComId, payload: Change) -> dict:
    access = access_of(request)
    access.require(Action.MANAGE_TAGS)
    apply_change(access, find_group(access, group_id), payload)
    return group_data(find_group(access, group_id))


@router.patch(
    "/tags/{tag_id}",
    auth=write_auth,
    response={200: TagDetail, **WRITE_ERRORS},
    summary="Rename or reorder a tag",
)
def change_tag(request: HttpRequest, tag_id: WeComId, payload: Change) -> dict:
    access = access_of(request)
    access.require(Action.MANAGE_TAGS)
    apply_change(access, find_tag(access, tag_id), payload)
    return tag_detail_data(find_tag(access, tag_id))


@router.delete(
    "/tag-groups/{group_id}",
    auth=write_auth,
    response={204: None, **WRITE_ERRORS},
    summary="Delete a tag group",
)
def delete_group(request: HttpRequest, group_id: WeComId) -> Status:
    """Deletes the group and all its tags in WeCom; WeCom takes them off every customer."""
    access = access_of(request)
    access.require(Action.MANAGE_TAGS)
    services.delete(access=access, item=find_group(access, group_id))
    return Status(204, None)


@router.delete(
    "/tags/{tag_id}", auth=write_auth, response={204: None, **WRITE_ERRORS}, summary="Delete a tag"
)
def delete_tag(request: HttpRequest, tag_id: WeComId) -> Status:
    access = access_of(request)
    access.require(Action.MANAGE_TAGS)
    services.delete(access=access, item=find_tag(access, tag_id))
    return Status(204, None)


# --- tagging customers -----------------------------------------------------------------------


def tags_by_id(access: Access, wecom_ids: list[str]) -> list[Tag]:
    """The corp's tags for these ids; any id the corp lacks is 404, named in the details."""
    wanted = list(dict.fromkeys(wecom_ids))
    found = {t.wecom_id: t for t in Tag.objects.filter(corp=access.corp, wecom_id__in=wanted)}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ApiError(
            404,
            "not_found",
            _("No tags with these ids: %(ids)s") % {"ids": ", ".join(missing)},
            {"tags": missing},
        )
    return [found[i] for i in wanted]


@router.post(
    "/relations/{relation_id}/tags",
    auth=write_auth,
    response={200: RelationWithCustomer, **WRITE_ERRORS},
    summary="Tag or untag a customer",
)
def mark_tags(request: HttpRequest, relation_id: Id, payload: MarkTags) -> dict:
    """Puts tags on (and takes tags off) a customer as one staff member follows them: in WeCom
    (`mark_tag`), then in Qike, then on the customer's timeline."""
    access = access_of(request)
    access.require(Action.TAG_CUSTOMERS)
    relation = get_relation(access, relation_id)
    both = set(payload.add) & set(payload.remove)
    if both:
        raise ValidationError(
            _("A tag cannot be both added and removed: %(ids)s") % {"ids": ", ".join(sorted(both))}
        )
    services.mark_tags(
        access=access,
        relation=relation,
        add=tags_by_id(access, payload.add),
        remove=tags_by_id(access, payload.remove),
    )
    return relation_detail_data(access, relation_id)
