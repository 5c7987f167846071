"""REST API: the welcome-message library, staff defaults, files for attachments, and sends."""

from __future__ import annotations

from django.db.models import Count
from django.http import Http404, HttpRequest
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from qike.api.auth import access_of, read_auth, write_auth
from qike.api.pagination import cursor_page, numbered_page
from qike.api.schemas import CursorQuery, Id, PageQuery, Text, errors
from qike.engagement import library, queries, quick_replies, services
from qike.engagement.models import (
    AttachmentKind,
    ContentFolder,
    ContentItem,
    ContentTag,
    LinkOpen,
    QuickReply,
    QuickReplyGroup,
    WelcomeMedia,
    WelcomeMessage,
    WelcomeSend,
)
from qike.engagement.schemas import (
    FolderIn,
    FolderOut,
    ItemFilters,
    ItemIn,
    ItemOut,
    ItemPage,
    LinkOpenPage,
    MediaOut,
    MessageIn,
    MessageOut,
    MessagePage,
    ReplyFilters,
    ReplyGroupIn,
    ReplyGroupOut,
    ReplyIn,
    ReplyOut,
    ReplyPage,
    SendFilters,
    SendPage,
    StaffDefaultIn,
    StaffDefaultOut,
    TagOut,
)

router = Router(tags=["welcome messages"], auth=read_auth)

WRITE_ERRORS = errors(400, 403, 404)
LINK_FIELDS = ("title", "url", "desc", "picurl")
MINIPROGRAM_FIELDS = ("title", "appid", "page")


def picked_titles(messages: list[WelcomeMessage]) -> dict[int, tuple[str, str]]:
    """{item id: (kind, title)} of the library items the messages name, in one query."""
    ids = {int(pk) for message in messages for pk in message.item_ids or ()}
    if not ids:
        return {}
    corp_ids = {message.corp_id for message in messages}
    rows = ContentItem.objects.filter(corp_id__in=corp_ids, pk__in=ids)
    return {pk: (kind, title) for pk, kind, title in rows.values_list("pk", "kind", "title")}


def _picked(message: WelcomeMessage, known: dict[int, tuple[str, str]]) -> list[dict]:
    rows = []
    for pk in message.item_ids or ():
        kind, title = known.get(int(pk), (None, None))
        rows.append({"id": int(pk), "kind": kind, "title": title, "missing": kind is None})
    return rows


def message_data(message: WelcomeMessage, known: dict[int, tuple[str, str]] | None = None) -> dict:
    if known is None:
        known = picked_titles([message])
    return {
        "id": message.pk,
        "name": message.name,
        "text": message.text,
        "attachments": message.attachments,
        "item_ids": [int(pk) for pk in message.item_ids or ()],
        "items": _picked(message, known),
        "variants": message.variants,
        "nickname_fallback": message.nickname_fallback,
        "is_corp_default": message.is_corp_default,
        "created_at": message.created_at,
        "updated_at": message.updated_at,
    }


def _inputs(payload: MessageIn) -> list[services.AttachmentInput]:
    names = {AttachmentKind.LINK: LINK_FIELDS, AttachmentKind.MINIPROGRAM: MINIPROGRAM_FIELDS}
    return [
        services.AttachmentInput(
            kind=item.msgtype.value,
            fields={name: getattr(item, name) for name in names.get(item.msgtype, ())},
            media=item.media,
        )
        for item in payload.attachments
    ]


def _save(request: HttpRequest, payload: MessageIn, message: WelcomeMessage | None) -> dict:
    saved = services.save_message(
        access=access_of(request),
        message=message,
        name=payload.name,
        text=payload.text,
        attachments=_inputs(payload),
        item_ids=payload.item_ids,
        variants=[v.dict() for v in payload.variants],
        nickname_fallback=payload.nickname_fallback,
        is_corp_default=payload.is_corp_default,
    )
    saved.refresh_from_db()
    return message_data(saved)


@router.get(
    "/welcome-messages", response={200: MessagePage, **errors(403)}, summary="List welcome messages"
)
def list_messages(request: HttpRequest, page: Query[PageQuery]) -> dict:
    result = numbered_page(queries.messages(access_of(request)), page)
    known = picked_titles(list(result["items"]))
    result["items"] = [message_data(m, known) for m in result["items"]]
    return result


