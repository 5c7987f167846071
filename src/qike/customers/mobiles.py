"""Remark mobiles (备注手机号) by keyed hash: "which of a member's customers has this phone?"
without decrypting every relation.

Phones are stored encrypted (Fernet, a new ciphertext each time), so an equality lookup needs a
second, deterministic form: an HMAC of the normalised number, keyed by the install's secret key
(QIKE_SECRET_KEY). Without the key the hashes say nothing. After changing QIKE_SECRET_KEY run
`qike index_remark_mobiles` to rebuild the index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.crypto import salted_hmac

MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_NOISE = re.compile(r"[\s\-()（）.]")
_HASH_SALT = "qike.customers.mobile-lookup"


def normalise_mobile(raw: object) -> str:
    """ "+86 138-1234-5678", "0086 13812345678", 13812345678 → "13812345678". Other numbers
    (landlines, foreign) keep their digits, without spaces and dashes."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # a number cell in a spreadsheet
    text = _NOISE.sub("", str(raw).strip())
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif len(text) == 13 and text.startswith("86"):
        text = text[2:]
    return text


def is_mainland_mobile(number: str) -> bool:
    return bool(MAINLAND_MOBILE.match(number))


def mobile_hash(number: object) -> str:
    """The lookup key of a phone number (normalised first, so every spelling matches)."""
    return salted_hmac(_HASH_SALT, normalise_mobile(number), algorithm="sha256").hexdigest()


def wanted_hashes(mobiles: Iterable[str]) -> set[str]:
    return {mobile_hash(m) for m in mobiles if normalise_mobile(m)}


def index_relations(relations: Iterable) -> None:
    """Make the index hold exactly the remark mobiles of these relations (FollowRelation rows
    with a pk). Only differences are written: unchanged relations cost no write."""
    from qike.customers.models import RelationMobile

    wanted = {r.pk: (r.corp_id, wanted_hashes(r.remark_mobiles or [])) for r in relations if r.pk}
    if not wanted:
        return
    have: dict[int, dict[str, int]] = {}
    for pk, relation_id, digest in RelationMobile.objects.filter(
        relation_id__in=list(wanted)
    ).values_list("pk", "relation_id", "mobile_hash"):
        have.setdefault(relation_id, {})[digest] = pk
    stale: list[int] = []
    fresh: list[RelationMobile] = []
    for relation_id, (corp_id, hashes) in wanted.items():
        current = have.get(relation_id, {})
        stale.extend(pk for digest, pk in current.items() if digest not in hashes)
        fresh.extend(
            RelationMobile(corp_id=corp_id, relation_id=relation_id, mobile_hash=digest)
            for digest in hashes
            if digest not in current
        )
    if stale:
        RelationMobile.objects.filter(pk__in=stale).delete()
    if fresh:
        RelationMobile.objects.bulk_create(fresh, ignore_conflicts=True)


def rebuild_index(*, chunk: int = 500) -> int:
    """Index every relation again (after a key change, or to repair). Returns relations seen."""
    from qike.customers.models import FollowRelation, RelationMobile

    RelationMobile.objects.all().delete()
    seen = 0
    batch: list = []
    for relation in FollowRelation.objects.only("pk", "corp_id", "remark_mobiles").iterator(
        chunk_size=chunk
    ):
        batch.append(relation)
        if len(batch) >= chunk:
            index_relations(batch)
            seen += len(batch)
            batch = []
    index_relations(batch)
    return seen + len(batch)
