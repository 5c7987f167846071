"""REST API: the welcome-message library, staff defaults, files for attachments, and sends."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from qike.api.auth import access_of, read_auth, write_auth
from qike.api.pagination import cursor_page, numbered_page
from qike.api.schemas import CursorQuery, Id, PageQuery, Text, errors
from qike.engagement import queries, services
from qike.engagement.models import AttachmentKind, WelcomeMedia, WelcomeMessage, WelcomeSend
from qike.engagement.schemas import (
    MediaOut,
    MessageIn,
    MessageOut,
    MessagePage,
    SendFilters,
    SendPage,
    StaffDefaultIn,
    StaffDefaultOut,
)

router = Router(tags=["welcome messages"], auth=read_auth)

WRITE_ERRORS = errors(400, 403, 404)
LINK_FIELDS = ("title", "url", "desc", "picurl")
MINIPROGRAM_FIELDS = ("title", "appid", "page")


def message_data(message: WelcomeMessage) -> dict:
    return {
        "id": message.pk,
        "name": message.name,
        "text": message.text,
        "attachments": message.attachments,
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
    result["items"] = [message_data(m) for m in result["items"]]
    return result


@router.post(
    "/welcome-messages",
    auth=write_auth,
    response={201: MessageOut, **WRITE_ERRORS},
    summary="Create a welcome message",
)
def create_message(request: HttpRequest, payload: MessageIn) -> Status:
    """Checked against WeCom's rules (text ≤ 4000 bytes, ≤ 9 attachments, link title ≤ 128 and
    desc ≤ 512 bytes, mini program title ≤ 64 bytes, text or attachments); 400 lists every problem."""
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