@router.post(
    "/welcome-messages",
    auth=write_auth,
    response={201: MessageOut, **WRITE_ERRORS},
    summary="Create a welcome message",
)
def create_message(request: HttpRequest, payload: MessageIn) -> Status:
    """Checked against WeCom's rules (text ≤ 4000 bytes with the library's text items appended,
    ≤ 9 attachments counting `item_ids`' non-text items, link title ≤ 128 and desc ≤ 512 bytes,
    mini program title ≤ 64 bytes, text or attachments, library items of this corp); 400 lists
    every problem."""
    return Status(201, _save(request, payload, None))


@router.get(
    "/welcome-messages/{message_id}",
    response={200: MessageOut, **errors(403, 404)},
    summary="Get a welcome message",
)
def get_message(request: HttpRequest, message_id: Id) -> dict:
    return message_data(queries.get_message(access_of(request), message_id))


@router.put(
    "/welcome-messages/{message_id}",
    auth=write_auth,
    response={200: MessageOut, **WRITE_ERRORS},
    summary="Replace a welcome message",
)
def replace_message(request: HttpRequest, message_id: Id, payload: MessageIn) -> dict:
    return _save(request, payload, queries.get_message(access_of(request), message_id))


@router.delete(
    "/welcome-messages/{message_id}",
    auth=write_auth,
    response={204: None, **WRITE_ERRORS},
    summary="Delete a welcome message",
)
def delete_message(request: HttpRequest, message_id: Id) -> Status:
    access = access_of(request)
    services.delete_message(access=access, message=queries.get_message(access, message_id))
    return Status(204, None)


@router.post(
    "/welcome-media",
    auth=write_auth,
    response={201: MediaOut, **WRITE_ERRORS},
    summary="Upload a file for attachments",
)
def upload_media(
    request: HttpRequest,
    kind: Form[AttachmentKind],
    file: File[UploadedFile],
) -> Status:
    """An image (JPG/PNG ≤ 2 MB), video (MP4 ≤ 10 MB) or file (≤ 20 MB) kept in Qike; name it
    as `media` in an attachment. Qike uploads it to WeCom when a message is sent."""
    media: WelcomeMedia = services.add_media(
        access=access_of(request), kind=kind.value, upload=file
    )
    return Status(
        201,
        {
            "id": media.pk,
            "kind": media.kind,
            "filename": media.filename,
            "size": media.size,
            "created_at": media.created_at,
        },
    )


def _staff_default_data(access, member) -> dict:
    row = queries.staff_defaults(access).get(member.pk)
    return {
        "userid": member.userid,
        "message_id": row.message_id if row else None,
        "message_name": row.message.name if row else None,
    }


@router.get(
    "/staff/{userid}/welcome-message",
    response={200: StaffDefaultOut, **errors(403, 404)},
    summary="A staff member's default welcome message",
)
def get_staff_default(request: HttpRequest, userid: Text) -> dict:
    access = access_of(request)
    return _staff_default_data(access, queries.get_staff(access, userid=userid))


@router.put(
    "/staff/{userid}/welcome-message",
    auth=write_auth,
    response={200: StaffDefaultOut, **WRITE_ERRORS},
    summary="Set a staff member's default welcome message",
)
def set_staff_default(request: HttpRequest, userid: Text, payload: StaffDefaultIn) -> dict:
    """Corp admins and operations set anyone's; other users only their own."""
    access = access_of(request)
    member = queries.get_staff(access, userid=userid)
    message = queries.get_message(access, payload.message_id) if payload.message_id else None
    services.set_staff_default(access=access, staff=member, message=message)
    return _staff_default_data(access, member)


def send_data(send: WelcomeSend) -> dict:
    return {
        "id": send.pk,
        "status": send.status,
        "welcome_code": send.welcome_code,
        "userid": send.userid,
        "external_userid": send.external_userid,
        "customer_name": send.customer.name if send.customer else "",
        "state": send.state,
        "source": send.source_label,
        "message_id": send.message_id,
        "message_name": send.message_name,
        "chosen_by": send.chosen_by or None,
        "variant": send.variant,
        "text": send.text,
        "attachments": send.attachments,
        "errcode": send.errcode,
        "errmsg": send.errmsg,
        "event_at": send.event_at,
        "created_at": send.created_at,
        "finished_at": send.finished_at,
    }


