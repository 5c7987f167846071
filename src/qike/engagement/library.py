"""The content library (素材库): items, folders, library tags, and everything that turns items into
what WeCom sends.

For senders (mass messages, moments, quick replies, welcome messages):

- `validate_attachments(corp=, item_ids=, purpose=)` checks ids and kinds without calling WeCom;
- `attachments_for_send(corp=, item_ids=, purpose=, customer=, campaign_ref=)` gives WeCom's
  `attachments` entries, uploading files as temporary media when the cached media_id is missing,
  expired or near expiry (`MEDIA_SAFETY_MARGIN`), so no expired media_id is ever sent;
- `text_of(corp=, item_ids=)` joins the text items: text items are never attachments, both
  functions above skip them, so a sender may pass the same id list to all three;
- `forget_media(corp=, item_ids=)`: WeCom answered 40007 (it dropped an upload early): the next
  `attachments_for_send` uploads again.

Media ids are cached per item and purpose: "message" (media/upload; add_msg_template,
send_welcome_msg) and "moment" (media/upload_attachment, attachment_type=1; add_moment_task).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from qike.audit.services import record
from qike.core import clock
from qike.core.models import Corp
from qike.core.services import client_for
from qike.customers.models import Customer, TimelineKind
from qike.customers.services import add_timeline
from qike.engagement.models import (
    MAX_ATTACHMENTS,
    MAX_LINK_DESC_BYTES,
    MAX_LINK_TITLE_BYTES,
    MAX_MINIPROGRAM_TITLE_BYTES,
    MAX_TEXT_BYTES,
    ContentFolder,
    ContentItem,
    ContentKind,
    ContentTag,
    ItemMedia,
    LinkOpen,
    MediaPurpose,
    TrackedLink,
    WelcomeMessage,
)
from qike.engagement.services import check_upload, utf8_len
from qike.org.access import Access, Action
from qike.wecom.client import WeComClient

MEDIA_LIFETIME = dt.timedelta(days=3)  # WeCom: a temporary media_id is valid 3 days
# Re-upload this long before expiry: a caller may build the attachments and then spend a while
# on the WeCom calls (one add_msg_template per staff member), and WeCom must never see a dead id.
MEDIA_SAFETY_MARGIN = dt.timedelta(hours=6)
MOMENT_MAX_IMAGES = 9  # add_moment_task: up to 9 images, or 1 video, or 1 link
FILE_KINDS = (ContentKind.IMAGE, ContentKind.VIDEO, ContentKind.FILE)
PURPOSES = tuple(MediaPurpose.values)
MOMENT_KINDS = (ContentKind.IMAGE, ContentKind.VIDEO, ContentKind.LINK)
MESSAGE_KINDS = (*FILE_KINDS, ContentKind.LINK, ContentKind.MINIPROGRAM)
MAX_TITLE_CHARS = 128
MAX_FOLDER_CHARS = 64
MAX_TAG_CHARS = 32
MAX_USER_AGENT = 512
APPID = re.compile(r"^wx[0-9a-zA-Z]{6,32}$")


def may_manage(access: Access) -> bool:
    """Corp admins and operations build the library; everyone in the corp may use it."""
    return access.can(Action.RUN_CAMPAIGNS)


# --- reading -----------------------------------------------------------------------------------


def items(corp: Corp) -> QuerySet[ContentItem]:
    return ContentItem.objects.filter(corp=corp)


def search_items(
    *,
    corp: Corp,
    q: str = "",
    kind: str = "",
    folder_id: int | None = None,
    tag_id: int | None = None,
    unfiled: bool = False,
) -> QuerySet[ContentItem]:
    """The corp's items matching every given filter; `q` looks in the title and the text."""
    found = items(corp).select_related("folder").prefetch_related("tags")
    if q.strip():
        term = q.strip()
        found = found.filter(Q(title__icontains=term) | Q(text__icontains=term))
    if kind:
        found = found.filter(kind=kind)
    if unfiled:
        found = found.filter(folder__isnull=True)
    elif folder_id is not None:
        found = found.filter(folder_id=folder_id)
    if tag_id is not None:
        found = found.filter(tags__id=tag_id)
    return found.distinct()


