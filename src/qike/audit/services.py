"""Recording actions. Call `record` from a service, inside its transaction, after the change: the
row commits (or rolls back) with the change itself."""

from __future__ import annotations

from typing import Any

from django.db import models

from qike.audit.context import Actor, acting, current_actor
from qike.audit.models import AuditEntry
from qike.core import clock
from qike.core.models import Corp

__all__ = ["Actor", "acting", "record", "snapshot"]


def record(
    *,
    corp: Corp | None,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    target_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    user_id: int | None = None,
) -> AuditEntry:
    """Write one audit row. `action` is "<app>.<verb>" (e.g. "tags.delete", "customers.export");
    `before`/`after` hold the changed fields (see `snapshot`). The actor (user, IP, console/api) comes
    from the request or job context unless `user_id` is given."""
    actor = current_actor() or Actor(via="system")
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
        target_label = target_label or str(target)
    name = actor.name
    if user_id is not None and user_id != actor.user_id:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=user_id).first()
        name = user.get_username() if user else ""
    return AuditEntry.objects.create(
        corp=corp,
        at=clock.now(),
        user_id=user_id if user_id is not None else actor.user_id,
        actor=name[:150],
        via=actor.via,
        ip=actor.ip,
        action=action[:64],
        target_type=target_type[:64],
        target_id=str(target_id)[:128],
        target_label=target_label[:255],
        before=before or {},
        after=after or {},
    )


def snapshot(instance: models.Model, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The named fields of a model instance, for `before`/`after` (foreign keys by id)."""
    values: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        values[name] = getattr(instance, field.attname)
    return values
