"""Reading welcome messages and sends within a user's Access (console and API alike)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from qike.engagement.models import StaffWelcome, WelcomeMedia, WelcomeMessage, WelcomeSend
from qike.org.access import Access, Action
from qike.org.models import Staff, StaffStatus


def messages(access: Access) -> QuerySet[WelcomeMessage]:
    access.require(Action.VIEW_CUSTOMERS)
    return WelcomeMessage.objects.filter(corp=access.corp)


def get_message(access: Access, pk: int) -> WelcomeMessage:
    """A message of the user's corp; another corp's is not found."""
    found = messages(access).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def get_media(access: Access, pk: int) -> WelcomeMedia:
    access.require(Action.VIEW_CUSTOMERS)
    found = WelcomeMedia.objects.filter(corp=access.corp, pk=pk).first()
    if found is None:
        raise Http404
    return found


def staff_counts(access: Access) -> Counter:
    """How many staff members use each message as their default."""
    return Counter(
        StaffWelcome.objects.filter(corp=access.corp).values_list("message_id", flat=True)
    )


def staff_in_scope(access: Access) -> QuerySet[Staff]:
    """Active members whose default this user may see."""
    return (
        Staff.objects.filter(corp=access.corp)
        .exclude(status=StaffStatus.LEFT)
        .filter(access.staff_filter())
        .order_by("name", "userid")
    )


def staff_defaults(access: Access) -> dict[int, StaffWelcome]:
    """Staff pk → their default, for the members in the user's scope."""
    rows = StaffWelcome.objects.filter(
        corp=access.corp, staff__in=staff_in_scope(access)
    ).select_related("message", "staff")
    return {row.staff_id: row for row in rows}


def get_staff(access: Access, *, pk: int | None = None, userid: str | None = None) -> Staff:
    """A member of the corp (404 otherwise) inside the user's scope (403 otherwise)."""
    corp_staff = Staff.objects.filter(corp=access.corp)
    found = corp_staff.filter(pk=pk).first() if pk else corp_staff.filter(userid=userid).first()
    if found is None:
        raise Http404
    if not staff_in_scope(access).filter(pk=found.pk).exists():
        raise PermissionDenied(_("This staff member is outside your view."))
    return found


def sends(access: Access) -> QuerySet[WelcomeSend]:
    """Sends for the members this user may see."""
    access.require(Action.VIEW_CUSTOMERS)
    scoped = WelcomeSend.objects.filter(corp=access.corp)
    if not access.corp_wide:
        scoped = scoped.filter(access.staff_filter("staff__"))
    return scoped.select_related("staff", "customer")


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def filter_sends(
    access: Access,
    *,
    status: str = "",
    staff: str = "",
    customer: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[WelcomeSend]:
    """Sends by result, staff UserID, customer (external UserID or name) and local day range."""
    rows = sends(access)
    if status:
        rows = rows.filter(status=status)
    if staff:
        rows = rows.filter(userid=staff)
    if customer:
        rows = rows.filter(Q(external_userid=customer) | Q(customer__name__icontains=customer))
    if since:
        rows = rows.filter(created_at__gte=_day_start(since))
    if until:
        rows = rows.filter(created_at__lt=_day_start(until + dt.timedelta(days=1)))
    return rows