def get_item(*, corp: Corp, pk: int) -> ContentItem:
    """The corp's item, or ContentItem.DoesNotExist (another corp's item does not exist here)."""
    return items(corp).get(pk=pk)


@dataclass(frozen=True)
class ItemStats:
    sent: int
    opens: int
    unique_customers: int
    last_opened_at: dt.datetime | None


def item_stats(item: ContentItem) -> ItemStats:
    opens = LinkOpen.objects.filter(corp_id=item.corp_id, item=item)
    numbers = opens.aggregate(
        opens=Count("id"),
        customers=Count("customer", distinct=True),
    )
    last = opens.order_by("-opened_at").values_list("opened_at", flat=True).first()
    return ItemStats(item.sent_count, numbers["opens"], numbers["customers"], last)


def open_counts(corp: Corp, item_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """{item id: (opens, unique customers)} for a list page, in one query."""
    rows = (
        LinkOpen.objects.filter(corp=corp, item_id__in=list(item_ids))
        .values("item_id")
        .annotate(opens=Count("id"), customers=Count("customer", distinct=True))
    )
    return {row["item_id"]: (row["opens"], row["customers"]) for row in rows}


# --- validating and saving items ---------------------------------------------------------------


@dataclass
class ItemInput:
    """An item as the console or the API gives it. `upload` is the file of an image, video or
    file item; `cover_upload` the cover image of a link or mini program."""

    kind: str
    title: str = ""
    text: str = ""
    url: str = ""
    appid: str = ""
    page: str = ""
    cover_url: str = ""
    tracked: bool = True
    folder_id: int | None = None
    tag_names: list[str] = field(default_factory=list)
    upload: UploadedFile | None = None
    cover_upload: UploadedFile | None = None


def _is_web_url(value: str) -> bool:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        return False
    return True


def _bytes(problems: list[str], label: str, value: str, limit: int) -> None:
    if utf8_len(value) > limit:
        problems.append(
            _("%(label)s is %(size)d bytes long; WeCom allows %(limit)d.")
            % {"label": label, "size": utf8_len(value), "limit": limit}
        )


def _file_problems(data: ItemInput, existing: ContentItem | None) -> list[str]:
    if data.upload is not None:
        problem = check_upload(data.kind, data.upload)
        return [problem] if problem else []
    if existing is None or existing.kind != data.kind or not existing.file:
        return [_("Choose a file to upload.")]
    return []


def _cover_problems(data: ItemInput, existing: ContentItem | None, required: bool) -> list[str]:
    if data.cover_upload is not None:
        problem = check_upload(ContentKind.IMAGE, data.cover_upload)
        return [_("Cover image: %(problem)s") % {"problem": problem}] if problem else []
    has_cover = existing is not None and bool(existing.cover)
    if required and not has_cover:
        return [_("A mini program needs a cover image (JPG or PNG, at most 2 MB).")]
    return []


def _kind_problems(data: ItemInput, existing: ContentItem | None) -> list[str]:
    problems: list[str] = []
    if data.kind == ContentKind.TEXT:
        if not data.text.strip():
            problems.append(_("A text item needs its text."))
        _bytes(problems, _("The text"), data.text, MAX_TEXT_BYTES)
    elif data.kind == ContentKind.LINK:
        if not data.title.strip():
            problems.append(_("A link needs a title."))
        _bytes(problems, _("The link title"), data.title, MAX_LINK_TITLE_BYTES)
        _bytes(problems, _("The link description"), data.text, MAX_LINK_DESC_BYTES)
        if not _is_web_url(data.url):
            problems.append(_("A link needs a web address starting with http:// or https://."))
        if data.cover_url and not _is_web_url(data.cover_url):
            problems.append(_("The cover image address must start with http:// or https://."))
        problems.extend(_cover_problems(data, existing, required=False))
    elif data.kind == ContentKind.MINIPROGRAM:
        if not data.title.strip():
            problems.append(_("A mini program needs a title."))
        _bytes(problems, _("The mini program title"), data.title, MAX_MINIPROGRAM_TITLE_BYTES)
        if not APPID.match(data.appid):
            problems.append(_("A mini program needs its AppID (it starts with wx)."))
        if not data.page.strip():
            problems.append(_("A mini program needs the page to open."))
        problems.extend(_cover_problems(data, existing, required=True))
    elif data.kind in FILE_KINDS:
        problems.extend(_file_problems(data, existing))
    else:
        problems.append(_("Unknown kind %(kind)s.") % {"kind": data.kind or "-"})
    return problems


def validate_item(*, corp: Corp, data: ItemInput, item: ContentItem | None = None) -> None:
    """Everything WeCom would refuse, and everything Qike cannot store, before anything is saved."""
    problems: list[str] = []
    if item is not None and item.kind != data.kind:
        problems.append(_("An item's kind cannot change; create a new item instead."))
    title = data.title.strip()
    if len(title) > MAX_TITLE_CHARS:
        problems.append(_("The title is at most %(n)d characters.") % {"n": MAX_TITLE_CHARS})
    problems.extend(_kind_problems(data, item))
    if (
        data.folder_id is not None
        and not ContentFolder.objects.filter(corp=corp, pk=data.folder_id).exists()
    ):
        problems.append(_("The folder is not one of this corp's folders."))
    for name in data.tag_names:
        if len(name.strip()) > MAX_TAG_CHARS:
            problems.append(
                _("The tag %(name)s is longer than %(n)d characters.")
                % {"name": name.strip(), "n": MAX_TAG_CHARS}
            )
    if problems:
        raise ValidationError(problems)


def _default_title(data: ItemInput, item: ContentItem | None) -> str:
    title = data.title.strip()
    if title:
        return title
    if data.kind == ContentKind.TEXT:
        return " ".join(data.text.split())[:30]
    if data.upload is not None:
        return (data.upload.name or data.kind).rsplit("/", 1)[-1][:MAX_TITLE_CHARS]
    return item.title if item is not None else data.kind


def _tags(corp: Corp, names: Iterable[str]) -> list[ContentTag]:
    wanted = sorted({name.strip() for name in names if name.strip()})
    return [ContentTag.objects.get_or_create(corp=corp, name=name)[0] for name in wanted]


def _apply(item: ContentItem, data: ItemInput, title: str) -> None:
    item.title = title
    item.text = data.text if data.kind in (ContentKind.TEXT, ContentKind.LINK) else ""
    item.url = data.url.strip() if data.kind == ContentKind.LINK else ""
    item.appid = data.appid.strip() if data.kind == ContentKind.MINIPROGRAM else ""
    item.page = data.page.strip() if data.kind == ContentKind.MINIPROGRAM else ""
    new_cover_url = data.cover_url.strip() if data.kind == ContentKind.LINK else ""
    if new_cover_url != item.cover_url:
        item.cover_wecom_url = ""
    item.cover_url = new_cover_url
    item.tracked = data.tracked if data.kind == ContentKind.LINK else False
    item.folder_id = data.folder_id


def _store_files(item: ContentItem, data: ItemInput) -> list[str]:
    """Keep new files in Qike; the roles whose WeCom uploads are now stale."""
    stale = []
    if data.upload is not None and data.kind in FILE_KINDS:
        name = (data.upload.name or data.kind).rsplit("/", 1)[-1][:255]
        item.filename = name
        item.size = data.upload.size or 0
        item.file.save(name, data.upload, save=False)
        stale.append("file")
    if data.cover_upload is not None and data.kind in (ContentKind.LINK, ContentKind.MINIPROGRAM):
        name = (data.cover_upload.name or "cover").rsplit("/", 1)[-1][:255]
        item.cover.save(name, data.cover_upload, save=False)
        item.cover_wecom_url = ""
        stale.append("cover")
    return stale


def _snapshot(item: ContentItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "title": item.title,
        "url": item.url,
        "folder": item.folder_id,
        "filename": item.filename,
    }


@transaction.atomic
def save_item(*, access: Access, data: ItemInput, item: ContentItem | None = None) -> ContentItem:
    """Create (item=None) or change a library item; nothing is written if anything is wrong."""
    access.require(Action.RUN_CAMPAIGNS)
    corp = access.corp
    if item is not None and item.corp_id != corp.pk:
        raise ValidationError(_("This item belongs to another corp."))
    validate_item(corp=corp, data=data, item=item)
    before = _snapshot(item) if item is not None else None
    item = item or ContentItem(corp=corp, kind=data.kind)
    _apply(item, data, _default_title(data, item if item.pk else None))
    stale = _store_files(item, data)
    item.save()
    if stale:
        ItemMedia.objects.filter(item=item, role__in=stale).delete()
    item.tags.set(_tags(corp, data.tag_names))
    record(
        corp=corp,
        action="engagement.content_update" if before else "engagement.content_create",
        target=item,
        before=before,
        after=_snapshot(item),
    )
    return item


@dataclass
class ItemUses:
    """Where an item is still used: what deleting it would change."""

    welcome_messages: list[str]
    quick_replies: list[str]
    scheduled_campaigns: list[str]

    def __bool__(self) -> bool:
        return bool(self.welcome_messages or self.quick_replies or self.scheduled_campaigns)


def uses_of(item: ContentItem) -> ItemUses:
    """Welcome messages, quick replies and scheduled mass messages that name the item. (Sent mass
    messages and moments carried their attachments already.) The JSON lists are read in Python:
    SQLite has no JSON containment lookup, and a corp has few of these rows."""
    from qike.campaigns.models import Campaign, CampaignStatus  # campaigns build on the library

    def naming(rows) -> list[str]:
        return [str(row) for row in rows if item.pk in (row.item_ids or [])]

    return ItemUses(
        welcome_messages=naming(
            WelcomeMessage.objects.filter(corp_id=item.corp_id).only("name", "item_ids")
        ),
        quick_replies=list(item.quick_replies.order_by("title").values_list("title", flat=True)),
        scheduled_campaigns=naming(
            Campaign.objects.filter(corp_id=item.corp_id, status=CampaignStatus.SCHEDULED).only(
                "title", "item_ids"
            )
        ),
    )


@transaction.atomic
def delete_item(*, access: Access, item: ContentItem) -> None:
    """Delete an item; quick replies lose it as an attachment, welcome messages skip it, its opens
    go with it. Refused while a scheduled mass message still has to send it."""
    access.require(Action.RUN_CAMPAIGNS)
    if item.corp_id != access.corp.pk:
        raise ValidationError(_("This item belongs to another corp."))
    scheduled = uses_of(item).scheduled_campaigns
    if scheduled:
        raise ValidationError(
            _(
                "%(title)s is attached to scheduled mass messages (%(names)s): take it out of "
                "them or cancel them first."
            )
            % {"title": item.title, "names": "、".join(scheduled)}
        )
    snapshot = _snapshot(item)
    label, pk = item.title, item.pk
    item.delete()
    record(
        corp=access.corp,
        action="engagement.content_delete",
        target_type="engagement.contentitem",
        target_id=pk,
        target_label=label,
        before=snapshot,
    )


@transaction.atomic
def create_folder(*, access: Access, name: str) -> ContentFolder:
    access.require(Action.RUN_CAMPAIGNS)
    name = name.strip()
    if not name:
        raise ValidationError(_("Give the folder a name."))
    if len(name) > MAX_FOLDER_CHARS:
        raise ValidationError(_("A folder name is at most %(n)d characters.") % {"n": 64})
    if ContentFolder.objects.filter(corp=access.corp, name=name).exists():
        raise ValidationError(_("There is already a folder named %(name)s.") % {"name": name})
    folder = ContentFolder.objects.create(corp=access.corp, name=name)
    record(corp=access.corp, action="engagement.folder_create", target=folder)
    return folder


@transaction.atomic
def delete_folder(*, access: Access, folder: ContentFolder) -> None:
    """Delete a folder; its items stay in the library, unfiled."""
    access.require(Action.RUN_CAMPAIGNS)
    if folder.corp_id != access.corp.pk:
        raise ValidationError(_("This folder belongs to another corp."))
    label, pk = folder.name, folder.pk
    folder.delete()
    record(
        corp=access.corp,
        action="engagement.folder_delete",
        target_type="engagement.contentfolder",
        target_id=pk,
        target_label=label,
    )


# --- items for sending ---------------------------------------------------------------------------


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValidationError(
            _("Unknown purpose %(purpose)s: use message or moment.") % {"purpose": purpose}
        )


def _load(corp: Corp, item_ids: Sequence[int]) -> list[ContentItem]:
    """The items in the given order; unknown ids and other corps' ids are refused together."""
    try:
        wanted = [int(pk) for pk in item_ids]
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("Library item ids must be numbers.")) from exc
    found = {item.pk: item for item in items(corp).filter(pk__in=wanted)}
    missing = [str(pk) for pk in wanted if pk not in found]
    if missing:
        raise ValidationError(
            _("These library items do not exist in this corp: %(ids)s.")
            % {"ids": ", ".join(missing)}
        )
    return [found[pk] for pk in wanted]


