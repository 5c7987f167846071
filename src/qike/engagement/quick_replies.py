"""Quick replies (话术库): groups of scripted answers (text plus library items), keyword search,
usage counts. Operations and corp admins write them; every console user may search and use them
(the chat sidebar will too)."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from qike.audit.services import record
from qike.core import clock
from qike.core.models import Corp
from qike.engagement import library
from qike.engagement.models import MAX_TEXT_BYTES, QuickReply, QuickReplyGroup
from qike.engagement.services import utf8_len
from qike.org.access import Access, Action

MAX_GROUP_CHARS = 64
MAX_TITLE_CHARS = 128
MAX_KEYWORDS_CHARS = 255


def may_manage(access: Access) -> bool:
    return access.can(Action.RUN_CAMPAIGNS)


def groups(corp: Corp) -> QuerySet[QuickReplyGroup]:
    return QuickReplyGroup.objects.filter(corp=corp)


def search(*, corp: Corp, q: str = "", group_id: int | None = None) -> QuerySet[QuickReply]:
    """The corp's replies whose title, keywords or text contain `q`; the most used first."""
    found = QuickReply.objects.filter(corp=corp).select_related("group").prefetch_related("items")
    if q.strip():
        term = q.strip()
        found = found.filter(
            Q(title__icontains=term) | Q(keywords__icontains=term) | Q(text__icontains=term)
        )
    if group_id is not None:
        found = found.filter(group_id=group_id)
    return found.order_by("-used_count", "group__position", "title", "id")


def _group_name(corp: Corp, name: str, group: QuickReplyGroup | None) -> str:
    name = name.strip()
    if not name:
        raise ValidationError(_("Give the group a name."))
    if len(name) > MAX_GROUP_CHARS:
        raise ValidationError(
            _("A group name is at most %(n)d characters.") % {"n": MAX_GROUP_CHARS}
        )
    taken = groups(corp).filter(name=name)
    if group is not None:
        taken = taken.exclude(pk=group.pk)
    if taken.exists():
        raise ValidationError(_("There is already a group named %(name)s.") % {"name": name})
    return name


@transaction.atomic
def save_group(
    *, access: Access, name: str, position: int = 0, group: QuickReplyGroup | None = None
) -> QuickReplyGroup:
    access.require(Action.RUN_CAMPAIGNS)
    if group is not None and group.corp_id != access.corp.pk:
        raise ValidationError(_("This group belongs to another corp."))
    if position < 0:
        raise ValidationError(_("The order must be zero or more."))
    created = group is None
    group = group or QuickReplyGroup(corp=access.corp)
    group.name = _group_name(access.corp, name, None if created else group)
    group.position = position
    group.save()
    record(
        corp=access.corp,
        action="engagement.reply_group_create" if created else "engagement.reply_group_update",
        target=group,
    )
    return group


@transaction.atomic
def delete_group(*, access: Access, group: QuickReplyGroup) -> None:
    """Delete a group and its replies."""
    access.require(Action.RUN_CAMPAIGNS)
    if group.corp_id != access.corp.pk:
        raise ValidationError(_("This group belongs to another corp."))
    label, pk = group.name, group.pk
    count = group.replies.count()
    group.delete()
    record(
        corp=access.corp,
        action="engagement.reply_group_delete",
        target_type="engagement.quickreplygroup",
        target_id=pk,
        target_label=label,
        before={"replies": count},
    )


def _reply_problems(
    corp: Corp, group_id: int | None, title: str, text: str, keywords: str, item_ids: Sequence[int]
) -> list[str]:
    problems: list[str] = []
    if group_id is None or not groups(corp).filter(pk=group_id).exists():
        problems.append(_("Choose one of this corp's groups."))
    if not title.strip():
        problems.append(_("Give the reply a title."))
    elif len(title.strip()) > MAX_TITLE_CHARS:
        problems.append(_("The title is at most %(n)d characters.") % {"n": MAX_TITLE_CHARS})
    if len(keywords) > MAX_KEYWORDS_CHARS:
        problems.append(_("The keywords are at most %(n)d characters.") % {"n": MAX_KEYWORDS_CHARS})
    if utf8_len(text) > MAX_TEXT_BYTES:
        problems.append(
            _("The text is %(size)d bytes long; WeCom allows %(limit)d.")
            % {"size": utf8_len(text), "limit": MAX_TEXT_BYTES}
        )
    if not text.strip() and not item_ids:
        problems.append(_("Write a text or attach library items: both cannot be empty."))
    try:
        library.validate_attachments(corp=corp, item_ids=item_ids, purpose="message")
    except ValidationError as exc:
        problems.extend(exc.messages)
    return problems


def _clean_keywords(keywords: str) -> str:
    """Keywords separated by commas or spaces (either width), stored as "a, b, c"."""
    parts = keywords.replace("，", ",").replace("　", " ").replace(",", " ").split()
    return ", ".join(dict.fromkeys(parts))


@transaction.atomic
def save_reply(
    *,
    access: Access,
    group_id: int | None,
    title: str,
    text: str = "",
    keywords: str = "",
    item_ids: Sequence[int] = (),
    reply: QuickReply | None = None,
) -> QuickReply:
    """Create (reply=None) or change a reply; nothing is written if anything is wrong."""
    access.require(Action.RUN_CAMPAIGNS)
    corp = access.corp
    if reply is not None and reply.corp_id != corp.pk:
        raise ValidationError(_("This reply belongs to another corp."))
    keywords = _clean_keywords(keywords)
    item_ids = list(dict.fromkeys(item_ids))
    problems = _reply_problems(corp, group_id, title, text, keywords, item_ids)
    if problems:
        raise ValidationError(problems)
    created = reply is None
    reply = reply or QuickReply(corp=corp)
    reply.group_id = group_id
    reply.title = title.strip()
    reply.text = text
    reply.keywords = keywords
    reply.save()
    reply.items.set(item_ids)
    record(
        corp=corp,
        action="engagement.reply_create" if created else "engagement.reply_update",
        target=reply,
        after={"group": group_id, "title": reply.title, "items": item_ids},
    )
    return reply


@transaction.atomic
def delete_reply(*, access: Access, reply: QuickReply) -> None:
    access.require(Action.RUN_CAMPAIGNS)
    if reply.corp_id != access.corp.pk:
        raise ValidationError(_("This reply belongs to another corp."))
    label, pk = reply.title, reply.pk
    reply.delete()
    record(
        corp=access.corp,
        action="engagement.reply_delete",
        target_type="engagement.quickreply",
        target_id=pk,
        target_label=label,
    )


@transaction.atomic
def mark_used(*, access: Access, reply: QuickReply) -> QuickReply:
    """A staff member used the reply (copied or sent it): count it. Any user of the corp may."""
    if reply.corp_id != access.corp.pk:
        raise ValidationError(_("This reply belongs to another corp."))
    QuickReply.objects.filter(pk=reply.pk).update(
        used_count=F("used_count") + 1, last_used_at=clock.now()
    )
    reply.refresh_from_db(fields=["used_count", "last_used_at"])
    return reply
