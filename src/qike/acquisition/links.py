"""Acquisition links (获客助手): WeCom first, then Qike; every change in one transaction.

An add is attributed to its link once (LinkAdd.relation is unique) whichever way Qike learns of
it: the add event's State, the friend_request event (LinkId + State), or polling WeCom's list of
the link's customers. Each attributed add is costed by the corp's rule (free adds, then a price).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from qike.acquisition.models import (
    ACQUISITION_ADD_WAY,
    ACQUISITION_LINK_STATE_PREFIX,
    AcquisitionLink,
    LinkAdd,
    LinkChannel,
    LinkDailyStat,
    LinkSettings,
    QuotaAlert,
    QuotaAlertKind,
)
from qike.acquisition.services import require_manage
from qike.audit.services import record
from qike.core import clock
from qike.core.models import Corp
from qike.core.services import client_for
from qike.customers.models import FollowRelation, TimelineKind
from qike.customers.services import add_timeline
from qike.engagement.models import WelcomeMessage
from qike.engagement.sources import source_for_state
from qike.org.access import Access
from qike.org.models import Department, Membership, Role, Staff, StaffStatus
from qike.tags import services as tag_services
from qike.tags.models import Tag, TagType
from qike.wecom.errors import WeComError

log = logging.getLogger(__name__)

MAX_RANGE_USERS = 100  # WeCom: user_list at most 100 userids …
MAX_RANGE_DEPARTMENT_PEOPLE = 100  # … and the departments at most 100 people in total
MAX_CHANNEL_BYTES = 64  # WeCom cuts customer_channel beyond 64 bytes
MAX_CHANNELS = 100
LINK_GONE = 40058  # unknown or deleted link_id
STAT_DAYS = 30  # WeCom: at most 30 days per statistic query
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_]+$")


# --- input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    code: str  # the part after "ca-<link id>-" in customer_channel


@dataclass(frozen=True)
class LinkSpec:
    """What a user asks for. Members by WeCom UserID, departments and tags by WeCom id."""

    name: str
    userids: tuple[str, ...] = ()
    department_ids: tuple[int, ...] = ()
    skip_verify: bool = True
    tag_ids: tuple[str, ...] = ()
    welcome_message_id: int | None = None
    channels: tuple[ChannelSpec, ...] = field(default=())


@dataclass
class _Resolved:
    staff: list[Staff]
    departments: list[Department]
    tags: list[Tag]
    welcome: WelcomeMessage | None


def _staff(corp: Corp, userids: tuple[str, ...]) -> list[Staff]:
    wanted = list(dict.fromkeys(u.strip() for u in userids if u.strip()))
    if len(wanted) > MAX_RANGE_USERS:
        raise ValidationError(
            _("A link may name at most %(max)d staff members; %(n)d were chosen.")
            % {"max": MAX_RANGE_USERS, "n": len(wanted)}
        )
    found = {
        s.userid: s
        for s in Staff.objects.filter(corp=corp, userid__in=wanted, status=StaffStatus.ACTIVE)
    }
    missing = [u for u in wanted if u not in found]
    if missing:
        raise ValidationError(
            _("No active staff member with UserID %(ids)s.") % {"ids": "、".join(missing)}
        )
    return [found[u] for u in wanted]


def _departments(corp: Corp, ids: tuple[int, ...]) -> list[Department]:
    wanted = set(ids)
    departments = list(Department.objects.filter(corp=corp, wecom_id__in=wanted))
    unknown = wanted - {d.wecom_id for d in departments}
    if unknown:
        raise ValidationError(
            _("Unknown department ids: %(ids)s.") % {"ids": ", ".join(map(str, sorted(unknown)))}
        )
    if departments:
        within = Q()
        for department in departments:
            within |= Q(staffdepartment__department__path__startswith=department.path)
        people = (
            Staff.objects.filter(within, corp=corp, status=StaffStatus.ACTIVE).distinct().count()
        )
        if people > MAX_RANGE_DEPARTMENT_PEOPLE:
            raise ValidationError(
                _(
                    "The chosen departments have %(n)d people; WeCom allows at most %(max)d "
                    "people in a link's departments."
                )
                % {"n": people, "max": MAX_RANGE_DEPARTMENT_PEOPLE}
            )
    return departments


def _check_channels(link_pk: int | None, channels: tuple[ChannelSpec, ...]) -> None:
    if len(channels) > MAX_CHANNELS:
        raise ValidationError(
            _("A link may have at most %(max)d sub-channels.") % {"max": MAX_CHANNELS}
        )
    seen: set[str] = set()
    for channel in channels:
        if not channel.name.strip():
            raise ValidationError(_("Every sub-channel needs a name."))
        code = channel.code.strip()
        if not CODE_PATTERN.match(code):
            raise ValidationError(
                _("Sub-channel code %(code)s: use letters, digits and underscores only.")
                % {"code": code or "—"}
            )
        if code in seen:
            raise ValidationError(_("Sub-channel code %(code)s is used twice.") % {"code": code})
        seen.add(code)
        # A new link has no id yet: measure with a long one so the check is on the safe side.
        if len(_channel_state(link_pk or 10**9, code).encode()) > MAX_CHANNEL_BYTES:
            raise ValidationError(_("Sub-channel code %(code)s is too long.") % {"code": code[:20]})


def _resolve(corp: Corp, spec: LinkSpec, link_pk: int | None) -> _Resolved:
    """Check everything before anything is written or sent; raise ValidationError with why."""
    if not spec.name.strip():
        raise ValidationError(_("Give the link a name."))
    if len(spec.name.strip()) > 64:
        raise ValidationError(_("A link name has at most 64 characters."))
    staff = _staff(corp, spec.userids)
    departments = _departments(corp, spec.department_ids)
    if not staff and not departments:
        raise ValidationError(
            _("The link has nobody to add customers: choose staff members or departments.")
        )
    tags = list(Tag.objects.filter(corp=corp, type=TagType.CORP, wecom_id__in=set(spec.tag_ids)))
    if len(tags) != len(set(spec.tag_ids)):
        raise ValidationError(_("Auto-tags must be existing corp tags."))
    welcome = None
    if spec.welcome_message_id is not None:
        welcome = WelcomeMessage.objects.filter(corp=corp, pk=spec.welcome_message_id).first()
        if welcome is None:
            raise ValidationError(_("That welcome message does not exist."))
    _check_channels(link_pk, spec.channels)
    return _Resolved(staff, departments, tags, welcome)


def _channel_state(link_pk: int, code: str) -> str:
    return f"{ACQUISITION_LINK_STATE_PREFIX}{link_pk}-{code}"


def channel_code(channel: LinkChannel) -> str:
    prefix = _channel_state(channel.link_id, "")
    return channel.state[len(prefix) :] if channel.state.startswith(prefix) else channel.state


# --- links ------------------------------------------------------------------------------------


def _apply(link: AcquisitionLink, spec: LinkSpec, resolved: _Resolved) -> None:
    link.name = spec.name.strip()
    link.skip_verify = spec.skip_verify
    link.userids = [s.userid for s in resolved.staff]
    link.department_ids = [d.wecom_id for d in resolved.departments]
    link.welcome_message = resolved.welcome


def _write_channels(link: AcquisitionLink, channels: tuple[ChannelSpec, ...]) -> None:
    """Make the link's sub-channels match; one with attributed adds cannot be removed (its
    figures and printed URLs depend on it)."""
    wanted = {_channel_state(link.pk, c.code.strip()): c.name.strip() for c in channels}
    for channel in LinkChannel.objects.filter(link=link).annotate(n=Count("adds")):
        if channel.state in wanted:
            if channel.name != wanted[channel.state]:
                channel.name = wanted[channel.state]
                channel.save(update_fields=["name"])
            del wanted[channel.state]
        elif channel.n:
            raise ValidationError(
                _("Sub-channel %(name)s has customers and cannot be removed.")
                % {"name": channel.name}
            )
        else:
            channel.delete()
    try:
        with transaction.atomic():
            LinkChannel.objects.bulk_create(
                [
                    LinkChannel(corp=link.corp, link=link, name=name, state=state)
                    for state, name in wanted.items()
                ]
            )
    except IntegrityError:
        raise ValidationError(_("A sub-channel code is already in use.")) from None


def create_link(*, access: Access, spec: LinkSpec) -> AcquisitionLink:
    """Create the link in WeCom and Qike; if WeCom refuses, nothing is kept."""
    require_manage(access)
    resolved = _resolve(access.corp, spec, None)
    with transaction.atomic():
        link = AcquisitionLink(corp=access.corp)
        _apply(link, spec, resolved)
        link.save()
        link.state = f"{ACQUISITION_LINK_STATE_PREFIX}{link.pk}"
        link.tags.set(resolved.tags)
        _write_channels(link, spec.channels)
        with client_for(access.corp) as client:
            answer = client.create_acquisition_link(
                link_name=link.name,
                user_list=link.userids,
                department_list=link.department_ids,
                skip_verify=link.skip_verify,
            )
        link.link_id = answer["link_id"]
        link.url = answer.get("url", "")
        link.save()
    return link


def _require_live(link: AcquisitionLink) -> None:
    if link.deleted_at is not None:
        raise ValidationError(_("This link has been deleted."))


def update_link(*, access: Access, link: AcquisitionLink, spec: LinkSpec) -> AcquisitionLink:
    require_manage(access)
    _require_live(link)
    resolved = _resolve(access.corp, spec, link.pk)
    with transaction.atomic():
        link = AcquisitionLink.objects.select_for_update().get(pk=link.pk, corp=access.corp)
        _require_live(link)
        _apply(link, spec, resolved)
        link.tags.set(resolved.tags)
        _write_channels(link, spec.channels)
        with client_for(access.corp) as client:
            client.update_acquisition_link(
                link.link_id,
                link_name=link.name,
                user_list=link.userids,
                department_list=link.department_ids,
                skip_verify=link.skip_verify,
            )
        link.save()
    return link


def delete_link(*, access: Access, link: AcquisitionLink) -> None:
    """Delete the link in WeCom (shared URLs stop working); its customers and costs stay."""
    require_manage(access)
    _require_live(link)
    with transaction.atomic():
        link = AcquisitionLink.objects.select_for_update().get(pk=link.pk, corp=access.corp)
        _require_live(link)
        try:
            with client_for(access.corp) as client:
                client.delete_acquisition_link(link.link_id)
        except WeComError as exc:
            if exc.errcode != LINK_GONE:  # already gone in WeCom: that is what we want
                raise
        link.deleted_at = clock.now()
        link.save(update_fields=["deleted_at", "updated_at"])
        record(corp=access.corp, action="acquisition.link_delete", target=link)


def mark_gone(*, corp: Corp, link_id: str, unavailable: bool) -> bool:
    """WeCom says the link was deleted in its admin console, or became unavailable."""
    now = clock.now()
    links = AcquisitionLink.objects.filter(corp=corp, link_id=link_id)
    if unavailable:
        return bool(links.filter(unavailable_at__isnull=True).update(unavailable_at=now))
    return bool(links.filter(deleted_at__isnull=True).update(deleted_at=now))


# --- attribution ------------------------------------------------------------------------------


def link_for_state(corp: Corp, state: str) -> tuple[AcquisitionLink, LinkChannel | None] | None:
    """The link (and sub-channel) an add's State names, if Qike knows it."""
    if not state:
        return None
    channel = LinkChannel.objects.filter(corp=corp, state=state).select_related("link").first()
    if channel is not None:
        return channel.link, channel
    if state.startswith(ACQUISITION_LINK_STATE_PREFIX):
        link = AcquisitionLink.objects.filter(corp=corp, state=state).first()
        if link is not None:
            return link, None
    return None