def _moment_problems(attachable: list[ContentItem]) -> list[str]:
    problems = []
    for item in attachable:
        if item.kind not in MOMENT_KINDS:
            problems.append(
                _("%(title)s is a %(kind)s; moments take images, a video or a link.")
                % {"title": item.title, "kind": item.get_kind_display()}
            )
        elif item.kind == ContentKind.LINK and not item.cover:
            problems.append(
                _("%(title)s: a link in moments needs a cover image uploaded to the library.")
                % {"title": item.title}
            )
    kinds = {item.kind for item in attachable}
    if len(kinds) > 1:
        problems.append(_("Moments take images, or one video, or one link: not a mix."))
    elif kinds & {ContentKind.VIDEO, ContentKind.LINK} and len(attachable) > 1:
        problems.append(_("Moments take only one video or one link."))
    elif len(attachable) > MOMENT_MAX_IMAGES:
        problems.append(
            _("Moments take at most %(max)d images; this has %(n)d.")
            % {"max": MOMENT_MAX_IMAGES, "n": len(attachable)}
        )
    return problems


def _message_problems(attachable: list[ContentItem]) -> list[str]:
    problems = []
    if len(attachable) > MAX_ATTACHMENTS:
        problems.append(
            _("WeCom takes at most %(max)d attachments in a message; this has %(n)d.")
            % {"max": MAX_ATTACHMENTS, "n": len(attachable)}
        )
    for item in attachable:
        if item.kind in FILE_KINDS and not item.file:
            problems.append(_("%(title)s has no file.") % {"title": item.title})
        if item.kind == ContentKind.MINIPROGRAM and not item.cover:
            problems.append(_("%(title)s has no cover image.") % {"title": item.title})
    return problems


