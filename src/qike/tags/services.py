"""Corp tags and tag assignments, kept equal to WeCom."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from qike.audit.services import record
from qike.core import clock
from qike.core.models import Corp
from qike.core.services import client_for
from qike.org.access import Access, Action
from qike.tags.models import Tag, TagAssignment, TagGroup, TagType
from qike.wecom.errors import WeComError


@transaction.atomic
def replace_corp_tags(*, corp: Corp, groups: Iterable[dict]) -> int:
    """Make Qike's corp tags equal to WeCom's `get_corp_tag_list` answer. Tags WeCom no longer has
    are deleted, and with them their assignments (WeCom removes them from customers too)."""
    group_ids: set[str] = set()
    tag_ids: set[str] = set()
    for data in groups:
        group, _ = TagGroup.objects.update_or_create(
            corp=corp,
            wecom_id=data["group_id"],
            defaults={
                "name": data.get("group_name", ""),
                "order": int(data.get("order") or data.get("group_order") or 0),
                "created_at": clock.from_timestamp(data.get("create_time")),
            },
        )
        group_ids.add(group.wecom_id)
        for tag in data.get("tag") or []:
            if tag.get("deleted"):
                continue
            Tag.objects.update_or_create(
                corp=corp,
                wecom_id=tag["id"],
                defaults={
                    "group": group,
                    "name": tag.get("name", ""),
                    "order": int(tag.get("order") or 0),
                    "type": TagType.CORP,
                    "created_at": clock.from_timestamp(tag.get("create_time")),
                },
            )
            tag_ids.add(tag["id"])
    Tag.objects.filter(corp=corp, type=TagType.CORP).exclude(wecom_id__in=tag_ids).delete()
    TagGroup.objects.filter(corp=corp).exclude(wecom_id__in=group_ids).delete()
    return len(tag_ids)


def resolve_tags(
    *, corp: Corp, wecom_ids: Iterable[str], details: dict[str, dict] | None = None
) -> dict[str, Tag]:
    """Tag rows for WeCom tag ids. An id Qike has not seen yet (a personal tag, or a corp tag created
    a moment ago) gets a row named from `details` when WeCom gave them, else by its id until the
    next tag sync names it."""
    wanted = set(wecom_ids)
    found = {t.wecom_id: t for t in Tag.objects.filter(corp=corp, wecom_id__in=wanted)}
    details = details or {}
    for wecom_id in wanted - found.keys():
        info = details.get(wecom_id, {})
        tag_type = int(info.get("type") or (TagType.PERSONAL if wecom_id.startswith("st") else 1))
        found[wecom_id], _ = Tag.objects.get_or_create(
            corp=corp,
            wecom_id=wecom_id,
            defaults={"name": info.get("tag_name") or wecom_id, "type": tag_type},
        )
    for wecom_id, info in details.items():
        tag = found.get(wecom_id)
        if tag is not None and info.get("tag_name") and tag.name == tag.wecom_id:
            tag.name = info["tag_name"]
            tag.save(update_fields=["name"])
    return found


def set_relation_tags(*, corp: Corp, wanted: dict[int, set[int]]) -> None:
    """Make each relation's tags exactly `wanted[relation_id]` (tag primary keys), in bulk."""
    if not wanted:
        return
    existing: dict[int, set[int]] = {rid: set() for rid in wanted}
    stale: list[int] = []
    for pk, relation_id, tag_id in TagAssignment.objects.filter(
        relation_id__in=wanted.keys()
    ).values_list("pk", "relation_id", "tag_id"):
        if tag_id in wanted[relation_id]:
            existing[relation_id].add(tag_id)
        else:
            stale.append(pk)
    if stale:
        TagAssignment.objects.filter(pk__in=stale).delete()
    TagAssignment.objects.bulk_create(
        [
            TagAssignment(corp=corp, relation_id=relation_id, tag_id=tag_id)
            for relation_id, tag_ids in wanted.items()
            for tag_id in tag_ids - existing[relation_id]
        ],
        ignore_conflicts=True,
    )