def _settings(corp: Corp, *, lock: bool = False) -> LinkSettings:
    LinkSettings.objects.get_or_create(corp=corp)
    rows = LinkSettings.objects.filter(corp=corp)
    return (rows.select_for_update() if lock else rows).get()


def _relation(corp: Corp, external_userid: str, userid: str) -> FollowRelation | None:
    return (
        FollowRelation.objects.filter(
            corp=corp, customer__external_userid=external_userid, staff__userid=userid
        )
        .select_related("customer", "staff")
        .first()
    )


def attribute(
    *,
    corp: Corp,
    link: AcquisitionLink,
    channel: LinkChannel | None,
    relation: FollowRelation,
    via: str,
    at: dt.datetime | None = None,
) -> LinkAdd | None:
    """Record the add once: its cost by the corp's rule and a CHANNEL entry on the timeline.
    None when the relation is not established yet (a half add uses no quota until accepted)."""
    if relation.is_half:
        return None
    with transaction.atomic():
        existing = LinkAdd.objects.filter(relation=relation).first()
        if existing is not None:
            return existing
        settings = _settings(corp, lock=True)  # serialises counting, so no add is free twice
        settings.adds_counted += 1
        settings.save(update_fields=["adds_counted"])
        cost = 0 if settings.adds_counted <= settings.free_adds else settings.price_fen
        add = LinkAdd.objects.create(
            corp=corp,
            link=link,
            channel=channel,
            relation=relation,
            staff=relation.staff,
            added_at=at or relation.added_at or clock.now(),
            cost_fen=cost,
            via=via,
        )
        label = f"{link.name} · {channel.name}" if channel else link.name
        add_timeline(
            corp=corp,
            customer_id=relation.customer_id,
            staff_id=relation.staff_id,
            kind=TimelineKind.CHANNEL,
            occurred_at=add.added_at,
            data={
                "kind": "acquisition_link",
                "label": label,
                "link_id": link.pk,
                "channel": channel.name if channel else "",
                "cost_fen": cost,
            },
        )
    return add