@router.get(
    "/welcome-sends", response={200: SendPage, **errors(400, 403)}, summary="List welcome sends"
)
def list_sends(request: HttpRequest, filters: Query[SendFilters], page: Query[CursorQuery]) -> dict:
    """Newest first: every add with its welcome and the result, for the staff members in the
    token's view."""
    rows = queries.filter_sends(
        access_of(request),
        status=filters.status.value if filters.status else "",
        staff=filters.staff,
        customer=filters.customer,
        since=filters.since,
        until=filters.until,
    )
    result = cursor_page(rows, field="created_at", params=page)
    result["items"] = [send_data(s) for s in result["items"]]
    return result


# --- content library (素材库) ---------------------------------------------------------------------

CONTENT = ["content library"]
REPLIES = ["quick replies"]


def _item_of(request: HttpRequest, item_id: int) -> ContentItem:
    found = library.items(access_of(request).corp).filter(pk=item_id).first()
    if found is None:
        raise Http404
    return found


def item_data(item: ContentItem, opens: tuple[int, int] = (0, 0)) -> dict:
    return {
        "id": item.pk,
        "kind": item.kind,
        "title": item.title,
        "text": item.text,
        "url": item.url,
        "appid": item.appid,
        "page": item.page,
        "cover_url": item.cover_url,
        "has_cover": bool(item.cover),
        "filename": item.filename,
        "size": item.size,
        "tracked": item.tracked,
        "folder_id": item.folder_id,
        "tags": [tag.name for tag in item.tags.all()],
        "sent_count": item.sent_count,
        "opens": opens[0],
        "unique_customers": opens[1],
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def _one_item(item: ContentItem) -> dict:
    stats = library.item_stats(item)
    return item_data(item, (stats.opens, stats.unique_customers))


@router.get(
    "/content-items",
    response={200: ItemPage, **errors(403)},
    tags=CONTENT,
    summary="List and search library items",
)
def list_items(request: HttpRequest, filters: Query[ItemFilters], page: Query[PageQuery]) -> dict:
    found = library.search_items(
        corp=access_of(request).corp,
        q=filters.q,
        kind=filters.kind.value if filters.kind else "",
        folder_id=filters.folder,
        tag_id=filters.tag,
        unfiled=filters.unfiled,
    )
    result = numbered_page(found, page)
    opens = library.open_counts(access_of(request).corp, [i.pk for i in result["items"]])
    result["items"] = [item_data(i, opens.get(i.pk, (0, 0))) for i in result["items"]]
    return result


def _input(kind: str, payload: ItemIn, file, cover) -> library.ItemInput:
    return library.ItemInput(
        kind=kind,
        title=payload.title,
        text=payload.text,
        url=payload.url.strip(),
        appid=payload.appid.strip(),
        page=payload.page.strip(),
        cover_url=payload.cover_url.strip(),
        tracked=payload.tracked,
        folder_id=payload.folder_id,
        tag_names=[t for t in payload.tags.replace("，", ",").split(",") if t.strip()],
        upload=file,
        cover_upload=cover,
    )


@router.post(
    "/content-items",
    auth=write_auth,
    response={201: ItemOut, **WRITE_ERRORS},
    tags=CONTENT,
    summary="Create a library item",
)
def create_item(
    request: HttpRequest,
    payload: Form[ItemIn],
    file: File[UploadedFile] = None,
    cover: File[UploadedFile] = None,
) -> Status:
    """multipart/form-data. `file` for image (JPG/PNG ≤ 2 MB), video (MP4 ≤ 10 MB) and file
    (≤ 20 MB) items; `cover` (JPG/PNG ≤ 2 MB) for links (optional) and mini programs (required).
    400 lists every problem and saves nothing."""
    data = _input(payload.kind.value, payload, file, cover)
    item = library.save_item(access=access_of(request), data=data)
    return Status(201, _one_item(item))


@router.get(
    "/content-items/{item_id}",
    response={200: ItemOut, **errors(403, 404)},
    tags=CONTENT,
    summary="Get a library item with its stats",
)
def get_item(request: HttpRequest, item_id: Id) -> dict:
    return _one_item(_item_of(request, item_id))


@router.post(
    "/content-items/{item_id}",
    auth=write_auth,
    response={200: ItemOut, **WRITE_ERRORS},
    tags=CONTENT,
    summary="Change a library item",
)
def update_item(
    request: HttpRequest,
    item_id: Id,
    payload: Form[ItemIn],
    file: File[UploadedFile] = None,
    cover: File[UploadedFile] = None,
) -> dict:
    """multipart/form-data, every field as on create; the kind cannot change. Without `file`
    or `cover` the stored ones stay."""
    item = _item_of(request, item_id)
    data = _input(payload.kind.value, payload, file, cover)
    return _one_item(library.save_item(access=access_of(request), data=data, item=item))


@router.delete(
    "/content-items/{item_id}",
    auth=write_auth,
    response={204: None, **WRITE_ERRORS},
    tags=CONTENT,
    summary="Delete a library item",
)
def delete_item(request: HttpRequest, item_id: Id) -> Status:
    library.delete_item(access=access_of(request), item=_item_of(request, item_id))
    return Status(204, None)


@router.get(
    "/content-items/{item_id}/opens",
    response={200: LinkOpenPage, **errors(403, 404)},
    tags=CONTENT,
    summary="Opens of a tracked link, newest first",
)
def list_opens(request: HttpRequest, item_id: Id, page: Query[PageQuery]) -> dict:
    item = _item_of(request, item_id)
    rows = LinkOpen.objects.filter(corp=item.corp, item=item).select_related("customer")
    result = numbered_page(rows.order_by("-opened_at", "-id"), page)
    result["items"] = [
        {
            "opened_at": o.opened_at,
            "external_userid": o.customer.external_userid if o.customer else None,
            "campaign_ref": o.campaign_ref,
            "user_agent": o.user_agent,
        }
        for o in result["items"]
    ]
    return result


@router.get(
    "/content-folders",
    response={200: list[FolderOut], **errors(403)},
    tags=CONTENT,
    summary="List library folders",
)
def list_folders(request: HttpRequest) -> list[dict]:
    rows = ContentFolder.objects.filter(corp=access_of(request).corp).annotate(n=Count("items"))
    return [{"id": f.pk, "name": f.name, "items": f.n} for f in rows]


@router.post(
    "/content-folders",
    auth=write_auth,
    response={201: FolderOut, **WRITE_ERRORS},
    tags=CONTENT,
    summary="Create a library folder",
)
def create_folder(request: HttpRequest, payload: FolderIn) -> Status:
    folder = library.create_folder(access=access_of(request), name=payload.name)
    return Status(201, {"id": folder.pk, "name": folder.name, "items": 0})


@router.delete(
    "/content-folders/{folder_id}",
    auth=write_auth,
    response={204: None, **WRITE_ERRORS},
    tags=CONTENT,
    summary="Delete a library folder (its items stay, unfiled)",
)
def delete_folder(request: HttpRequest, folder_id: Id) -> Status:
    folder = ContentFolder.objects.filter(corp=access_of(request).corp, pk=folder_id).first()
    if folder is None:
        raise Http404
    library.delete_folder(access=access_of(request), folder=folder)
    return Status(204, None)


@router.get(
    "/content-tags",
    response={200: list[TagOut], **errors(403)},
    tags=CONTENT,
    summary="List library tags",
)
def list_content_tags(request: HttpRequest) -> list[dict]:
    rows = ContentTag.objects.filter(corp=access_of(request).corp).annotate(n=Count("items"))
    return [{"id": t.pk, "name": t.name, "items": t.n} for t in rows]


# --- quick replies (话术库) ----------------------------------------------------------------------


def reply_data(reply: QuickReply) -> dict:
    return {
        "id": reply.pk,
        "group_id": reply.group_id,
        "group": reply.group.name,
        "title": reply.title,
        "text": reply.text,
        "keywords": reply.keywords,
        "item_ids": sorted(item.pk for item in reply.items.all()),
        "used_count": reply.used_count,
        "last_used_at": reply.last_used_at,
        "created_at": reply.created_at,
        "updated_at": reply.updated_at,
    }


def _reply_of(request: HttpRequest, reply_id: int) -> QuickReply:
    found = QuickReply.objects.filter(corp=access_of(request).corp, pk=reply_id).first()
    if found is None:
        raise Http404
    return found


def _group_of(request: HttpRequest, group_id: int) -> QuickReplyGroup:
    found = quick_replies.groups(access_of(request).corp).filter(pk=group_id).first()
    if found is None:
        raise Http404
    return found


def group_data(group: QuickReplyGroup) -> dict:
    return {
        "id": group.pk,
        "name": group.name,
        "position": group.position,
        "replies": group.replies.count(),
    }


@router.get(
    "/quick-reply-groups",
    response={200: list[ReplyGroupOut], **errors(403)},
    tags=REPLIES,
    summary="List quick-reply groups",
)
def list_groups(request: HttpRequest) -> list[dict]:
    rows = quick_replies.groups(access_of(request).corp).annotate(n=Count("replies"))
    return [{"id": g.pk, "name": g.name, "position": g.position, "replies": g.n} for g in rows]


@router.post(
    "/quick-reply-groups",
    auth=write_auth,
    response={201: ReplyGroupOut, **WRITE_ERRORS},
    tags=REPLIES,
    summary="Create a quick-reply group",
)
def create_group(request: HttpRequest, payload: ReplyGroupIn) -> Status:
    group = quick_replies.save_group(
        access=access_of(request), name=payload.name, position=payload.position
    )
    return Status(201, group_data(group))


@router.put(
    "/quick-reply-groups/{group_id}",
    auth=write_auth,
    response={200: ReplyGroupOut, **WRITE_ERRORS},
    tags=REPLIES,
    summary="Rename or reorder a quick-reply group",
)
def update_group(request: HttpRequest, group_id: Id, payload: ReplyGroupIn) -> dict:
    group = quick_replies.save_group(
        access=access_of(request),
        group=_group_of(request, group_id),
        name=payload.name,
        position=payload.position,
    )
    return group_data(group)


@router.delete(
    "/quick-reply-groups/{group_id}",
    auth=write_auth,
    response={204: None, **WRITE_ERRORS},
    tags=REPLIES,
    summary="Delete a quick-reply group and its replies",
)
def delete_group(request: HttpRequest, group_id: Id) -> Status:
    quick_replies.delete_group(access=access_of(request), group=_group_of(request, group_id))
    return Status(204, None)


@router.get(
    "/quick-replies",
    response={200: ReplyPage, **errors(403)},
    tags=REPLIES,
    summary="Search quick replies (most used first)",
)
def list_replies(
    request: HttpRequest, filters: Query[ReplyFilters], page: Query[PageQuery]
) -> dict:
    found = quick_replies.search(corp=access_of(request).corp, q=filters.q, group_id=filters.group)
    result = numbered_page(found, page)
    result["items"] = [reply_data(r) for r in result["items"]]
    return result


def _save_reply(request: HttpRequest, payload: ReplyIn, reply: QuickReply | None) -> dict:
    saved = quick_replies.save_reply(
        access=access_of(request),
        reply=reply,
        group_id=payload.group_id,
        title=payload.title,
        text=payload.text,
        keywords=payload.keywords,
        item_ids=payload.item_ids,
    )
    return reply_data(QuickReply.objects.select_related("group").get(pk=saved.pk))


@router.post(
    "/quick-replies",
    auth=write_auth,
    response={201: ReplyOut, **WRITE_ERRORS},
    tags=REPLIES,
    summary="Create a quick reply",
)
def create_reply(request: HttpRequest, payload: ReplyIn) -> Status:
    """Text ≤ 4000 bytes and/or library items (≤ 9 attachments; text items count as text)."""
    return Status(201, _save_reply(request, payload, None))


@router.get(
    "/quick-replies/{reply_id}",
    response={200: ReplyOut, **errors(403, 404)},
    tags=REPLIES,
    summary="Get a quick reply",
)
def get_reply(request: HttpRequest, reply_id: Id) -> dict:
    return reply_data(_reply_of(request, reply_id))


@router.put(
    "/quick-replies/{reply_id}",
    auth=write_auth,
    response={200: ReplyOut, **WRITE_ERRORS},
    tags=REPLIES,
    summary="Replace a quick reply",
)
def replace_reply(request: HttpRequest, reply_id: Id, payload: ReplyIn) -> dict:
    return _save_reply(request, payload, _reply_of(request, reply_id))


@router.delete(
    "/quick-replies/{reply_id}",
    auth=write_auth,
    response={204: None, **WRITE_ERRORS},
    tags=REPLIES,
    summary="Delete a quick reply",
)
def delete_reply(request: HttpRequest, reply_id: Id) -> Status:
    quick_replies.delete_reply(access=access_of(request), reply=_reply_of(request, reply_id))
    return Status(204, None)


@router.post(
    "/quick-replies/{reply_id}/used",
    auth=write_auth,
    response={200: ReplyOut, **WRITE_ERRORS},
    tags=REPLIES,
    summary="Count a use of a quick reply",
)
def use_reply(request: HttpRequest, reply_id: Id) -> dict:
    """A staff member used the reply (the sidebar calls this when they send it)."""
    reply = quick_replies.mark_used(access=access_of(request), reply=_reply_of(request, reply_id))
    return reply_data(reply)
