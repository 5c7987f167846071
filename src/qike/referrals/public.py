"""The share page a referrer forwards to friends (no login, mobile first): "<referrer> invites you"
and the staff member's QR code. The address holds an unguessable token, never a customer id."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from qike.core import clock, contact_ways
from qike.referrals.models import ReferralCode
from qike.referrals.services import display_name

STATUS_CODES = {"unknown": 404, "ended": 410, "upcoming": 200}


def _trouble(request: HttpRequest, kind: str, code: ReferralCode | None = None) -> HttpResponse:
    return render(
        request,
        "referrals/public_error.html",
        {"kind": kind, "campaign": code.campaign if code else None},
        status=STATUS_CODES[kind],
    )


@require_GET
def share(request: HttpRequest, corpid: str, token: str) -> HttpResponse:
    code = (
        ReferralCode.objects.filter(corp__corpid=corpid, token=token)
        .select_related("campaign", "customer", "staff")
        .first()
    )
    if code is None:
        return _trouble(request, "unknown")
    status = code.campaign.status_on(clock.now())
    if status != "active" or code.way_deleted_at is not None or not code.qr_code:
        return _trouble(request, status if status != "active" else "ended", code)
    qr = contact_ways.qr_data_uri(code.qr_code)
    return render(
        request,
        "referrals/public_share.html",
        {
            "campaign": code.campaign,
            "referrer": display_name(code.customer),
            "staff_name": code.staff.name or code.staff.userid,
            "qr": qr,
        },
    )