def apply_auto_tags(*, corp: Corp, link: AcquisitionLink, relation: FollowRelation) -> list[str]:
    """The link's auto-tags on the customer, WeCom first; tags already there are skipped."""
    return tag_services.apply_auto_tags(
        corp=corp, relation=relation, tags=link.tags.all(), actor=link.name
    )


def _attribute_and_tag(
    corp: Corp,
    found: tuple[AcquisitionLink, LinkChannel | None],
    relation: FollowRelation,
    via: str,
) -> LinkAdd | None:
    link, channel = found
    add = attribute(corp=corp, link=link, channel=channel, relation=relation, via=via)
    if add is not None and add.link_id == link.pk:
        apply_auto_tags(corp=corp, link=link, relation=relation)
    return add


def on_add(*, corp: Corp, state: str, external_userid: str, userid: str) -> LinkAdd | None:
    """An add event: attribute it when its State names one of Qike's links or sub-channels."""
    found = link_for_state(corp, state)
    relation = _relation(corp, external_userid, userid)
    if found is None or relation is None:
        return None
    if relation.add_way not in (None, 0, ACQUISITION_ADD_WAY):
        return None  # a contact way carrying the same State is not a link add
    return _attribute_and_tag(corp, found, relation, "event")


def on_friend_request(*, corp: Corp, link_id: str, state: str) -> int:
    """LinkId + State: a State Qike did not make (appended by hand) becomes a sub-channel of that
    link; then customers already stored with that State are attributed (the add event may have
    been handled first). Returns how many adds were attributed now."""
    link = AcquisitionLink.objects.filter(corp=corp, link_id=link_id).first()
    if link is None or not state:
        return 0
    found = link_for_state(corp, state)
    if found is None and source_for_state(corp, state) is None:
        LinkChannel.objects.get_or_create(
            corp=corp, state=state, defaults={"link": link, "name": state}
        )
        found = link_for_state(corp, state)
    if found is None or found[0].pk != link.pk:
        return 0
    relations = (
        FollowRelation.objects.filter(corp=corp, state=state, add_way=ACQUISITION_ADD_WAY)
        .exclude(pk__in=LinkAdd.objects.filter(corp=corp).values("relation_id"))
        .select_related("customer", "staff")
    )
    return sum(_attribute_and_tag(corp, found, r, "friend_request") is not None for r in relations)