def _checked(corp: Corp, item_ids: Sequence[int], purpose: str) -> list[ContentItem]:
    _check_purpose(purpose)
    attachable = [item for item in _load(corp, item_ids) if item.kind != ContentKind.TEXT]
    if purpose == MediaPurpose.MOMENT:
        problems = _moment_problems(attachable)
    else:
        problems = _message_problems(attachable)
    if problems:
        raise ValidationError(problems)
    return attachable


def validate_attachments(*, corp: Corp, item_ids: Sequence[int], purpose: str = "message") -> None:
    """Would these items make a valid attachment list for the purpose? Checks ids (this corp's),
    kinds and WeCom's counts (≤ 9 in a message; moments: ≤ 9 images, or 1 video, or 1 link)
    without calling WeCom. Text items are allowed and ignored (see `text_of`)."""
    _checked(corp, item_ids, purpose)


def text_of(*, corp: Corp, item_ids: Sequence[int]) -> str:
    """The text items among the ids, in the given order, joined by blank lines ("" if none)."""
    return "\n\n".join(item.text for item in _load(corp, item_ids) if item.kind == ContentKind.TEXT)


def _read(field_file) -> bytes:
    with field_file.open("rb") as handle:
        return handle.read()


def _fresh(row: ItemMedia | None, now: dt.datetime) -> bool:
    return row is not None and now < row.expires_at - MEDIA_SAFETY_MARGIN


