"""REST API: lead forms (list, get) and leads (list with filters, get)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema

from qike.api.auth import access_of, read_auth
from qike.api.pagination import cursor_page
from qike.api.schemas import CursorQuery, errors
from qike.core import clock
from qike.customers.privacy import mask_phone, reveals_phones
from qike.leads import services
from qike.leads.models import Lead, LeadForm
from qike.leads.schemas import LeadFormOut, LeadOut, LeadPage
from qike.org.access import Access

router = Router(tags=["leads"], auth=read_auth)


class LeadFilterQuery(Schema):
    converted: bool | None = Field(None, description="true: added and confirmed; false: not yet.")
    form: int | None = Field(None, description="Lead form id.")
    staff: str = Field("", max_length=64, description="WeCom UserID of the assigned member.")


def _form_data(request: HttpRequest, form: LeadForm) -> dict:
    leads = Lead.objects.filter(form=form)
    return {
        "id": form.pk,
        "name": form.name,
        "slug": form.slug,
        "public_url": request.build_absolute_uri(
            reverse("leads_public:form", args=[form.corp.corpid, form.slug])
        ),
        "is_open": form.is_open,
        "questions": [{"key": f["key"], "required": bool(f.get("required"))} for f in form.fields],
        "rule": form.rule,
        "assign_field": form.assign_field,
        "assign_map": form.assign_map,
        "staff": sorted(form.pool.values_list("userid", flat=True)),
        "tags": sorted(form.tags.values_list("wecom_id", flat=True)),
        "welcome_message_id": form.welcome_message_id,
        "way_days": form.way_days,
        "leads": leads.count(),
        "converted": leads.filter(converted_at__isnull=False).count(),
        "created_at": form.created_at,
    }


def _lead_data(lead: Lead, *, masked: bool) -> dict:
    phone = mask_phone(lead.phone) if masked and lead.phone else lead.phone
    return {
        "id": lead.pk,
        "form_id": lead.form_id,
        "form_name": lead.form.name,
        "name": lead.name,
        "phone": phone,
        "company": lead.company,
        "need": lead.need,
        "region": lead.region,
        "note": lead.note,
        "staff": lead.staff.userid,
        "state": lead.state,
        "converted": lead.converted_at is not None,
        "external_userid": lead.customer.external_userid if lead.customer else None,
        "created_at": lead.created_at,
        "age_days": (clock.now() - lead.created_at).days,
        "bound_at": lead.bound_at,
        "converted_at": lead.converted_at,
    }


def _find_form(access: Access, pk: int) -> LeadForm:
    services.require_manage(access)
    form = LeadForm.objects.filter(corp=access.corp, pk=pk).select_related("corp").first()
    if form is None:
        raise Http404
    return form


@router.get(
    "/lead-forms", response={200: list[LeadFormOut], **errors(403)}, summary="List lead forms"
)
def list_forms(request: HttpRequest) -> list[dict]:
    access = access_of(request)
    services.require_manage(access)
    forms = LeadForm.objects.filter(corp=access.corp).select_related("corp")
    return [_form_data(request, form) for form in forms]


@router.get(
    "/lead-forms/{form_id}",
    response={200: LeadFormOut, **errors(403, 404)},
    summary="Get a lead form",
)
def get_form(request: HttpRequest, form_id: int) -> dict:
    return _form_data(request, _find_form(access_of(request), form_id))


@router.get("/leads", response={200: LeadPage, **errors(400, 403)}, summary="List leads")
def list_leads(
    request: HttpRequest, filters: Query[LeadFilterQuery], page: Query[CursorQuery]
) -> dict:
    """Leads assigned to staff you may see, newest first. Phone numbers are masked in lists."""
    access = access_of(request)
    leads = services.leads_in_scope(access).select_related("form", "staff", "customer")
    if filters.converted is not None:
        leads = leads.filter(converted_at__isnull=not filters.converted)
    if filters.form is not None:
        leads = leads.filter(form_id=filters.form)
    if filters.staff:
        leads = leads.filter(staff__userid=filters.staff)
    result = cursor_page(leads, field="created_at", params=page)
    result["items"] = [_lead_data(lead, masked=True) for lead in result["items"]]
    return result


@router.get("/leads/{lead_id}", response={200: LeadOut, **errors(403, 404)}, summary="Get a lead")
def get_lead(request: HttpRequest, lead_id: int) -> dict:
    access = access_of(request)
    services.require_view_leads(access)
    lead = (
        Lead.objects.filter(corp=access.corp, pk=lead_id)
        .select_related("form", "staff", "customer")
        .first()
    )
    if lead is None:
        raise Http404
    if not services.leads_in_scope(access).filter(pk=lead.pk).exists():
        raise PermissionDenied
    return _lead_data(lead, masked=not reveals_phones(access))
