"""Corp tags and tag assignments, kept equal to WeCom."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from qike.core import clock
from qike.core.models import Corp
from qike.tags.models import Tag, TagAssignment, TagGroup, TagType


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