def _media_id(
    wecom: WeComClient, item: ContentItem, purpose: str, role: str, media_type: str
) -> str:
    """A media_id WeCom will accept for a while yet: the cached one, else a new upload."""
    now = clock.now()
    row = ItemMedia.objects.filter(item=item, purpose=purpose, role=role).first()
    if _fresh(row, now):
        return row.media_id
    source = item.file if role == "file" else item.cover
    stored_name = source.name.rsplit("/", 1)[-1]
    name = (item.filename or stored_name) if role == "file" else stored_name
    content = _read(source)
    if purpose == MediaPurpose.MOMENT:
        answer = wecom.upload_attachment(
            media_type=media_type, filename=name, content=content, attachment_type=1
        )
    else:
        answer = wecom.upload_media(media_type=media_type, filename=name, content=content)
    uploaded_at = clock.from_timestamp(answer.get("created_at")) or now
    ItemMedia.objects.update_or_create(
        item=item,
        purpose=purpose,
        role=role,
        defaults={
            "corp_id": item.corp_id,
            "media_id": answer["media_id"],
            "uploaded_at": uploaded_at,
            "expires_at": uploaded_at + MEDIA_LIFETIME,
        },
    )
    return answer["media_id"]


def _picurl(wecom: WeComClient, item: ContentItem) -> str:
    """A link's cover for messages: its address, else the uploaded cover as a permanent
    media/uploadimg URL (uploaded once, WeCom allows 100 a day)."""
    if item.cover_url:
        return item.cover_url
    if not item.cover:
        return ""
    if not item.cover_wecom_url:
        url = wecom.upload_image(
            filename=item.cover.name.rsplit("/", 1)[-1], content=_read(item.cover)
        )
        ContentItem.objects.filter(pk=item.pk).update(cover_wecom_url=url)
        item.cover_wecom_url = url
    return item.cover_wecom_url


