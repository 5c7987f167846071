"""Console pages: lead forms (corp admins and operations) and leads (everyone, in their scope)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from qike.console.decorators import console_view
from qike.core import clock
from qike.core.pagination import BadCursor, newest_first
from qike.customers.privacy import mask_phone, reveals_phones
from qike.leads import services
from qike.leads.forms import LeadFormForm, initial_for
from qike.leads.models import FieldKey, Lead, LeadForm
from qike.org.access import Access
from qike.org.models import Staff

PAGE_SIZE = 50
STATUSES = ("converted", "unconverted")


def _form(access: Access, pk: int) -> LeadForm:
    form = LeadForm.objects.filter(corp=access.corp, pk=pk).first()
    if form is None:
        raise Http404
    return form


def public_url(request: HttpRequest, form: LeadForm) -> str:
    return request.build_absolute_uri(
        reverse("leads_public:form", args=[form.corp.corpid, form.slug])
    )


@require_GET
@console_view
def form_list(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_manage(access)
    forms = LeadForm.objects.filter(corp=access.corp).annotate(
        lead_count=Count("leads"),
        converted_count=Count("leads", filter=Q(leads__converted_at__isnull=False)),
    )
    return render(request, "leads/forms.html", {"forms": forms})


def _editor(
    request: HttpRequest, form: LeadFormForm, lead_form: LeadForm | None, problem: str
) -> HttpResponse:
    return render(
        request,
        "leads/form_edit.html",
        {"form": form, "lead_form": lead_form, "problem": problem},
        status=400 if form.is_bound else 200,
    )


def _save(request: HttpRequest, access: Access, lead_form: LeadForm | None) -> HttpResponse:
    form = LeadFormForm(request.POST, corp=access.corp)
    problem = ""
    if form.is_valid():
        try:
            lead_form = services.save_form(access=access, spec=form.spec(), form=lead_form)
            messages.success(request, _("Saved %(name)s.") % {"name": lead_form.name})
            return redirect("console:lead_form", pk=lead_form.pk)
        except ValidationError as exc:
            problem = " ".join(exc.messages)
    return _editor(request, form, lead_form, problem)


@require_http_methods(["GET", "POST"])
@console_view
def form_new(request: HttpRequest, access: Access) -> HttpResponse:
    services.require_manage(access)
    if request.method == "POST":
        return _save(request, access, None)
    return _editor(request, LeadFormForm(corp=access.corp), None, "")


@require_http_methods(["GET", "POST"])
@console_view
def form_edit(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.require_manage(access)
    lead_form = _form(access, pk)
    if request.method == "POST":
        return _save(request, access, lead_form)
    return _editor(
        request, LeadFormForm(initial=initial_for(lead_form), corp=access.corp), lead_form, ""
    )


@require_GET
@console_view
def form_detail(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    services.require_manage(access)
    lead_form = _form(access, pk)
    leads = Lead.objects.filter(form=lead_form)
    labels = dict(FieldKey.choices)
    return render(
        request,
        "leads/form_detail.html",
        {
            "lead_form": lead_form,
            "public_url": public_url(request, lead_form),
            "questions": [(labels[f["key"]], f.get("required")) for f in lead_form.fields],
            "pool": lead_form.pool.order_by("name", "userid"),
            "tags": lead_form.tags.all(),
            "total": leads.count(),
            "converted": leads.filter(converted_at__isnull=False).count(),
        },
    )


def _filtered(request: HttpRequest, access: Access):
    leads = services.leads_in_scope(access).select_related("form", "staff", "customer")
    status = request.GET.get("status", "")
    if status == "converted":
        leads = leads.filter(converted_at__isnull=False)
    elif status == "unconverted":
        leads = leads.filter(converted_at__isnull=True)
    form_id = request.GET.get("form", "")
    if form_id.isdigit():
        leads = leads.filter(form_id=int(form_id))
    userid = request.GET.get("staff", "")
    if userid:
        leads = leads.filter(staff__userid=userid)
    return leads, {"status": status, "form": form_id, "staff": userid}


@require_GET
@console_view
def lead_list(request: HttpRequest, access: Access) -> HttpResponse:
    leads, chosen = _filtered(request, access)
    try:
        page = newest_first(
            leads, field="created_at", cursor=request.GET.get("cursor", ""), size=PAGE_SIZE
        )
    except BadCursor:
        raise Http404 from None
    now = clock.now()  # ages follow Qike's clock, which tests and the simulator move
    for lead in page.items:
        lead.masked_phone = mask_phone(lead.phone) if lead.phone else ""
        lead.age = timesince(lead.created_at, now)
    return render(
        request,
        "leads/leads.html",
        {
            "leads": page.items,
            "next_cursor": page.next_cursor,
            "chosen": chosen,
            "forms": LeadForm.objects.filter(corp=access.corp).order_by("name"),
            "staff": Staff.objects.filter(access.staff_filter(), corp=access.corp).order_by(
                "name", "userid"
            ),
            "may_manage": services.may_manage(access),
        },
    )


@require_GET
@console_view
def lead_detail(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    lead = Lead.objects.filter(corp=access.corp, pk=pk).select_related("form", "staff").first()
    if lead is None:
        raise Http404
    if not services.leads_in_scope(access).filter(pk=lead.pk).exists():
        raise PermissionDenied(_("This lead belongs to a staff member outside your scope."))
    phone = lead.phone if reveals_phones(access) else mask_phone(lead.phone) if lead.phone else ""
    age = timesince(lead.created_at, clock.now())
    return render(request, "leads/lead_detail.html", {"lead": lead, "phone": phone, "age": age})
