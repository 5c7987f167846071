"""Lead forms and leads: every change here, WeCom first, one transaction each."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from qike.core import clock, contact_ways
from qike.core.models import Corp
from qike.core.services import client_for
from qike.customers.models import FollowRelation, TimelineKind
from qike.customers.services import add_timeline
from qike.engagement.models import WelcomeMessage
from qike.leads.models import (
    DEFAULT_WAY_DAYS,
    FIELD_MAX_LENGTH,
    LEAD_STATE_PREFIX,
    AssignRule,
    FieldKey,
    Lead,
    LeadForm,
)
from qike.org.access import Access, Action
from qike.org.models import Staff, StaffStatus
from qike.tags.models import Tag, TagType
from qike.tags.services import apply_auto_tags
from qike.wecom.errors import WeComError

NOT_A_FRIEND_YET = 84061  # remark / mark_tag on a half-added customer
MAX_WECOM_REMARK = 20  # WeCom: a customer remark is at most 20 characters
MAX_WAY_DAYS = 365
RATE_LIMIT = 5  # submissions per IP and form …
RATE_WINDOW_SECONDS = 10 * 60  # … in this many seconds
MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


class RateLimited(Exception):
    """Too many submissions from one address: the visitor is asked to wait."""


# --- who may ---------------------------------------------------------------------------------


def may_manage(access: Access) -> bool:
    """Forms: corp admins and operations. Everyone else works the leads they may see."""
    return access.corp_wide and access.can(Action.MANAGE_TAGS)


def require_manage(access: Access) -> None:
    if not may_manage(access):
        raise PermissionDenied(_("Only corp admins and operations may manage lead forms."))


def require_view_leads(access: Access) -> None:
    if not access.can(Action.VIEW_CUSTOMERS):
        raise PermissionDenied(_("Your role may not see leads."))


def leads_in_scope(access: Access):
    """Leads of this corp assigned to staff the user may see (staff: their own; managers: their
    departments' members; corp-wide roles: all)."""
    require_view_leads(access)
    return Lead.objects.filter(access.staff_filter("staff__"), corp=access.corp)


# --- forms -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormSpec:
    """What a user asks for. Staff by WeCom UserID, tags by WeCom id."""

    name: str
    slug: str
    fields: tuple[tuple[str, bool], ...]  # (key, required) in page order
    userids: tuple[str, ...]
    rule: str = AssignRule.ROUND_ROBIN
    assign_field: str = ""
    assign_map: dict[str, str] = field(default_factory=dict)  # answer → UserID
    title: str = ""
    intro: str = ""
    tag_ids: tuple[str, ...] = ()
    welcome_message_id: int | None = None
    thank_you: str = ""
    way_days: int = DEFAULT_WAY_DAYS
    is_open: bool = True


def _active_staff(corp: Corp, userids: list[str]) -> dict[str, Staff]:
    found = {
        s.userid: s
        for s in Staff.objects.filter(corp=corp, userid__in=userids, status=StaffStatus.ACTIVE)
    }
    missing = [u for u in userids if u not in found]
    if missing:
        raise ValidationError(
            _("No active staff member with UserID %(ids)s.") % {"ids": "、".join(missing)}
        )
    return found


def _check_fields(spec: FormSpec) -> list[dict]:
    keys = [key for key, _required in spec.fields]
    if not keys:
        raise ValidationError(_("Ask at least one question."))
    unknown = [k for k in keys if k not in FieldKey.values]
    if unknown or len(set(keys)) != len(keys):
        raise ValidationError(_("Each question may be asked once, from the known fields."))
    if FieldKey.NAME not in keys and FieldKey.PHONE not in keys:
        raise ValidationError(_("Ask at least for a name or a mobile phone."))
    return [{"key": key, "required": bool(required)} for key, required in spec.fields]


def _check_rule(spec: FormSpec, keys: list[str], corp: Corp) -> tuple[list[Staff], dict]:
    pool_ids = list(dict.fromkeys(u.strip() for u in spec.userids if u.strip()))
    if not pool_ids:
        raise ValidationError(_("The staff pool is empty: choose at least one staff member."))
    pool = _active_staff(corp, pool_ids)
    mapping: dict[str, str] = {}
    if spec.rule == AssignRule.BY_FIELD:
        if spec.assign_field not in keys:
            raise ValidationError(_("Assigning by an answer needs a question the form asks."))
        mapping = {k.strip(): v.strip() for k, v in spec.assign_map.items() if k.strip()}
        if not mapping:
            raise ValidationError(_("Map at least one answer to a staff member."))
        _active_staff(corp, sorted(set(mapping.values())))
    elif spec.rule != AssignRule.ROUND_ROBIN:
        raise ValidationError(_("Unknown assignment rule."))
    return [pool[u] for u in pool_ids], mapping


def _check_slug(corp: Corp, slug: str, form_pk: int | None) -> str:
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise ValidationError(
            _("The address may use lower-case letters, digits and hyphens (at most 40).")
        )
    taken = LeadForm.objects.filter(corp=corp, slug=slug).exclude(pk=form_pk or -1).exists()
    if taken:
        raise ValidationError(_("Another form already uses the address %(slug)s.") % {"slug": slug})
    return slug


def _resolve_extras(corp: Corp, spec: FormSpec) -> tuple[list[Tag], WelcomeMessage | None]:
    wanted = set(spec.tag_ids)
    tags = list(Tag.objects.filter(corp=corp, type=TagType.CORP, wecom_id__in=wanted))
    if len(tags) != len(wanted):
        raise ValidationError(_("Tags must be existing corp tags."))
    welcome = None
    if spec.welcome_message_id is not None:
        welcome = WelcomeMessage.objects.filter(corp=corp, pk=spec.welcome_message_id).first()
        if welcome is None:
            raise ValidationError(_("That welcome message does not exist."))
    if not 1 <= spec.way_days <= MAX_WAY_DAYS:
        raise ValidationError(
            _("Keep QR codes between 1 and %(max)d days.") % {"max": MAX_WAY_DAYS}
        )
    return tags, welcome


def suggest_slug(name: str) -> str:
    return slugify(name)[:40]


def save_form(*, access: Access, spec: FormSpec, form: LeadForm | None = None) -> LeadForm:
    """Create or change a form; everything is checked before anything is written."""
    require_manage(access)
    corp = access.corp
    name = spec.name.strip()
    if not name:
        raise ValidationError(_("Give the form a name."))
    fields = _check_fields(spec)
    pool, mapping = _check_rule(spec, [f["key"] for f in fields], corp)
    slug = _check_slug(corp, spec.slug, form.pk if form else None)
    tags, welcome = _resolve_extras(corp, spec)
    with transaction.atomic():
        if form is None:
            form = LeadForm(corp=corp)
        elif form.corp_id != corp.pk:
            raise PermissionDenied
        form.name, form.slug, form.fields = name, slug, fields
        form.title, form.intro = spec.title.strip(), spec.intro.strip()
        form.rule = spec.rule
        form.assign_field = spec.assign_field if spec.rule == AssignRule.BY_FIELD else ""
        form.assign_map = mapping
        form.welcome_message = welcome
        form.thank_you = spec.thank_you.strip()
        form.way_days = spec.way_days
        form.is_open = spec.is_open
        form.save()
        form.pool.set(pool)
        form.tags.set(tags)
    return form


# --- submissions -----------------------------------------------------------------------------


def _rate_key(form: LeadForm, ip: str) -> str:
    return f"qike:leads:rate:{form.pk}:{ip}"


def count_attempt(*, form: LeadForm, ip: str) -> None:
    """Count one submission from `ip`; RateLimited past RATE_LIMIT in the window. Every attempt
    counts, valid or not, so a script cannot probe the validation for free."""
    key = _rate_key(form, ip)
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
    try:
        seen = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS)
        seen = 1
    if seen > RATE_LIMIT:
        raise RateLimited


