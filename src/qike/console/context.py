"""The corp a console user is working in, and their access to it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from qike.core.models import Corp
from qike.org.access import Access, access_for, corps_for

SESSION_CORP = "qike_corp_id"


class NoCorp(PermissionDenied):
    """The user belongs to no corp (yet)."""


def current_corp(request: HttpRequest) -> Corp:
    """The corp chosen in this session, else the user's first corp."""
    corps = corps_for(request.user)
    if not corps:
        raise NoCorp
    chosen = request.session.get(SESSION_CORP)
    for corp in corps:
        if corp.pk == chosen:
            return corp
    request.session[SESSION_CORP] = corps[0].pk
    return corps[0]


def current_access(request: HttpRequest) -> Access:
    return access_for(request.user, current_corp(request))


def switch_corp(request: HttpRequest, corp_pk: int) -> Corp:
    """Choose another corp for this session; 404 for a corp the user may not see."""
    from django.http import Http404

    for corp in corps_for(request.user):
        if corp.pk == corp_pk:
            request.session[SESSION_CORP] = corp.pk
            return corp
    raise Http404