def poll_customers(*, link_pk: int) -> int:
    """Page through WeCom's customer list of the link (cursor by cursor) and attribute the ones
    Qike has stored but not yet attributed; runs safely any number of times."""
    link = AcquisitionLink.objects.select_related("corp").filter(pk=link_pk).first()
    if link is None or not link.link_id:
        return 0
    corp, attributed, cursor = link.corp, 0, ""
    done = set(LinkAdd.objects.filter(link=link).values_list("relation_id", flat=True))
    with client_for(corp) as client:
        while True:
            page, cursor = client.acquisition_link_customers(link.link_id, cursor=cursor)
            for row in page:
                relation = _relation(corp, row["external_userid"], row["userid"])
                if relation is None or relation.pk in done:
                    continue  # not stored yet: the customer sync brings it, the next poll counts
                found = link_for_state(corp, row.get("state", ""))
                channel = found[1] if found and found[0].pk == link.pk else None
                added = _attribute_and_tag(corp, (link, channel), relation, "poll")
                attributed += added is not None
            if not cursor:
                break
    link.polled_at = clock.now()
    link.save(update_fields=["polled_at"])
    return attributed


def poll_all_links() -> int:
    total = 0
    live = AcquisitionLink.objects.filter(deleted_at__isnull=True).exclude(link_id="")
    for pk in live.values_list("pk", flat=True):
        try:
            total += poll_customers(link_pk=pk)
        except WeComError as exc:
            # One corp's WeCom trouble must not stop the others; the next run tries again.
            log.warning("acquisition.poll_failed link=%s errcode=%s", pk, exc.errcode)
    return total


# --- WeCom's figures ----------------------------------------------------------------------------


def _day_start(day: dt.date) -> int:
    local = timezone.make_aware(
        dt.datetime.combine(day, dt.time()), timezone.get_default_timezone()
    )
    return int(local.timestamp())


