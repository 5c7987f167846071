"""REST API: the audit trail, read-only (there is no endpoint that changes or deletes an entry)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from qike.api.auth import access_of, read_auth
from qike.api.errors import ApiError
from qike.api.pagination import cursor_page
from qike.api.schemas import CursorQuery, errors
from qike.audit.queries import AuditFilter, entries_for, filter_entries
from qike.audit.schemas import AuditPage, AuditQuery

router = Router(tags=["audit"], auth=read_auth)


@router.get("/audit", response={200: AuditPage, **errors(400, 403)}, summary="List audit entries")
def list_audit(request: HttpRequest, filters: Query[AuditQuery], page: Query[CursorQuery]) -> dict:
    """Actions that changed or exported data, newest first (corp admins only)."""
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ApiError(400, "invalid", _("The end date is before the start date."))
    wanted = AuditFilter(
        action=filters.action.strip(),
        actor=filters.actor.strip(),
        target=filters.target.strip(),
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    return cursor_page(
        filter_entries(entries_for(access_of(request)), wanted), field="at", params=page
    )