def clean_answers(form: LeadForm, raw: dict[str, str]) -> dict[str, str]:
    """The answers the form asks for, trimmed; ValidationError (a dict by field) on bad input."""
    answers: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    for item in form.fields:
        key = item["key"]
        text = raw.get(key) or ""
        # One-line answers lose stray whitespace; the free-text note keeps its line breaks.
        value = text.strip() if key == FieldKey.NOTE else " ".join(text.split())
        if key == FieldKey.PHONE:
            value = value.replace(" ", "").replace("-", "")
            if value.startswith("+86"):
                value = value[3:]
        if not value:
            if item.get("required"):
                problems[key] = [_("Please fill this in.")]
            answers[key] = ""
            continue
        limit = FIELD_MAX_LENGTH[key]
        if key == FieldKey.PHONE and not MAINLAND_MOBILE.match(value):
            problems[key] = [_("Enter an 11-digit mainland mobile number, e.g. 13812345678.")]
        elif len(value) > limit:
            problems[key] = [_("At most %(n)d characters.") % {"n": limit}]
        answers[key] = value
    if problems:
        raise ValidationError(problems)
    return answers


def _round_robin(form: LeadForm) -> Staff:
    pool = list(
        form.pool.filter(status=StaffStatus.ACTIVE).order_by("userid")
    )  # stable order, so turns go around the pool
    if not pool:
        raise ValidationError(_("This form has nobody to take leads right now."))
    chosen = pool[form.next_turn % len(pool)]
    form.next_turn = (form.next_turn + 1) % len(pool)
    form.save(update_fields=["next_turn"])
    return chosen


def _assign(form: LeadForm, answers: dict[str, str]) -> Staff:
    """By the mapped answer when there is one (falling back to the pool), else round robin."""
    if form.rule == AssignRule.BY_FIELD:
        userid = form.assign_map.get(answers.get(form.assign_field, ""))
        if userid:
            staff = Staff.objects.filter(
                corp=form.corp, userid=userid, status=StaffStatus.ACTIVE
            ).first()
            if staff is not None:
                return staff
    return _round_robin(form)