def sync_stats(*, link_pk: int, days: int = 7) -> int:
    """Fetch clicks and new customers per day for the last `days` days (today included)."""
    link = AcquisitionLink.objects.select_related("corp").filter(pk=link_pk).first()
    if link is None or not link.link_id:
        return 0
    days = max(1, min(days, STAT_DAYS))
    today = timezone.localdate(clock.now())
    with client_for(link.corp) as client:
        for back in range(days):
            day = today - dt.timedelta(days=back)
            start = _day_start(day)
            answer = client.acquisition_link_statistic(
                link.link_id, start_time=start, end_time=start + 86399
            )
            LinkDailyStat.objects.update_or_create(
                link=link,
                day=day,
                defaults={
                    "corp": link.corp,
                    "clicks": answer.get("click_link_customer_cnt", 0),
                    "new_customers": answer.get("new_customer_cnt", 0),
                },
            )
    return days


def sync_all_stats() -> int:
    done = 0
    live = AcquisitionLink.objects.filter(deleted_at__isnull=True).exclude(link_id="")
    for pk in live.values_list("pk", flat=True):
        try:
            done += bool(sync_stats(link_pk=pk, days=2))
        except WeComError as exc:
            log.warning("acquisition.stats_failed link=%s errcode=%s", pk, exc.errcode)
    return done


# --- quota, cost and alerts -------------------------------------------------------------------


def settings_for(corp: Corp) -> LinkSettings:
    return _settings(corp)


def update_pricing(*, access: Access, free_adds: int, price_fen: int) -> LinkSettings:
    """The corp's cost rule for new adds; adds already costed keep their cost."""
    require_manage(access)
    if free_adds < 0 or price_fen < 0:
        raise ValidationError(_("Free adds and price cannot be negative."))
    with transaction.atomic():
        settings = _settings(access.corp, lock=True)
        settings.free_adds, settings.price_fen = free_adds, price_fen
        settings.save(update_fields=["free_adds", "price_fen"])
    return settings


def refresh_balance(*, corp: Corp) -> LinkSettings:
    """Read the live balance from WeCom and keep it for pages that must not wait on WeCom."""
    with client_for(corp) as client:
        answer = client.acquisition_quota()
    with transaction.atomic():
        settings = _settings(corp, lock=True)
        settings.balance = answer.get("balance")
        settings.total_used = answer.get("total")
        settings.balance_checked_at = clock.now()
        settings.save(update_fields=["balance", "total_used", "balance_checked_at"])
    return settings


def _admin_userids(corp: Corp) -> list[str]:
    return sorted(
        set(
            Membership.objects.filter(
                corp=corp, role=Role.CORP_ADMIN, staff__status=StaffStatus.ACTIVE
            ).values_list("staff__userid", flat=True)
        )
    )


def _alert_text(kind: str, balance: int | None) -> str:
    if kind == QuotaAlertKind.EXHAUSTED:
        text = _("Qike: the acquisition-link balance is used up; links stop adding customers.")
    else:
        text = _("Qike: the acquisition-link balance is low.")
    if balance is not None:
        text += " " + _("Balance now: %(n)d.") % {"n": balance}
    return text


def alert_admins(*, corp: Corp, kind: str, event_at: dt.datetime) -> QuotaAlert:
    """Record the balance event and tell the corp admins by app message, once per event."""
    with transaction.atomic():
        alert, created = QuotaAlert.objects.get_or_create(corp=corp, kind=kind, event_at=event_at)
        if not created:
            return alert
        alert = QuotaAlert.objects.select_for_update().get(pk=alert.pk)
        try:
            balance = refresh_balance(corp=corp).balance
        except WeComError:
            balance = None  # the alert matters more than the figure
        userids = _admin_userids(corp)
        if not userids:
            alert.error = _("No corp admin is linked to a WeCom member.")
        elif corp.agent_id is None:
            alert.error = _("The corp has no app agent id configured.")
        else:
            try:
                with client_for(corp) as client:
                    answer = client.send_app_message(
                        agentid=corp.agent_id, touser=userids, content=_alert_text(kind, balance)
                    )
                invalid = set(filter(None, str(answer.get("invaliduser", "")).split("|")))
                alert.notified = [u for u in userids if u not in invalid]
            except WeComError as exc:
                alert.error = f"{exc.errcode} {exc.errmsg}"
        alert.save(update_fields=["notified", "error"])
    return alert


def dismiss_alerts(*, access: Access) -> int:
    require_manage(access)
    return QuotaAlert.objects.filter(corp=access.corp, dismissed_at__isnull=True).update(
        dismissed_at=clock.now()
    )


@dataclass(frozen=True)
class Costs:
    adds: int
    cost_fen: int


def costs(adds: QuerySet[LinkAdd]) -> Costs:
    row = adds.aggregate(n=Count("pk"), fen=Sum("cost_fen"))
    return Costs(row["n"] or 0, row["fen"] or 0)
