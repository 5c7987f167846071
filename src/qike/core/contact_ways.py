"""「联系我」 contact ways for one staff member: the QR code a feature shows one person so that they
add that member, with a `state` naming the feature's row (a lead, a referral code…).

Shared by lead forms and referral codes; live codes (many members, pools) keep their own calls."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import segno
from django.db import models, transaction

from qike.core import clock
from qike.core.models import Corp
from qike.core.services import client_for
from qike.wecom.errors import WeComError

CONTACT_WAY_GONE = 41044  # WeCom: unknown or expired config_id
MAX_WAY_REMARK = 30  # WeCom: a contact way's remark and state are at most 30 characters


@dataclass(frozen=True)
class Way:
    config_id: str
    qr_code: str


def add_single_way(
    *, corp: Corp, userid: str, state: str, remark: str, skip_verify: bool = True
) -> Way:
    """A type-1 (one member) QR-code way (scene 2) for `userid`; WeComError when WeCom refuses.

    The caller keeps its transaction open around this call, so a refusal leaves nothing behind."""
    if len(state) > MAX_WAY_REMARK:
        raise ValueError(f"a contact way state is at most {MAX_WAY_REMARK} characters")
    with client_for(corp) as client:
        answer = client.add_contact_way(
            type=1,
            scene=2,
            remark=remark[:MAX_WAY_REMARK],
            skip_verify=skip_verify,
            state=state,
            user=[userid],
        )
    return Way(config_id=answer["config_id"], qr_code=answer.get("qr_code", ""))


def delete_way(*, corp: Corp, config_id: str) -> None:
    """Delete a contact way in WeCom (a corp may have at most 500,000). A way WeCom no longer knows
    is what we want, so 41044 is not an error."""
    try:
        with client_for(corp) as client:
            client.del_contact_way(config_id)
    except WeComError as exc:
        if exc.errcode != CONTACT_WAY_GONE:
            raise


def delete_way_of(model: type[models.Model], pk: int) -> bool:
    """Delete the way of one row (a corp-owned model with `config_id` and `way_deleted_at`) and
    note when; True when done now. The row lock keeps two clean-ups from racing."""
    with transaction.atomic():
        row = (
            model.objects.select_for_update()
            .select_related("corp")
            .filter(pk=pk, way_deleted_at__isnull=True)
            .exclude(config_id="")
            .first()
        )
        if row is None:
            return False
        delete_way(corp=row.corp, config_id=row.config_id)
        row.way_deleted_at = clock.now()
        row.save(update_fields=["way_deleted_at"])
    return True


def delete_ways_of(model: type[models.Model], pks: Iterable[int]) -> int:
    """delete_way_of for each row; how many were deleted. One corp's WeCom trouble does not stop
    the others: the next run tries again."""
    deleted = 0
    for pk in list(pks):
        try:
            deleted += delete_way_of(model, pk)
        except WeComError:
            continue
    return deleted


def qr_data_uri(qr_code: str) -> str:
    """The way's QR code as an inline SVG for a public page (scan, or long-press in WeChat)."""
    return segno.make(qr_code, error="m").svg_data_uri(scale=6, border=4)