def submit(*, form: LeadForm, raw: dict[str, str], ip: str) -> Lead:
    """A visitor's submission: a lead, its staff member and its contact way, all or nothing.

    If WeCom refuses the contact way the transaction rolls back: no lead, no turn used."""
    if not form.is_open:
        raise ValidationError(_("This form is closed."))
    count_attempt(form=form, ip=ip)
    answers = clean_answers(form, raw)
    with transaction.atomic():
        form = LeadForm.objects.select_for_update().select_related("corp").get(pk=form.pk)
        staff = _assign(form, answers)
        lead = Lead.objects.create(
            corp=form.corp, form=form, staff=staff, created_at=clock.now(), **answers
        )
        lead.state = f"{LEAD_STATE_PREFIX}{lead.pk}"
        way = contact_ways.add_single_way(
            corp=form.corp, userid=staff.userid, state=lead.state, remark=form.name
        )
        lead.config_id, lead.qr_code = way.config_id, way.qr_code
        lead.save()
    return lead


# --- adds ------------------------------------------------------------------------------------


def _relation(corp: Corp, external_userid: str, userid: str) -> FollowRelation | None:
    return (
        FollowRelation.objects.filter(
            corp=corp, customer__external_userid=external_userid, staff__userid=userid
        )
        .select_related("customer", "staff")
        .first()
    )


def wecom_remark(lead: Lead) -> str:
    """ "name" or "name-company", as WeCom allows (20 characters)."""
    parts = [p for p in (lead.name, lead.company) if p]
    return "-".join(parts)[:MAX_WECOM_REMARK]


def bind_add(
    *, corp: Corp, state: str, external_userid: str, userid: str, at: dt.datetime | None
) -> Lead | None:
    """The customer added the lead's staff member: bind lead ↔ customer ↔ staff and put the
    channel on the timeline (once, however often the event comes)."""
    if not state.startswith(LEAD_STATE_PREFIX):
        return None
    relation = _relation(corp, external_userid, userid)
    if relation is None:
        return None
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(corp=corp, state=state).first()
        if lead is None or lead.staff_id != relation.staff_id:
            return None
        if lead.bound_at is not None:
            return lead
        lead.customer_id, lead.relation = relation.customer_id, relation
        lead.bound_at = at or clock.now()
        lead.save(update_fields=["customer", "relation", "bound_at"])
        add_timeline(
            corp=corp,
            customer_id=relation.customer_id,
            staff_id=relation.staff_id,
            kind=TimelineKind.CHANNEL,
            occurred_at=lead.bound_at,
            data={"kind": "lead", "label": lead.form.name, "lead_id": lead.pk},
        )
    return lead


def convert(*, corp: Corp, state: str) -> Lead | None:
    """At the confirmed add: remark and remark mobiles from the form, the form's tags (WeCom
    first), then the per-lead contact way is deleted. A half-added customer answers 84061 and is
    converted at the confirmation instead. Running twice changes nothing."""
    lead = (
        Lead.objects.filter(corp=corp, state=state, converted_at__isnull=True)
        .exclude(relation=None)
        .select_related("relation__customer", "relation__staff", "form")
        .first()
    )
    if lead is None or lead.relation.is_half:
        return None
    relation = lead.relation
    remark = wecom_remark(lead)
    mobiles = [lead.phone] if lead.phone else []
    if remark or mobiles:
        try:
            with client_for(corp) as client:
                client.remark(
                    userid=relation.staff.userid,
                    external_userid=relation.customer.external_userid,
                    remark=remark or None,
                    remark_mobiles=mobiles or None,
                )
        except WeComError as exc:
            if exc.errcode == NOT_A_FRIEND_YET:
                return None
            raise
    apply_auto_tags(corp=corp, relation=relation, tags=lead.form.tags.all(), actor=lead.form.name)
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        if locked.converted_at is not None:
            return locked
        if remark:
            relation.remark = remark
        if mobiles:
            relation.remark_mobiles = mobiles
        relation.save(update_fields=["remark", "remark_mobiles"])
        locked.converted_at = clock.now()
        locked.save(update_fields=["converted_at"])
    delete_way(lead_id=lead.pk)
    return Lead.objects.get(pk=lead.pk)


def delete_way(*, lead_id: int) -> bool:
    """Delete the lead's contact way in WeCom (a corp has at most 500,000); True when done now."""
    return contact_ways.delete_way_of(Lead, lead_id)


def expire_ways() -> int:
    """Delete contact ways of converted leads not yet cleaned up and of leads unconverted for
    longer than their form keeps them. One corp's WeCom trouble does not stop the others."""
    now = clock.now()
    waiting = Lead.objects.filter(way_deleted_at__isnull=True).exclude(config_id="")
    due = [
        lead_id
        for lead_id, converted_at, created_at, days in waiting.values_list(
            "pk", "converted_at", "created_at", "form__way_days"
        )
        if converted_at is not None or created_at <= now - dt.timedelta(days=days)
    ]
    return contact_ways.delete_ways_of(Lead, due)