def _link_url(item: ContentItem, customer: Customer | None, campaign_ref: str) -> str:
    if not item.tracked:
        return item.url
    return tracked_url(item=item, customer=customer, campaign_ref=campaign_ref)


def _message_entry(
    wecom: WeComClient, item: ContentItem, customer: Customer | None, campaign_ref: str
) -> dict:
    purpose = MediaPurpose.MESSAGE
    if item.kind in FILE_KINDS:
        body = {"media_id": _media_id(wecom, item, purpose, "file", item.kind)}
    elif item.kind == ContentKind.LINK:
        body = {"title": item.title, "url": _link_url(item, customer, campaign_ref)}
        picurl = _picurl(wecom, item)
        if picurl:
            body["picurl"] = picurl
        if item.text:
            body["desc"] = item.text
    else:  # mini program
        body = {
            "title": item.title,
            "pic_media_id": _media_id(wecom, item, purpose, "cover", ContentKind.IMAGE),
            "appid": item.appid,
            "page": item.page,
        }
    return {"msgtype": item.kind, item.kind: body}


def _moment_entry(
    wecom: WeComClient, item: ContentItem, customer: Customer | None, campaign_ref: str
) -> dict:
    purpose = MediaPurpose.MOMENT
    if item.kind == ContentKind.LINK:
        body = {
            "title": item.title,
            "url": _link_url(item, customer, campaign_ref),
            "media_id": _media_id(wecom, item, purpose, "cover", ContentKind.IMAGE),
        }
    else:
        body = {"media_id": _media_id(wecom, item, purpose, "file", item.kind)}
    return {"msgtype": item.kind, item.kind: body}


def _customer_of(corp: Corp, customer: Any) -> Customer | None:
    if customer is None:
        return None
    if isinstance(customer, Customer):
        if customer.corp_id != corp.pk:
            raise ValidationError(_("The customer belongs to another corp."))
        return customer
    found = Customer.objects.filter(corp=corp, pk=customer).first()
    if found is None:
        raise ValidationError(_("Customer %(id)s does not exist in this corp.") % {"id": customer})
    return found