# --- changes made in Qike: WeCom first, then Qike's copy -------------------------------------
# WeCom sends no callback for changes an app makes through the API, so after WeCom accepts a
# change Qike re-reads the tag library itself.

MAX_TAG_NAME = 30


def _clean_name(name: str) -> str:

    name = (name or "").strip()
    if not name:
        raise ValidationError(_("A tag name is required."))
    if len(name) > MAX_TAG_NAME:
        raise ValidationError(
            _("A tag name may have at most %(max)d characters.") % {"max": MAX_TAG_NAME}
        )
    return name


def _refresh(access: Access) -> None:

    with client_for(access.corp) as client:
        replace_corp_tags(corp=access.corp, groups=client.get_corp_tag_list())


def _client(access: Access):

    access.require(Action.MANAGE_TAGS)
    return client_for(access.corp)


def create_group(*, access: Access, name: str, tag_names: list[str], order: int = 0) -> TagGroup:

    name = _clean_name(name)
    names = list(dict.fromkeys(_clean_name(n) for n in tag_names if n and n.strip()))
    if not names:
        raise ValidationError(_("A tag group needs at least one tag."))
    if TagGroup.objects.filter(corp=access.corp, name=name).exists():
        raise ValidationError(_("A tag group named %(name)s already exists.") % {"name": name})
    with _client(access) as client:
        group = client.add_corp_tag(group_name=name, order=order, tags=[{"name": n} for n in names])
    _refresh(access)
    created = TagGroup.objects.get(corp=access.corp, wecom_id=group["group_id"])
    record(corp=access.corp, action="tags.group_create", target=created, after={"tags": names})
    return created


def add_tags(*, access: Access, group: TagGroup, names: list[str]) -> None:

    cleaned = list(dict.fromkeys(_clean_name(n) for n in names if n and n.strip()))
    if not cleaned:
        raise ValidationError(_("Give at least one tag name."))
    taken = set(group.tags.filter(name__in=cleaned).values_list("name", flat=True))
    if taken:
        raise ValidationError(
            _("These tags already exist in the group: %(names)s") % {"names": ", ".join(taken)}
        )
    with _client(access) as client:
        client.add_corp_tag(group_id=group.wecom_id, tags=[{"name": n} for n in cleaned])
    _refresh(access)
    record(corp=access.corp, action="tags.add", target=group, after={"tags": cleaned})


def rename(*, access: Access, item: Tag | TagGroup, name: str) -> None:

    name = _clean_name(name)
    siblings = (
        Tag.objects.filter(corp=access.corp, group_id=item.group_id)
        if isinstance(item, Tag)
        else TagGroup.objects.filter(corp=access.corp)
    )
    if siblings.filter(name=name).exclude(pk=item.pk).exists():
        raise ValidationError(_("The name %(name)s is already used.") % {"name": name})
    with _client(access) as client:
        client.edit_corp_tag(id=item.wecom_id, name=name)
    _refresh(access)
    record(
        corp=access.corp,
        action="tags.rename",
        target=item,
        before={"name": item.name},
        after={"name": name},
    )


def reorder(*, access: Access, item: Tag | TagGroup, order: int) -> None:
    """WeCom sorts by `order` descending: a larger number comes first."""

    if not 0 <= order < 2**32:
        raise ValidationError(_("The order must be a whole number from 0 to 4294967295."))
    with _client(access) as client:
        client.edit_corp_tag(id=item.wecom_id, order=order)
    _refresh(access)
    record(
        corp=access.corp,
        action="tags.reorder",
        target=item,
        before={"order": item.order},
        after={"order": order},
    )


def delete(*, access: Access, item: Tag | TagGroup) -> None:
    with _client(access) as client:
        if isinstance(item, Tag):
            client.del_corp_tag(tag_ids=[item.wecom_id])
        else:
            client.del_corp_tag(group_ids=[item.wecom_id])
    _refresh(access)
    record(
        corp=access.corp,
        action="tags.delete",
        target_type=item._meta.label_lower,
        target_id=item.wecom_id,
        target_label=item.name,
        before={"name": item.name},
    )


