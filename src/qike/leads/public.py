"""The public form page a prospect fills in (no login, CSRF-protected, mobile first), and the
page that shows their staff member's QR code."""

from __future__ import annotations

import logging

from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from qike.core import contact_ways
from qike.leads import services
from qike.leads.models import FIELD_MAX_LENGTH, FieldKey, Lead, LeadForm
from qike.wecom.errors import WeComError

log = logging.getLogger(__name__)
THANKS_SALT = "qike.leads.thanks"
INPUT_TYPES = {FieldKey.PHONE: "tel"}


def _lead_form(corpid: str, slug: str) -> LeadForm:
    form = LeadForm.objects.filter(corp__corpid=corpid, slug=slug).select_related("corp").first()
    if form is None:
        raise Http404
    return form


def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the visitor writes unless a trusted proxy
    # rewrites REMOTE_ADDR, which is the deployment's job (see docs on production).
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _questions(form: LeadForm, values: dict, problems: dict) -> list[dict]:
    labels = dict(FieldKey.choices)
    choices = []
    if form.assign_field == FieldKey.REGION and form.assign_map:
        choices = list(form.assign_map)
    rows = []
    for item in form.fields:
        key = item["key"]
        rows.append(
            {
                "key": key,
                "label": labels[key],
                "required": item.get("required"),
                "value": values.get(key, ""),
                "errors": problems.get(key, []),
                "max_length": FIELD_MAX_LENGTH[key],
                "type": INPUT_TYPES.get(key, "text"),
                "multiline": key in (FieldKey.NEED, FieldKey.NOTE),
                "choices": choices if key == FieldKey.REGION else [],
            }
        )
    return rows


def _page(request, form, values=None, problems=None, status=200) -> HttpResponse:
    return render(
        request,
        "leads/public_form.html",
        {
            "lead_form": form,
            "questions": _questions(form, values or {}, problems or {}),
            "questions_problem": (problems or {}).get("", []),
        },
        status=status,
    )


def _trouble(request: HttpRequest, form: LeadForm, kind: str, status: int) -> HttpResponse:
    return render(
        request, "leads/public_error.html", {"lead_form": form, "kind": kind}, status=status
    )


@require_http_methods(["GET", "POST"])
def form_page(request: HttpRequest, corpid: str, slug: str) -> HttpResponse:
    form = _lead_form(corpid, slug)
    if not form.is_open:
        return _trouble(request, form, "closed", 410)
    if request.method == "GET":
        return _page(request, form)
    values = {key: request.POST.get(key, "") for key in form.field_keys()}
    try:
        lead = services.submit(form=form, raw=values, ip=_client_ip(request))
    except services.RateLimited:
        return _trouble(request, form, "rate", 429)
    except ValidationError as exc:
        problems = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        return _page(request, form, values, problems, status=400)
    except WeComError as exc:
        log.warning("lead form %s: WeCom refused the contact way: %s", form.pk, exc.errcode)
        return _trouble(request, form, "wecom", 503)
    token = signing.dumps(lead.pk, salt=THANKS_SALT)
    return redirect("leads_public:thanks", corpid=corpid, slug=slug, token=token)


@require_GET
def thanks(request: HttpRequest, corpid: str, slug: str, token: str) -> HttpResponse:
    form = _lead_form(corpid, slug)
    try:
        lead_id = signing.loads(token, salt=THANKS_SALT)
    except signing.BadSignature:
        raise Http404 from None
    lead = Lead.objects.filter(pk=lead_id, form=form).select_related("staff").first()
    if lead is None:
        raise Http404
    qr = ""
    if lead.qr_code and lead.converted_at is None and lead.way_deleted_at is None:
        qr = contact_ways.qr_data_uri(lead.qr_code)
    return render(
        request,
        "leads/public_thanks.html",
        {"lead_form": form, "lead": lead, "qr": qr},
    )
