from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, re_path
from django.utils.translation import gettext as _

from qike.api.docs import docs_asset
from qike.api.errors import error_response
from qike.api.root import api


def unknown_endpoint(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Paths under /api/ that match no endpoint answer in the API's error format, not HTML."""
    return error_response(404, "not_found", _("There is no such API endpoint."))


def json_method_not_allowed(view: Callable) -> Callable:
    """ninja answers a wrong method with a plain-text 405; answer it in the API's error format."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405:
            return response
        allowed = [m.strip() for m in response.get("Allow", "").split(",") if m.strip()]
        answer = error_response(
            405,
            "method_not_allowed",
            _("This endpoint does not accept %(method)s.") % {"method": request.method},
            {"allowed": allowed},
        )
        answer["Allow"] = response.get("Allow", "")
        return answer

    return wrapped


def _ninja_patterns() -> list[URLPattern]:
    patterns, _app_name, _namespace = api.urls
    return [
        URLPattern(p.pattern, json_method_not_allowed(p.callback), p.default_args, p.name)
        for p in patterns
    ]


app_name = "api"
urlpatterns = [
    path("docs/assets/<str:name>", docs_asset, name="docs-asset"),
    *_ninja_patterns(),
    re_path(r"^(?P<rest>.*)$", unknown_endpoint),
]