def mark_tags(*, access: Access, relation, add: list[Tag], remove: list[Tag]) -> None:
    """Tag or untag one customer as one member follows them: in WeCom, then in Qike, then on the
    customer's timeline."""

    # customers.services imports this module, so its names are looked up at call time.
    from qike.customers.models import TimelineKind
    from qike.customers.services import add_timeline

    access.require(Action.TAG_CUSTOMERS)
    current = set(relation.tag_assignments.values_list("tag_id", flat=True))
    add = [t for t in add if t.pk not in current]
    remove = [t for t in remove if t.pk in current]
    if not add and not remove:
        raise ValidationError(_("Nothing to change: choose tags to add or remove."))
    for tag in [*add, *remove]:
        if tag.corp_id != access.corp.pk or tag.type != TagType.CORP:
            raise ValidationError(_("Only the corp's own tags can be set from Qike."))
    with client_for(access.corp) as client:
        client.mark_tag(
            userid=relation.staff.userid,
            external_userid=relation.customer.external_userid,
            add_tag=[t.wecom_id for t in add],
            remove_tag=[t.wecom_id for t in remove],
        )
    with transaction.atomic():
        TagAssignment.objects.filter(relation=relation, tag__in=remove).delete()
        TagAssignment.objects.bulk_create(
            [TagAssignment(corp=access.corp, relation=relation, tag=t) for t in add],
            ignore_conflicts=True,
        )
        add_timeline(
            corp=access.corp,
            customer_id=relation.customer_id,
            staff_id=relation.staff_id,
            kind=TimelineKind.TAGS_CHANGED,
            actor=_actor(access),
            data={"added": [t.name for t in add], "removed": [t.name for t in remove]},
        )
        record(
            corp=access.corp,
            action="tags.mark",
            target=relation.customer,
            before={"staff": relation.staff.userid},
            after={"added": [t.name for t in add], "removed": [t.name for t in remove]},
        )


def _actor(access: Access) -> str:

    user = User.objects.filter(pk=access.user_id).first()
    return user.get_username() if user else "api"


NOT_A_FRIEND_YET = 84061  # WeCom refuses mark_tag on a half-added customer


def apply_auto_tags(*, corp: Corp, relation, tags: Iterable[Tag], actor: str) -> list[str]:
    """Tags a channel (live code, link, lead form…) puts on the customers it brings: WeCom first,
    then Qike and the timeline. Tags the relation already has are skipped, so a repeated event
    changes nothing; a half-added customer is skipped too (the confirmed add tags them). Returns the
    names of the tags added."""
    from qike.customers.models import TimelineKind
    from qike.customers.services import add_timeline

    if relation.is_half:
        return []
    have = set(TagAssignment.objects.filter(relation=relation).values_list("tag_id", flat=True))
    fresh = [t for t in tags if t.type == TagType.CORP and t.pk not in have]
    if not fresh:
        return []
    try:
        with client_for(corp) as client:
            client.mark_tag(
                userid=relation.staff.userid,
                external_userid=relation.customer.external_userid,
                add_tag=[t.wecom_id for t in fresh],
            )
    except WeComError as exc:
        if exc.errcode == NOT_A_FRIEND_YET:
            return []
        raise
    with transaction.atomic():
        TagAssignment.objects.bulk_create(
            [TagAssignment(corp=corp, relation=relation, tag=t) for t in fresh],
            ignore_conflicts=True,
        )
        add_timeline(
            corp=corp,
            customer_id=relation.customer_id,
            staff_id=relation.staff_id,
            kind=TimelineKind.TAGS_CHANGED,
            actor=actor,
            data={"added": [t.name for t in fresh], "removed": []},
        )
    return [t.name for t in fresh]
