"""Welcome messages (欢迎语): the library, who gets which message, and sending it within WeCom's
20-second window, at most once per welcome code.

The choice, in order: the channel's own message (the add's State, through `engagement.sources`),
the staff member's default, the corp's default; within the chosen message the time-of-day variant
that covers now (Asia/Shanghai) replaces the text.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from qike.audit.services import record, snapshot
from qike.core import clock
from qike.core.ids import MAX_DB_INT, parse_id
from qike.core.models import Corp
from qike.core.services import client_for
from qike.customers.models import Customer, FollowRelation, TimelineKind
from qike.customers.services import add_timeline
from qike.engagement import sources
from qike.engagement.models import (
    MAX_ATTACHMENTS,
    MAX_LINK_DESC_BYTES,
    MAX_LINK_TITLE_BYTES,
    MAX_MINIPROGRAM_TITLE_BYTES,
    MAX_TEXT_BYTES,
    NICKNAME,
    AttachmentKind,
    ChosenBy,
    ContentItem,
    ContentKind,
    SendStatus,
    StaffWelcome,
    WelcomeMedia,
    WelcomeMessage,
    WelcomeSend,
)
from qike.org.access import Access, Action
from qike.org.models import Staff
from qike.wecom import errors as wecom_errors
from qike.wecom.client import WeComClient
from qike.wecom.errors import WeComError

log = logging.getLogger("qike.engagement")

CODE_LIFETIME = dt.timedelta(seconds=20)  # WeCom: send within 20 s of the add event
MEDIA_LIFETIME = dt.timedelta(days=3)  # WeCom: a temporary media_id is valid 3 days
MEDIA_SAFETY_MARGIN = dt.timedelta(hours=1)  # re-upload a little early rather than risk 40007
MEDIA_INVALID = 40007  # WeCom: the media_id is unknown or expired
EXPIRED_CODES = {wecom_errors.WELCOME_CODE_INVALID, wecom_errors.WELCOME_CODE_USED}
TRANSFER_ADD_WAY = 202  # a takeover after a transfer: WeCom sends no welcome code, by design
MAX_VARIANTS = 6
MAX_ERRMSG = 512

MB = 1024 * 1024
MIN_MEDIA_BYTES = 6  # WeCom: every file must be larger than 5 bytes
MEDIA_LIMITS = {
    AttachmentKind.IMAGE: 2 * MB,
    AttachmentKind.VIDEO: 10 * MB,
    AttachmentKind.FILE: 20 * MB,
}
MEDIA_KINDS = (AttachmentKind.IMAGE, AttachmentKind.VIDEO, AttachmentKind.FILE)
TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def may_manage(access: Access) -> bool:
    """Corp admins and operations build the library and the corp default."""
    return access.can(Action.RUN_CAMPAIGNS)


def _require_manage(access: Access) -> None:
    access.require(Action.RUN_CAMPAIGNS)


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


# --- validation ------------------------------------------------------------------------------


@dataclass
class AttachmentInput:
    """One attachment as the console or the API gives it: link and mini program fields, and for
    image, video, file (and a mini program's cover image) an existing media or a new upload."""

    kind: str
    fields: dict[str, str] = field(default_factory=dict)
    media: int | None = None  # a WelcomeMedia of this corp
    upload: UploadedFile | None = None


def _media_format_problem(kind: str, head: bytes) -> str:
    """WeCom looks at the content, not the name: images must be JPG/PNG, videos MP4."""
    if kind == AttachmentKind.IMAGE and not (
        head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n")
    ):
        return _("an image must be a JPG or PNG file")
    if kind == AttachmentKind.VIDEO and head[4:8] != b"ftyp":
        return _("a video must be an MP4 file")
    return ""


def check_upload(kind: str, upload: UploadedFile) -> str:
    """Why WeCom would refuse this file ("" when it would not)."""
    limit = MEDIA_LIMITS[kind]
    if upload.size is None or upload.size < MIN_MEDIA_BYTES:
        return _("the file is empty or too small")
    if upload.size > limit:
        return _("the file is %(size)s MB; WeCom takes at most %(limit)d MB for this kind") % {
            "size": f"{upload.size / MB:.1f}",
            "limit": limit // MB,
        }
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    return _media_format_problem(kind, head)


def _check_url(value: str) -> bool:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        return False
    return True


def _byte_limit(problems: list[str], label: str, value: str, limit: int) -> None:
    if utf8_len(value) > limit:
        problems.append(
            _("%(label)s is %(size)d bytes long; WeCom allows %(limit)d.")
            % {"label": label, "size": utf8_len(value), "limit": limit}
        )


def _check_media_ref(corp: Corp, item: AttachmentInput, kind: str, problems: list[str]) -> None:
    """An attachment that needs a file: a new upload, or media of this corp of the right kind."""
    if item.upload is not None:
        problem = check_upload(kind, item.upload)
        if problem:
            problems.append(problem)
        return
    if item.media is None:
        problems.append(_("choose a file"))
        return
    if not WelcomeMedia.objects.filter(corp=corp, pk=item.media, kind=kind).exists():
        problems.append(
            _("the chosen file is not one of this corp's %(kind)s files") % {"kind": kind}
        )


def _attachment_problems(corp: Corp, item: AttachmentInput) -> list[str]:
    problems: list[str] = []
    data = item.fields
    if item.kind == AttachmentKind.LINK:
        if not data.get("title"):
            problems.append(_("a link needs a title"))
        _byte_limit(problems, _("The link title"), data.get("title", ""), MAX_LINK_TITLE_BYTES)
        _byte_limit(problems, _("The link description"), data.get("desc", ""), MAX_LINK_DESC_BYTES)
        if not _check_url(data.get("url", "")):
            problems.append(_("a link needs a web address starting with http:// or https://"))
        if data.get("picurl") and not _check_url(data["picurl"]):
            problems.append(_("the cover image address must start with http:// or https://"))
    elif item.kind == AttachmentKind.MINIPROGRAM:
        if not data.get("title"):
            problems.append(_("a mini program needs a title"))
        _byte_limit(
            problems,
            _("The mini program title"),
            data.get("title", ""),
            MAX_MINIPROGRAM_TITLE_BYTES,
        )
        if not re.match(r"^wx[0-9a-zA-Z]{6,32}$", data.get("appid", "")):
            problems.append(_("a mini program needs its AppID (it starts with wx)"))
        if not data.get("page"):
            problems.append(_("a mini program needs the page to open"))
        _check_media_ref(corp, item, AttachmentKind.IMAGE, problems)
    elif item.kind in MEDIA_KINDS:
        _check_media_ref(corp, item, item.kind, problems)
    else:
        problems.append(_("unknown kind %(kind)s") % {"kind": item.kind or "-"})
    return problems


def _variant_problems(variant: dict, number: int, has_attachments: bool) -> list[str]:
    problems = []
    start, end = str(variant.get("start", "")), str(variant.get("end", ""))
    prefix = _("Time-of-day variant %(n)d") % {"n": number}
    if not TIME_OF_DAY.match(start) or not TIME_OF_DAY.match(end):
        problems.append(
            _("%(prefix)s: give the start and end as HH:MM, e.g. 08:00.") % {"prefix": prefix}
        )
    elif start == end:
        problems.append(_("%(prefix)s: the start and end are the same.") % {"prefix": prefix})
    text = str(variant.get("text", ""))
    if utf8_len(text) > MAX_TEXT_BYTES:
        problems.append(
            _("%(prefix)s: the text is %(size)d bytes long; WeCom allows %(limit)d.")
            % {"prefix": prefix, "size": utf8_len(text), "limit": MAX_TEXT_BYTES}
        )
    if not text.strip() and not has_attachments:
        problems.append(
            _("%(prefix)s: write a text, or add attachments to the message.") % {"prefix": prefix}
        )
    return problems


def validate_content(
    *,
    corp: Corp,
    text: str,
    attachments: list[AttachmentInput],
    variants: list[dict],
    item_ids: Sequence[Any] = (),
) -> None:
    """WeCom's rules for send_welcome_msg (API-FACTS §3.4, §6, §8), checked before anything is
    saved: text ≤ 4000 bytes, ≤ 9 attachments, link title ≤ 128 / desc ≤ 512 bytes, mini program
    title ≤ 64 bytes, text and attachments not both empty; files as WeCom's media/upload takes them.
    Library items (`item_ids`) count with the own attachments, their text items with the text."""
    problems: list[str] = []
    try:
        ids = clean_item_ids(item_ids)
    except ValidationError as exc:
        problems.extend(exc.messages)
        ids = []
    texts = [text, *(str(v.get("text", "")) for v in variants)]
    item_problems, has_items = _library_problems(corp, ids, len(attachments), texts)
    if utf8_len(text) > MAX_TEXT_BYTES:
        problems.append(
            _(
                "The text is %(size)d bytes long; WeCom allows %(limit)d (a Chinese character takes 3)."
            )
            % {"size": utf8_len(text), "limit": MAX_TEXT_BYTES}
        )
    if len(attachments) > MAX_ATTACHMENTS:
        problems.append(
            _("A welcome message may have at most %(max)d attachments; this one has %(n)d.")
            % {"max": MAX_ATTACHMENTS, "n": len(attachments)}
        )
    for number, item in enumerate(attachments, start=1):
        for problem in _attachment_problems(corp, item):
            problems.append(
                _("Attachment %(n)d (%(kind)s): %(problem)s")
                % {"n": number, "kind": item.kind, "problem": problem}
            )
    problems.extend(item_problems)
    has_more = bool(attachments) or has_items
    if not text.strip() and not has_more:
        problems.append(_("Write a text or add at least one attachment: both cannot be empty."))
    if len(variants) > MAX_VARIANTS:
        problems.append(
            _("A message may have at most %(max)d time-of-day variants.") % {"max": MAX_VARIANTS}
        )
    for number, variant in enumerate(variants, start=1):
        problems.extend(_variant_problems(variant, number, has_more))
    if problems:
        raise ValidationError(problems)


# --- content-library items -------------------------------------------------------------------


def _library():
    """`engagement.library` imports this module (check_upload, utf8_len), so it is imported late."""
    from qike.engagement import library

    return library


class PickedItem(NamedTuple):
    pk: int
    kind: str
    title: str
    text: str


def clean_item_ids(item_ids: Sequence[Any]) -> list[int]:
    """The ids as integers, each once, in the order given (a second pick of an item adds nothing)."""
    ids = [
        pk if isinstance(pk, int) and not isinstance(pk, bool) else parse_id(pk) for pk in item_ids
    ]
    if any(pk is None or not 1 <= pk <= MAX_DB_INT for pk in ids):
        raise ValidationError(_("Library item ids must be numbers."))
    return list(dict.fromkeys(ids))


def picked_items(corp: Corp, item_ids: Sequence[int]) -> list[PickedItem]:
    """The corp's items among the ids, in the chosen order, in one query; ids of deleted (or
    other corps') items are left out."""
    if not item_ids:
        return []
    rows = ContentItem.objects.filter(corp=corp, pk__in=list(item_ids)).values_list(
        "pk", "kind", "title", "text"
    )
    found = {row[0]: PickedItem(*row) for row in rows}
    return [found[pk] for pk in item_ids if pk in found]


def library_text(items: Sequence[PickedItem]) -> str:
    """The text items' text, joined like `library.text_of` (a blank line between)."""
    return "\n\n".join(item.text for item in items if item.kind == ContentKind.TEXT)


def with_library_text(text: str, extra: str) -> str:
    """The welcome text followed by the text items' text, a blank line between."""
    return "\n\n".join(part for part in (text, extra) if part)


def _library_problems(
    corp: Corp, item_ids: list[int], own_attachments: int, texts: list[str]
) -> tuple[list[str], bool]:
    """(problems, whether the items add content): ids of this corp, files present, and WeCom's
    limits for the whole message: ≤ 9 attachments with the message's own, ≤ 4000 bytes of text
    once the text items are appended to the text and to every variant's text."""
    if not item_ids:
        return [], False
    problems: list[str] = []
    try:
        _library().validate_attachments(corp=corp, item_ids=item_ids, purpose="message")
    except ValidationError as exc:
        problems.extend(exc.messages)
    picked = picked_items(corp, item_ids)
    attachable = sum(1 for item in picked if item.kind != ContentKind.TEXT)
    # Beyond 9 library items alone, the library has said so already.
    if attachable <= MAX_ATTACHMENTS < attachable + own_attachments:
        problems.append(
            _(
                "A welcome message may have at most %(max)d attachments; this one has %(own)d of "
                "its own and %(items)d from the content library."
            )
            % {"max": MAX_ATTACHMENTS, "own": own_attachments, "items": attachable}
        )
    extra = library_text(picked)
    if extra:
        for text in texts:
            combined = with_library_text(text, extra)
            if utf8_len(combined) > MAX_TEXT_BYTES:
                problems.append(
                    _(
                        "With the library's text items appended, the text is %(size)d bytes "
                        "long; WeCom allows %(limit)d."
                    )
                    % {"size": utf8_len(combined), "limit": MAX_TEXT_BYTES}
                )
                break
    return problems, bool(picked)


# --- the library -----------------------------------------------------------------------------


def _store_upload(corp: Corp, kind: str, upload: UploadedFile) -> WelcomeMedia:
    name = (upload.name or kind).rsplit("/", 1)[-1][:255]
    media = WelcomeMedia(corp=corp, kind=kind, filename=name, size=upload.size or 0)
    media.file.save(name, upload, save=False)
    media.save()
    return media


def _stored_attachment(corp: Corp, item: AttachmentInput) -> dict:
    """The attachment as the message keeps it; new files are stored in Qike first."""
    body = {k: v for k, v in item.fields.items() if v}
    if item.kind in (*MEDIA_KINDS, AttachmentKind.MINIPROGRAM):
        media_kind = AttachmentKind.IMAGE if item.kind == AttachmentKind.MINIPROGRAM else item.kind
        media_pk = (
            _store_upload(corp, media_kind, item.upload).pk
            if item.upload is not None
            else item.media
        )
        body["media"] = media_pk
    return {"msgtype": item.kind, item.kind: body}


def attachment_inputs(stored: list[dict]) -> list[AttachmentInput]:
    """A message's stored attachments as inputs, for editing and re-validation."""
    inputs = []
    for item in stored:
        kind = item.get("msgtype", "")
        body = dict(item.get(kind) or {})
        media = body.pop("media", None)
        inputs.append(
            AttachmentInput(kind=kind, fields={k: str(v) for k, v in body.items()}, media=media)
        )
    return inputs


def _clean_variants(variants: list[dict]) -> list[dict]:
    return [
        {"start": str(v.get("start", "")), "end": str(v.get("end", "")), "text": v.get("text", "")}
        for v in variants
    ]


@transaction.atomic
def save_message(
    *,
    access: Access,
    message: WelcomeMessage | None = None,
    name: str,
    text: str,
    attachments: list[AttachmentInput],
    item_ids: Sequence[Any] = (),
    variants: list[dict] | None = None,
    nickname_fallback: str = "",
    is_corp_default: bool = False,
) -> WelcomeMessage:
    """Create (message=None) or change a library message; nothing is written if anything is wrong.
    `item_ids`: content-library items in the order chosen (each once), sent after `attachments`."""
    _require_manage(access)
    corp = access.corp
    if message is not None and message.corp_id != corp.pk:
        raise ValidationError(_("This welcome message belongs to another corp."))
    name = name.strip()
    variants = _clean_variants(variants or [])
    problems = []
    if not name:
        problems.append(_("Give the message a name."))
    elif len(name) > WelcomeMessage._meta.get_field("name").max_length:
        problems.append(_("The name is too long."))
    if len(nickname_fallback) > WelcomeMessage._meta.get_field("nickname_fallback").max_length:
        problems.append(_("The name used when the nickname is unknown is too long."))
    try:
        validate_content(
            corp=corp, text=text, attachments=attachments, variants=variants, item_ids=item_ids
        )
    except ValidationError as exc:
        problems.extend(exc.messages)
    if problems:
        raise ValidationError(problems)
    audited = ("name", "text", "attachments", "item_ids", "variants", "nickname_fallback")
    before = snapshot(message, audited) if message is not None else None
    message = message or WelcomeMessage(corp=corp)
    message.name = name
    message.text = text
    message.attachments = [_stored_attachment(corp, item) for item in attachments]
    message.item_ids = clean_item_ids(item_ids)
    message.variants = variants
    message.nickname_fallback = nickname_fallback.strip()
    if is_corp_default and not message.is_corp_default:
        WelcomeMessage.objects.filter(corp=corp, is_corp_default=True).update(is_corp_default=False)
    message.is_corp_default = is_corp_default
    message.save()
    after = snapshot(message, audited)
    if before is None or before != after:
        action = "engagement.welcome_create" if before is None else "engagement.welcome_update"
        record(corp=corp, action=action, target=message, before=before, after=after)
    return message


@transaction.atomic
def delete_message(*, access: Access, message: WelcomeMessage) -> None:
    """Delete a library message; staff defaults on it go with it. A message a channel still uses
    (a live code, a link) is refused with that reason, if the channel protects it."""
    _require_manage(access)
    if message.corp_id != access.corp.pk:
        raise ValidationError(_("This welcome message belongs to another corp."))
    label, pk = message.name, message.pk
    try:
        message.delete()
    except (ProtectedError, RestrictedError) as exc:
        users = sorted({str(obj) for obj in exc.protected_objects})[:5]
        raise ValidationError(
            _("%(name)s is still used by %(users)s; choose another message there first.")
            % {"name": message.name, "users": "、".join(users)}
        ) from exc
    record(
        corp=access.corp,
        action="engagement.welcome_delete",
        target_type="engagement.welcomemessage",
        target_id=pk,
        target_label=label,
    )


def may_set_default_for(access: Access, staff: Staff) -> bool:
    """Managers of the library set anyone's default; any other user may set their own (a staff
    account linked to a WeCom member), choosing from the library."""
    return may_manage(access) or (access.staff_id is not None and access.staff_id == staff.pk)


@transaction.atomic
def set_staff_default(
    *, access: Access, staff: Staff, message: WelcomeMessage | None
) -> StaffWelcome | None:
    """Give a staff member a default welcome message, or take it away (message=None)."""
    if staff.corp_id != access.corp.pk or (message and message.corp_id != access.corp.pk):
        raise ValidationError(_("That staff member or message belongs to another corp."))
    if not may_set_default_for(access, staff):
        access.require(Action.RUN_CAMPAIGNS)  # raises PermissionDenied with the usual wording
    record(
        corp=access.corp,
        action="engagement.staff_default_welcome",
        target=staff,
        after={"message": message.pk if message else None},
    )
    if message is None:
        StaffWelcome.objects.filter(corp=access.corp, staff=staff).delete()
        return None
    row, _created = StaffWelcome.objects.update_or_create(
        staff=staff, defaults={"corp": access.corp, "message": message}
    )
    return row


@transaction.atomic
def set_corp_default(*, access: Access, message: WelcomeMessage | None) -> None:
    """The message everyone gets when neither the channel nor the staff member has one."""
    _require_manage(access)
    if message is not None and message.corp_id != access.corp.pk:
        raise ValidationError(_("This welcome message belongs to another corp."))
    WelcomeMessage.objects.filter(corp=access.corp, is_corp_default=True).update(
        is_corp_default=False
    )
    if message is not None:
        WelcomeMessage.objects.filter(pk=message.pk).update(is_corp_default=True)
    record(
        corp=access.corp,
        action="engagement.corp_default_welcome",
        target=message,
        after={"message": message.pk if message else None},
    )


@transaction.atomic
def add_media(*, access: Access, kind: str, upload: UploadedFile) -> WelcomeMedia:
    """Keep a file for welcome-message attachments (the API's upload step)."""
    _require_manage(access)
    if kind not in MEDIA_KINDS:
        raise ValidationError(_("A file must be an image, a video or a file."))
    problem = check_upload(kind, upload)
    if problem:
        raise ValidationError(problem)
    return _store_upload(access.corp, kind, upload)


# --- choosing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    message: WelcomeMessage
    chosen_by: str
    source: sources.Source | None


def source_of(corp: Corp, state: str) -> sources.Source | None:
    """What the add's State says; a failing resolver must not stop the welcome in its 20 s."""
    try:
        return sources.source_for_state(corp, state)
    except Exception:
        log.exception("engagement.resolver_failed corp=%s state=%s", corp.corpid, state)
        return None


def choose_message(*, corp: Corp, staff_id: int | None, state: str) -> tuple[Choice | None, Any]:
    """(the chosen message, the source the State named): the channel's own message, else the
    staff member's default, else the corp's default."""
    source = source_of(corp, state)
    if source is not None and source.welcome_message_id:
        own = WelcomeMessage.objects.filter(corp=corp, pk=source.welcome_message_id).first()
        if own is not None:
            return Choice(own, ChosenBy.SOURCE, source), source
    if staff_id is not None:
        mine = (
            StaffWelcome.objects.filter(corp=corp, staff_id=staff_id)
            .select_related("message")
            .first()
        )
        if mine is not None:
            return Choice(mine.message, ChosenBy.STAFF, source), source
    default = WelcomeMessage.objects.filter(corp=corp, is_corp_default=True).first()
    if default is not None:
        return Choice(default, ChosenBy.CORP, source), source
    return None, source


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def covers(variant: dict, moment: dt.datetime) -> bool:
    """Whether a variant's [start, end) covers the moment's local time; wraps over midnight."""
    local = timezone.localtime(moment)
    now = local.hour * 60 + local.minute
    start, end = _minutes(variant["start"]), _minutes(variant["end"])
    if start < end:
        return start <= now < end
    return now >= start or now < end


@dataclass(frozen=True)
class Content:
    text: str
    attachments: list[dict]
    variant: str  # "08:00–12:00", or "" for the message's own text
    item_ids: tuple[int, ...] = ()  # content-library items, sent after the attachments


def _well_formed(variant: dict) -> bool:
    return bool(
        TIME_OF_DAY.match(variant.get("start", "")) and TIME_OF_DAY.match(variant.get("end", ""))
    )


def content_at(message: WelcomeMessage, moment: dt.datetime) -> Content:
    items = tuple(int(pk) for pk in message.item_ids or ())
    for variant in message.variants or []:
        if _well_formed(variant) and covers(variant, moment):
            label = f"{variant['start']}–{variant['end']}"
            return Content(variant.get("text", ""), list(message.attachments), label, items)
    return Content(message.text, list(message.attachments), "", items)


# --- recording an add ------------------------------------------------------------------------


def _event_key(welcome_code: str, userid: str, external_userid: str, event_at: dt.datetime) -> str:
    if welcome_code:
        return welcome_code
    return f"add:{userid}:{external_userid}:{int(event_at.timestamp())}"[:255]


def _no_code_expected(corp: Corp, userid: str, external_userid: str) -> bool:
    """Adds that carry no code by WeCom's design, not because the admin set a welcome: the full
    add after a half add that was already welcomed, and a takeover after a transfer."""
    welcomed_at_half = WelcomeSend.objects.filter(
        corp=corp,
        userid=userid,
        external_userid=external_userid,
        is_half=True,
        status=SendStatus.SENT,
    ).exists()
    transferred = FollowRelation.objects.filter(
        corp=corp,
        customer__external_userid=external_userid,
        staff__userid=userid,
        add_way=TRANSFER_ADD_WAY,
    ).exists()
    return welcomed_at_half or transferred


@transaction.atomic
def record_add(
    *,
    corp: Corp,
    userid: str,
    external_userid: str,
    state: str,
    welcome_code: str,
    is_half: bool,
    event_at: dt.datetime | None,
) -> WelcomeSend | None:
    """Note an add event once; with a code the send stays pending for `send_welcome`. A repeated
    or replayed event finds its row and does nothing. None when there is nothing to record."""
    event_at = event_at or clock.now()
    key = _event_key(welcome_code, userid, external_userid, event_at)
    if WelcomeSend.objects.filter(corp=corp, event_key=key).exists():
        return None
    if not welcome_code and _no_code_expected(corp, userid, external_userid):
        return None
    staff = Staff.objects.filter(corp=corp, userid=userid).first()
    customer, _created = Customer.objects.get_or_create(corp=corp, external_userid=external_userid)
    try:
        with transaction.atomic():
            send = WelcomeSend.objects.create(
                corp=corp,
                welcome_code=welcome_code,
                event_key=key,
                userid=userid,
                external_userid=external_userid,
                staff=staff,
                customer=customer,
                state=state[:64],
                is_half=is_half,
                event_at=event_at,
                created_at=clock.now(),
            )
    except IntegrityError:
        return None  # another worker recorded the same add a moment ago
    if not welcome_code:
        # WeCom's admin console has its own welcome message for this member: not an error.
        source = source_of(corp, state)
        _finish(send, SendStatus.NO_CODE, source=source)
    return send


# --- sending ---------------------------------------------------------------------------------


def _claim(send_id: int) -> bool:
    """Take the send for this worker; False when it was already taken (at most once)."""
    return bool(
        WelcomeSend.objects.filter(pk=send_id, status=SendStatus.PENDING).update(
            status=SendStatus.SENDING
        )
    )


def _too_old(send: WelcomeSend) -> bool:
    return clock.now() - send.event_at > CODE_LIFETIME


def _attachment_summary(attachments: list[dict], items: Sequence[PickedItem] = ()) -> list[dict]:
    """What was sent, for the record: kinds, titles, file names and library item ids (never the
    3-day media_ids or the personalised link addresses)."""
    summary = []
    for item in attachments:
        kind = item.get("msgtype", "")
        body = item.get(kind) or {}
        entry = {"msgtype": kind}
        if body.get("title"):
            entry["title"] = body["title"]
        if body.get("media"):
            name = (
                WelcomeMedia.objects.filter(pk=body["media"])
                .values_list("filename", flat=True)
                .first()
            )
            if name:
                entry["filename"] = name
        summary.append(entry)
    for picked in items:
        if picked.kind != ContentKind.TEXT:
            summary.append({"msgtype": picked.kind, "title": picked.title, "item": picked.pk})
    return summary


@transaction.atomic
def _finish(
    send: WelcomeSend,
    status: str,
    *,
    choice: Choice | None = None,
    source: sources.Source | None = None,
    content: Content | None = None,
    items: Sequence[PickedItem] = (),
    text: str = "",
    error: WeComError | None = None,
    errmsg: str = "",
    on_timeline: bool = True,
) -> WelcomeSend:
    """Write the result and put it on the customer's timeline."""
    send.status = status
    send.finished_at = clock.now()
    if choice is not None:
        send.message = choice.message
        send.message_name = choice.message.name
        send.chosen_by = choice.chosen_by
    if source is not None:
        send.source_label = source.label[:128]
    if content is not None:
        send.variant = content.variant
        send.attachments = _attachment_summary(content.attachments, items)
    send.text = text
    if error is not None:
        send.errcode = error.errcode
        errmsg = error.errmsg or errmsg
    send.errmsg = errmsg[:MAX_ERRMSG]
    send.save()
    if send.customer_id and on_timeline:
        data: dict[str, Any] = {"status": status, "text": text, "send": send.pk}
        if send.message_name:
            data.update(message=send.message_name, chosen_by=send.chosen_by)
        if send.source_label:
            data["source"] = send.source_label
        if send.attachments:
            data["attachments"] = send.attachments
        if send.errcode is not None:
            data.update(errcode=send.errcode, errmsg=send.errmsg)
        add_timeline(
            corp=send.corp,
            customer_id=send.customer_id,
            staff_id=send.staff_id,
            kind=TimelineKind.WELCOME,
            occurred_at=send.finished_at,
            data=data,
        )
    return send


def _customer_name(corp: Corp, wecom: WeComClient, external_userid: str) -> str:
    """The customer's WeCom name: stored by the customer refresh, else read from WeCom. A
    half-added customer is not readable yet (84061), and then the name is unknown ("")."""
    name = (
        Customer.objects.filter(corp=corp, external_userid=external_userid)
        .values_list("name", flat=True)
        .first()
    )
    if name:
        return name
    try:
        answer = wecom.get_external_contact(external_userid)
    except WeComError as exc:
        log.info("engagement.nickname_unknown ext=%s errcode=%s", external_userid, exc.errcode)
        return ""
    return str(answer.get("external_contact", {}).get("name") or "")


def _fit(text: str) -> str:
    """A long nickname must not push the text over WeCom's limit."""
    raw = text.encode("utf-8")
    if len(raw) <= MAX_TEXT_BYTES:
        return text
    return raw[:MAX_TEXT_BYTES].decode("utf-8", errors="ignore")


def personalise(text: str, name: str, fallback: str) -> str:
    """WeCom documents %NICKNAME% only for group welcome templates, so for 1:1 welcome messages
    Qike replaces it itself: the customer's name, or the message's fallback when it is unknown."""
    if NICKNAME not in text:
        return text
    return _fit(text.replace(NICKNAME, name or fallback))


def _media_id(wecom: WeComClient, media: WelcomeMedia) -> str:
    """A live WeCom media_id for the file: the cached one while valid, else a new upload."""
    now = clock.now()
    if (
        media.media_id
        and media.media_expires_at
        and now < media.media_expires_at - MEDIA_SAFETY_MARGIN
    ):
        return media.media_id
    with media.file.open("rb") as handle:
        content = handle.read()
    answer = wecom.upload_media(media_type=media.kind, filename=media.filename, content=content)
    uploaded_at = clock.from_timestamp(answer.get("created_at")) or now
    media.media_id = answer["media_id"]
    media.media_expires_at = uploaded_at + MEDIA_LIFETIME
    media.save(update_fields=["media_id", "media_expires_at"])
    return media.media_id


def forget_media(media_ids: list[int]) -> None:
    """WeCom no longer knows these uploads (40007): upload them again next time."""
    WelcomeMedia.objects.filter(pk__in=media_ids).update(media_id="", media_expires_at=None)


def media_refs(attachments: list[dict]) -> list[int]:
    return [
        item[item["msgtype"]]["media"]
        for item in attachments
        if isinstance(item.get(item.get("msgtype", "")), dict)
        and item[item["msgtype"]].get("media")
    ]


def wecom_attachments(corp: Corp, wecom: WeComClient, attachments: list[dict]) -> list[dict]:
    """The message's attachments in send_welcome_msg's shape, files uploaded as needed."""
    media = {
        m.pk: m for m in WelcomeMedia.objects.filter(corp=corp, pk__in=media_refs(attachments))
    }
    result = []
    for item in attachments:
        kind = item["msgtype"]
        body = {k: v for k, v in (item.get(kind) or {}).items() if k != "media"}
        ref = (item.get(kind) or {}).get("media")
        if ref is not None:
            if ref not in media:
                continue  # the file was deleted from the library: send the rest
            key = "pic_media_id" if kind == AttachmentKind.MINIPROGRAM else "media_id"
            body[key] = _media_id(wecom, media[ref])
        result.append({"msgtype": kind, kind: body})
    return result


class CodeTooOld(Exception):
    """WeCom refused an upload (40007) and uploading again took the code past its 20 seconds."""


class NothingToSend(Exception):
    """No text, and every attachment's file or library item was deleted since the message was
    saved: WeCom would refuse the send (44004), so it is not called."""


@dataclass(frozen=True)
class Outgoing:
    """What one welcome sends: the text, the message's own attachments, the library items (in
    order, deleted ones already left out) and who is welcomed (for personalised links)."""

    text: str
    attachments: list[dict]
    items: list[PickedItem]
    customer: Customer | None
    campaign_ref: str

    @property
    def item_ids(self) -> list[int]:
        return [item.pk for item in self.items if item.kind != ContentKind.TEXT]


def _payload(corp: Corp, wecom: WeComClient, out: Outgoing, *, retry: bool = False) -> list[dict]:
    """send_welcome_msg's attachments: the own ones, then the library's with fresh media ids and
    links tracked for this customer (a retry does not count the items as sent again)."""
    payload = wecom_attachments(corp, wecom, out.attachments)
    if out.item_ids:
        payload += _library().attachments_for_send(
            corp=corp,
            item_ids=out.item_ids,
            purpose="message",
            customer=out.customer,
            campaign_ref=out.campaign_ref,
            wecom=wecom,
            count=not retry,
        )
    return payload


def _send(corp: Corp, wecom: WeComClient, send: WelcomeSend, out: Outgoing) -> None:
    """send_welcome_msg; when WeCom has dropped an upload early (40007), upload once more and
    retry while the code is still valid: a refused call does not use up the code."""
    payload = _payload(corp, wecom, out)
    if not out.text and not payload:
        raise NothingToSend
    try:
        wecom.send_welcome_msg(welcome_code=send.welcome_code, text=out.text, attachments=payload)
    except WeComError as exc:
        own = media_refs(out.attachments)
        if exc.errcode != MEDIA_INVALID or not (own or out.item_ids):
            raise
        if _too_old(send):
            raise CodeTooOld from exc
        forget_media(own)
        if out.item_ids:
            _library().forget_media(corp=corp, item_ids=out.item_ids)
        payload = _payload(corp, wecom, out, retry=True)
        if _too_old(send):  # the uploads took the rest of the 20 seconds
            raise CodeTooOld from exc
        wecom.send_welcome_msg(welcome_code=send.welcome_code, text=out.text, attachments=payload)


def _expired_note() -> str:
    return _("The welcome code was more than 20 seconds old; WeCom was not called.")


def _reupload_expired_note() -> str:
    return _(
        "WeCom no longer knew an uploaded file (40007); by the time it was uploaded again the "
        "welcome code was more than 20 seconds old."
    )


STALE_BATCH = 500  # expired sends written off per sweep
FRESHEST_CANDIDATES = 5


def send_freshest_welcome(*, corp: Corp) -> WelcomeSend | None:
    """Send the corp's freshest pending welcome that WeCom still accepts (20 seconds).

    Every add event runs this once, so there is one send per add, but newest first: when a burst
    outruns the workers, first-come-first-served would let every code in the queue age past 20
    seconds before its turn; newest-first keeps welcoming at full speed and lets only the backlog's
    oldest expire. Those are written off by `expire_stale_welcomes`, away from this urgent path."""
    candidates = (
        WelcomeSend.objects.filter(
            corp=corp, status=SendStatus.PENDING, event_at__gte=clock.now() - CODE_LIFETIME
        )
        .order_by("-event_at", "-id")
        .values_list("pk", flat=True)[:FRESHEST_CANDIDATES]
    )
    for send_id in candidates:
        if _claim(send_id):  # another worker may have taken it since the query
            return _send_claimed(send_id)
    return None


def expire_stale_welcomes() -> int:
    """Record pending welcomes past WeCom's 20 seconds as expired, without calling WeCom (a
    periodic job); returns how many."""
    stale = WelcomeSend.objects.filter(
        status=SendStatus.PENDING, event_at__lt=clock.now() - CODE_LIFETIME
    ).values_list("pk", flat=True)[:STALE_BATCH]
    return sum(_write_off(send_id) for send_id in stale)


def expire_if_stale(*, send_id: int) -> bool:
    """An add whose event reached Qike after the 20 seconds is recorded as expired at once."""
    fresh = WelcomeSend.objects.filter(pk=send_id, event_at__gte=clock.now() - CODE_LIFETIME)
    return not fresh.exists() and _write_off(send_id)


def _write_off(send_id: int) -> bool:
    if not _claim(send_id):
        return False
    send = WelcomeSend.objects.select_related("corp").get(pk=send_id)
    choice, source = choose_message(corp=send.corp, staff_id=send.staff_id, state=send.state)
    _finish(send, SendStatus.EXPIRED, choice=choice, source=source, errmsg=_expired_note())
    return True


def _already_welcomed(send: WelcomeSend) -> bool:
    """A customer confirmed at once after a skip_verify scan brings two codes within seconds (the
    half add's, and a fresh one when the first was not used yet): one welcome is enough. Of two
    sends in flight together, the newer one goes ahead."""
    same_friendship = WelcomeSend.objects.filter(
        corp=send.corp_id,
        userid=send.userid,
        external_userid=send.external_userid,
        event_at__gte=send.event_at - SAME_FRIENDSHIP_WINDOW,
    ).exclude(pk=send.pk)
    return same_friendship.filter(
        Q(status=SendStatus.SENT) | Q(status=SendStatus.SENDING, pk__gt=send.pk)
    ).exists()


SAME_FRIENDSHIP_WINDOW = dt.timedelta(minutes=2)


def _send_claimed(send_id: int) -> WelcomeSend:
    """Send a welcome this worker has claimed (so it goes out at most once)."""
    send = WelcomeSend.objects.select_related("corp", "customer").get(pk=send_id)
    corp = send.corp
    choice, source = choose_message(corp=corp, staff_id=send.staff_id, state=send.state)
    if _too_old(send):
        return _finish(
            send, SendStatus.EXPIRED, choice=choice, source=source, errmsg=_expired_note()
        )
    if choice is None:
        return _finish(send, SendStatus.NO_MESSAGE, source=source)
    if _already_welcomed(send):
        return _finish(send, SendStatus.DUPLICATE, choice=choice, source=source, on_timeline=False)
    content = content_at(choice.message, clock.now())
    items = picked_items(corp, content.item_ids)  # deleted library items are skipped
    with client_for(corp) as wecom:
        text = with_library_text(content.text, library_text(items))
        if NICKNAME in text:
            name = _customer_name(corp, wecom, send.external_userid)
            text = personalise(text, name, choice.message.nickname_fallback)
        text = _fit(text)  # a library text item may have grown since the message was saved
        result = dict(choice=choice, source=source, content=content, items=items, text=text)
        out = Outgoing(
            text=text,
            attachments=content.attachments,
            items=items,
            customer=send.customer,
            campaign_ref=f"welcome:{choice.message.pk}",
        )
        try:
            if _too_old(send):  # uploads took too long
                return _finish(send, SendStatus.EXPIRED, errmsg=_expired_note(), **result)
            _send(corp, wecom, send, out)
        except CodeTooOld:
            return _finish(send, SendStatus.EXPIRED, errmsg=_reupload_expired_note(), **result)
        except NothingToSend:
            note = _("Nothing left to send: the message's files and library items were deleted.")
            return _finish(send, SendStatus.FAILED, errmsg=note, **result)
        except WeComError as exc:
            status = SendStatus.EXPIRED if exc.errcode in EXPIRED_CODES else SendStatus.FAILED
            log.warning(
                "engagement.welcome_failed corp=%s send=%s errcode=%s",
                corp.corpid,
                send.pk,
                exc.errcode,
            )
            return _finish(send, status, error=exc, **result)
        except Exception as exc:  # a missing file, nothing left to send: recorded, not retried
            log.exception("engagement.welcome_error corp=%s send=%s", corp.corpid, send.pk)
            return _finish(send, SendStatus.FAILED, errmsg=f"{type(exc).__name__}: {exc}", **result)
    return _finish(send, SendStatus.SENT, **result)
