"""A segment's rules: what they mean, their JSON form, and their validation.

All rules are ANDed, except `staff` and `departments`, which together name the followers (the
chosen members *and* everyone in the chosen department subtrees). A rule left empty does not
filter. Tags are matched per follow relation, as the customer list matches them: a relation is in
`tags_all` when that relation carries every tag (WeCom tags a customer per staff member).

`statuses` defaults to active relations only, and half-added relations (the customer added the
member, who has not confirmed) are left out unless `include_half` is set.

Last interaction (`interacted_within_days` / `inactive_for_days`): the newer of the relation's
added time and the customer's newest timeline entry of an interaction kind (INTERACTION_KINDS:
the customer arrived, was welcomed, was reached by a mass message or a moment, opened a link, had
a follow-up). `FollowRelation.last_event_at` is not used: it only tracks WeCom's contact-change
events (add, edit, delete) and is empty for relations found by sync.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from qike.customers.models import RelationStatus, TimelineKind

MAX_ITEMS = 200  # per list rule
MAX_DAYS = 3650
STATE_MAX = 64  # FollowRelation.state

INTERACTION_KINDS = (
    TimelineKind.ADDED,
    TimelineKind.HALF_ADDED,
    TimelineKind.WELCOME,
    TimelineKind.CHANNEL,
    TimelineKind.REFERRAL,
    TimelineKind.FOLLOW_UP,
    TimelineKind.LINK_OPENED,
    TimelineKind.MASS_MESSAGE,
    TimelineKind.MOMENT,
)

DEFAULT_STATUSES = (RelationStatus.ACTIVE.value,)


@dataclass(frozen=True)
class SegmentRules:
    tags_any: tuple[str, ...] = ()  # WeCom tag ids (corp or personal)
    tags_all: tuple[str, ...] = ()
    tags_none: tuple[str, ...] = ()
    states: tuple[str, ...] = ()  # the relation's channel `state` (live code, link, store …)
    staff: tuple[str, ...] = ()  # userids
    departments: tuple[int, ...] = ()  # WeCom department ids, each with its subtree
    added_from: dt.date | None = None  # local dates (the corp's time zone), inclusive
    added_to: dt.date | None = None
    added_within_days: int | None = None  # added in the last N days, counted from now
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    include_half: bool = False
    interacted_within_days: int | None = None
    inactive_for_days: int | None = None
    stages: tuple[int, ...] = ()  # lifecycle Stage ids

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, without rules left at their default (rules_from_dict reads it back)."""
        out: dict[str, Any] = {}
        defaults = SegmentRules()
        for name, value in asdict(self).items():
            if value == getattr(defaults, name):
                continue
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out

    @property
    def is_empty(self) -> bool:
        """No rule narrows the audience beyond the defaults (everyone active)."""
        return self == SegmentRules()


RULE_NAMES = tuple(f.name for f in fields(SegmentRules))


def _strings(errors: dict, name: str, value: Any, max_length: int = 64) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        errors[name] = [_("Give a list of text values.")]
        return ()
    cleaned = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(cleaned) > MAX_ITEMS:
        errors[name] = [_("At most %(n)d values.") % {"n": MAX_ITEMS}]
    elif any(len(v) > max_length for v in cleaned):
        errors[name] = [_("A value is longer than %(n)d characters.") % {"n": max_length}]
    return cleaned


def _ints(errors: dict, name: str, value: Any) -> tuple[int, ...]:
    if value in (None, ""):
        return ()
    if not isinstance(value, list | tuple):
        value = [value]
    try:
        cleaned = tuple(dict.fromkeys(_as_int(v) for v in value))
    except (TypeError, ValueError):
        errors[name] = [_("Give a list of whole numbers.")]
        return ()
    if len(cleaned) > MAX_ITEMS:
        errors[name] = [_("At most %(n)d values.") % {"n": MAX_ITEMS}]
    return cleaned


def _as_int(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    return int(value)


def _date(errors: dict, name: str, value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors[name] = [_("Give a date as YYYY-MM-DD.")]
        return None


def _days(errors: dict, name: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        days = _as_int(value)
    except (TypeError, ValueError):
        errors[name] = [_("Give a whole number of days.")]
        return None
    if not 1 <= days <= MAX_DAYS:
        errors[name] = [_("Give a number of days from 1 to %(n)d.") % {"n": MAX_DAYS}]
        return None
    return days


def _statuses(errors: dict, value: Any) -> tuple[str, ...]:
    if value in (None, "", []):
        return DEFAULT_STATUSES
    chosen = _strings(errors, "statuses", value)
    unknown = [s for s in chosen if s not in RelationStatus.values]
    if unknown:
        errors["statuses"] = [
            _("Unknown status %(value)s; use one of %(choices)s.")
            % {"value": ", ".join(unknown), "choices": ", ".join(RelationStatus.values)}
        ]
    return chosen or DEFAULT_STATUSES


def rules_from_dict(data: dict | None) -> SegmentRules:
    """Read rules from their JSON form. Raises ValidationError (one message per bad rule, keyed by
    the rule's name) for unknown rules, wrong types, impossible combinations."""
    data = data or {}
    if not isinstance(data, dict):
        raise ValidationError(_("Rules must be an object of rule names and values."))
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(data) - set(RULE_NAMES))
    if unknown:
        errors["rules"] = [
            _("Unknown rule %(names)s; the rules are %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(RULE_NAMES)}
        ]
    include_half = data.get("include_half", False)
    if not isinstance(include_half, bool):
        errors["include_half"] = [_("Give true or false.")]
        include_half = False
    rules = SegmentRules(
        tags_any=_strings(errors, "tags_any", data.get("tags_any")),
        tags_all=_strings(errors, "tags_all", data.get("tags_all")),
        tags_none=_strings(errors, "tags_none", data.get("tags_none")),
        states=_strings(errors, "states", data.get("states"), STATE_MAX),
        staff=_strings(errors, "staff", data.get("staff")),
        departments=_ints(errors, "departments", data.get("departments")),
        added_from=_date(errors, "added_from", data.get("added_from")),
        added_to=_date(errors, "added_to", data.get("added_to")),
        added_within_days=_days(errors, "added_within_days", data.get("added_within_days")),
        statuses=_statuses(errors, data.get("statuses")),
        include_half=include_half,
        interacted_within_days=_days(
            errors, "interacted_within_days", data.get("interacted_within_days")
        ),
        inactive_for_days=_days(errors, "inactive_for_days", data.get("inactive_for_days")),
        stages=_ints(errors, "stages", data.get("stages")),
    )
    _check_combinations(errors, rules)
    if errors:
        raise ValidationError(errors)
    return rules


def _check_combinations(errors: dict, rules: SegmentRules) -> None:
    if rules.added_from and rules.added_to and rules.added_from > rules.added_to:
        errors.setdefault("added_to", []).append(_("The end date is before the start date."))
    both = sorted(set(rules.tags_none) & (set(rules.tags_all) | set(rules.tags_any)))
    if both:
        errors.setdefault("tags_none", []).append(
            _("Tag %(tags)s is both wanted and excluded; no customer could match.")
            % {"tags": ", ".join(both)}
        )
    active, idle = rules.interacted_within_days, rules.inactive_for_days
    if active and idle and idle >= active:
        errors.setdefault("inactive_for_days", []).append(
            _(
                "Inactive for %(idle)d days and active within %(active)d days cannot both hold; "
                "no customer could match."
            )
            % {"idle": idle, "active": active}
        )
