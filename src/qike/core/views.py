"""Console pages of the core app: the corp's settings (its connection to WeCom) and API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from qike.api import services as api_services
from qike.api.models import ApiToken
from qike.console.decorators import console_view
from qike.core import settings_services
from qike.core.forms import CorpSettingsForm, TokenCreateForm
from qike.core.models import Corp
from qike.core.services import callback_settings
from qike.org.access import Access, Action

# --- corp settings ----------------------------------------------------------------------------


def _settings_page(
    request: HttpRequest, access: Access, form: CorpSettingsForm, status: int = 200
) -> HttpResponse:
    corp = Corp.objects.get(pk=access.corp.pk)
    callback = callback_settings(corp)
    return render(
        request,
        "core/settings.html",
        {
            "form": form,
            "corp": corp,
            "has_secret": bool(corp.secret),
            "callback_rows": [
                (_("URL"), callback.callback_url, "url"),
                (pgettext("WeCom callback", "Token"), callback.token, "token"),
                (_("EncodingAESKey"), callback.encoding_aes_key, "aes-key"),
            ],
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@console_view
def corp_settings(request: HttpRequest, access: Access) -> HttpResponse:
    access.require(Action.MANAGE_CORP)
    if request.method == "GET":
        return _settings_page(request, access, CorpSettingsForm.for_corp(access.corp))
    form = CorpSettingsForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            settings_services.update_corp_settings(
                access=access,
                corpid=data["corpid"],
                name=data["name"],
                agent_id=data["agent_id"],
                api_base_url=data["api_base_url"],
                secret=data["secret"],
            )
        except ValidationError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Corp settings saved."))
            return redirect("console:settings")
    return _settings_page(request, access, form, status=400)


@require_POST
@console_view
def setting_test(request: HttpRequest, access: Access) -> HttpResponse:
    """The "test connection" button: ask WeCom for a fresh token and say what it answered."""
    result = settings_services.check_connection(access=access)
    if request.htmx:
        return render(request, "core/_connection_result.html", {"result": result})
    if result.ok:
        messages.success(request, _("Connected: WeCom accepted the CorpID and secret."))
    else:
        messages.error(
            request,
            _("WeCom refused: %(errmsg)s (errcode %(errcode)s)")
            % {"errmsg": result.errmsg, "errcode": result.errcode},
        )
    return redirect("console:settings")


@require_http_methods(["GET", "POST"])
@console_view
def setting_regenerate(request: HttpRequest, access: Access) -> HttpResponse:
    """New callback credentials, after the admin confirms on a page that says what it breaks."""
    access.require(Action.MANAGE_CORP)
    if request.method == "GET":
        return render(request, "core/regenerate_confirm.html", {"corp": access.corp})
    settings_services.regenerate_callback_credentials(access=access)
    messages.warning(
        request,
        _(
            "New callback token and EncodingAESKey generated. Paste them into WeCom's admin "
            "console now: until then WeCom's callbacks are refused."
        ),
    )
    return redirect("console:settings")


# --- API tokens -------------------------------------------------------------------------------


def _tokens_page(
    request: HttpRequest,
    access: Access,
    form: TokenCreateForm,
    *,
    created: ApiToken | None = None,
    plaintext: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "api/tokens.html",
        {
            "tokens": api_services.list_tokens(access),
            "form": form,
            "created": created,
            "plaintext": plaintext,
            "docs_url": _api_docs_url(),
        },
        status=status,
    )


def _api_docs_url() -> str:
    try:
        return reverse("api:openapi-view")
    except NoReverseMatch:  # the API's docs page is switched off
        return ""


@require_http_methods(["GET", "POST"])
@console_view
def api_tokens(request: HttpRequest, access: Access) -> HttpResponse:
    access.require(Action.MANAGE_API_TOKENS)
    if request.method == "GET":
        return _tokens_page(request, access, TokenCreateForm(access=access))
    form = TokenCreateForm(request.POST, access=access)
    if form.is_valid():
        data = form.cleaned_data
        try:
            token, plaintext = api_services.create_token(
                access=access, name=data["name"], scopes=data["scopes"], user=data["user"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # Rendered, not redirected: the plaintext exists only in this response.
            response = _tokens_page(
                request,
                access,
                TokenCreateForm(access=access),
                created=token,
                plaintext=plaintext,
                status=201,
            )
            response["Cache-Control"] = "no-store"
            return response
    return _tokens_page(request, access, form, status=400)


@require_POST
@console_view
def api_token_revoke(request: HttpRequest, access: Access, pk: int) -> HttpResponse:
    access.require(Action.MANAGE_API_TOKENS)
    token = ApiToken.objects.filter(corp=access.corp, pk=pk).first()
    if token is None:
        raise Http404
    api_services.revoke_token(access=access, token=token)
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("console:api_tokens")
