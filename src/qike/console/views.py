"""The console's own pages: login, the dashboard, switching corp and language, and the no-corp page."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language as django_set_language

from qike.console import services
from qike.console.attention import needs_attention
from qike.console.context import switch_corp as choose_corp
from qike.console.decorators import console_view
from qike.customers import stats
from qike.org.access import Access, corps_for


class LoginView(auth_views.LoginView):
    template_name = "console/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        # The language a user chose follows them to every browser they log in on.
        language = services.preferred_language(form.get_user())
        if language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


class LogoutView(auth_views.LogoutView):
    next_page = "console:login"


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (the cookie, the redirect), plus remembering the choice for the user."""
    if request.user.is_authenticated:
        # Django's view ignores an unknown language too and just goes back.
        with contextlib.suppress(ValidationError):
            services.set_language(user=request.user, language=request.POST.get("language", ""))
    return django_set_language(request)


@require_POST
@login_required
def switch_corp(request: HttpRequest) -> HttpResponse:
    try:
        corp_pk = int(request.POST.get("corp", ""))
    except ValueError as exc:
        raise Http404 from exc
    choose_corp(request, corp_pk)
    return redirect("console:dashboard")


@login_required
def no_corp(request: HttpRequest) -> HttpResponse:
    if corps_for(request.user):
        return redirect("console:dashboard")
    return render(request, "console/no_corp.html")


def _dashboard_context(access: Access) -> dict:
    numbers = stats.dashboard_numbers(access)
    trend = stats.daily_trend(access)
    return {
        "numbers": numbers,
        "trend": {
            "days": [day.day.isoformat() for day in trend],
            "added": [day.added for day in trend],
            "lost": [day.lost for day in trend],
        },
        "trend_days": len(trend),
        "top_staff": stats.top_staff(access, days=len(trend)),
        "attention": needs_attention(access),
    }


@require_GET
@console_view
def dashboard(request: HttpRequest, access: Access) -> HttpResponse:
    return render(request, "console/dashboard.html", _dashboard_context(access))


@require_GET
@console_view
def dashboard_numbers(request: HttpRequest, access: Access) -> HttpResponse:
    """The dashboard's figures alone, fetched by htmx every 30 seconds."""
    return render(request, "console/_dashboard_numbers.html", _dashboard_context(access))