def attachments_for_send(
    *,
    corp: Corp,
    item_ids: Sequence[int],
    purpose: str = "message",
    customer: Customer | int | None = None,
    campaign_ref: str = "",
    wecom: WeComClient | None = None,
    count: bool = True,
) -> list[dict]:
    """WeCom `attachments` for the items, in order, ready to send now.

    purpose "message" (add_msg_template, send_welcome_msg): image{media_id}, link{title, picurl,
    desc, url}, miniprogram{title, pic_media_id, appid, page}, video{media_id}, file{media_id};
    purpose "moment" (add_moment_task): image{media_id}, video{media_id}, link{title, url,
    media_id} with media/upload_attachment ids. Files are uploaded when their cached media_id is
    missing or within `MEDIA_SAFETY_MARGIN` of WeCom's 3 days. Tracked links point at /l/<token>/,
    per customer when `customer` (a Customer or its pk) is given; `campaign_ref` labels the send.
    Text items are skipped (`text_of`). Each call counts as one send of every attached item, so
    call it once per real send (count=False when building the same send again, e.g. a retry);
    use `validate_attachments` for checks and previews.
    Raises ValidationError for unknown or foreign ids and kinds the purpose does not take;
    WeComError if an upload is refused."""
    attachable = _checked(corp, item_ids, purpose)
    person = _customer_of(corp, customer)
    if not attachable:
        return []
    campaign_ref = campaign_ref[:128]
    build = _moment_entry if purpose == MediaPurpose.MOMENT else _message_entry
    if wecom is None:
        with client_for(corp) as client:
            result = [build(client, item, person, campaign_ref) for item in attachable]
    else:
        result = [build(wecom, item, person, campaign_ref) for item in attachable]
    if count:
        _count_sent([item.pk for item in attachable])
    return result


def _count_sent(item_ids: list[int]) -> None:
    ContentItem.objects.filter(pk__in=item_ids).update(
        sent_count=F("sent_count") + 1, last_sent_at=clock.now()
    )


def forget_media(*, corp: Corp, item_ids: Sequence[int]) -> int:
    """WeCom said 40007 (unknown or expired media_id) for a send of these items: drop their
    cached uploads so the next `attachments_for_send` uploads again. Returns rows dropped."""
    deleted, _detail = ItemMedia.objects.filter(corp=corp, item_id__in=list(item_ids)).delete()
    return deleted


# --- tracked links -------------------------------------------------------------------------------


def _new_token() -> str:
    return secrets.token_urlsafe(12)


def tracked_link(
    *, item: ContentItem, customer: Customer | None = None, campaign_ref: str = ""
) -> TrackedLink:
    """The redirect for this item, customer and label: the same one each time it is asked for."""
    campaign_ref = campaign_ref[:128]
    existing = TrackedLink.objects.filter(
        item=item, customer=customer, campaign_ref=campaign_ref
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return TrackedLink.objects.create(
                corp_id=item.corp_id,
                item=item,
                customer=customer,
                campaign_ref=campaign_ref,
                token=_new_token(),
                created_at=clock.now(),
            )
    except IntegrityError:  # made by a concurrent send a moment ago
        return TrackedLink.objects.get(item=item, customer=customer, campaign_ref=campaign_ref)


def tracked_url(
    *, item: ContentItem, customer: Customer | None = None, campaign_ref: str = ""
) -> str:
    link = tracked_link(item=item, customer=customer, campaign_ref=campaign_ref)
    return settings.QIKE_PUBLIC_URL + reverse("link_open", args=[link.token])


@transaction.atomic
def record_open(*, token: str, user_agent: str = "") -> str | None:
    """Note one open of a tracked link and give the address to send the visitor to (None for an
    unknown token). A personalised link also lands on the customer's timeline."""
    link = TrackedLink.objects.select_related("item", "corp").filter(token=token).first()
    if link is None:
        return None
    now = clock.now()
    item = link.item
    LinkOpen.objects.create(
        corp_id=link.corp_id,
        link=link,
        item=item,
        customer_id=link.customer_id,
        campaign_ref=link.campaign_ref,
        user_agent=user_agent[:MAX_USER_AGENT],
        opened_at=now,
    )
    if link.customer_id:
        data = {"item_id": item.pk, "title": item.title, "url": item.url}
        if link.campaign_ref:
            data["campaign_ref"] = link.campaign_ref
        add_timeline(
            corp=link.corp,
            customer_id=link.customer_id,
            kind=TimelineKind.LINK_OPENED,
            occurred_at=now,
            data=data,
        )
    return item.url
