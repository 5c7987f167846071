"""One error body for every failure: {"code": "...", "message": "...", "details": {...}}.

`code` is stable and meant for programs; `message` is for people, in the request's language.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from qike.api.auth import ScopeDenied
from qike.core.pagination import BadCursor
from qike.wecom.errors import WeComError

log = logging.getLogger("qike.api")


class ApiError(Exception):
    """An error an endpoint raises on purpose, with its status and code."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"code": code, "message": str(message), "details": details or {}}


def error_response(
    status: int, code: str, message: str, details: dict | None = None
) -> HttpResponse:
    return JsonResponse(
        error_body(code, message, details), status=status, json_dumps_params={"ensure_ascii": False}
    )


def _validation_issue(error: dict) -> dict:
    # Pydantic's ctx can hold exception objects: keep only what serialises and helps.
    return {
        "loc": [str(part) for part in error.get("loc", ())],
        "message": str(error.get("msg", "")),
        "type": str(error.get("type", "")),
    }


def _field_name(issue: dict) -> str:
    loc = issue["loc"]
    # ("query", "size") → "size"; ("body", "payload", "name") → "name".
    return ".".join(p for p in loc[1:] if p not in ("payload", "filters", "body")) or ".".join(loc)


def on_ninja_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    issues = [_validation_issue(e) for e in exc.errors]
    summary = "; ".join(f"{_field_name(i)}: {i['message']}" for i in issues)
    return error_response(
        422,
        "validation_error",
        _("The request is not valid: %(problems)s") % {"problems": summary},
        {"errors": issues},
    )


def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        fields = exc.message_dict
        message = " ".join(m for messages in fields.values() for m in messages)
        return error_response(400, "invalid", message, {"fields": fields})
    return error_response(400, "invalid", " ".join(exc.messages), {"messages": exc.messages})


def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(404, "not_found", _("Not found."))


def on_scope_denied(request: HttpRequest, exc: ScopeDenied) -> HttpResponse:
    return error_response(403, "insufficient_scope", str(exc), {"required_scope": "write"})


def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, "forbidden", str(exc) or _("You may not do this."))


def on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(
        401,
        "unauthorized",
        _("Send a valid API token: Authorization: Bearer <token>. It may be unknown or revoked."),
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found"}


def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = _("The request body is not valid JSON.") if exc.status_code == 400 else str(exc)
    return error_response(exc.status_code, code, message)


def on_bad_cursor(request: HttpRequest, exc: BadCursor) -> HttpResponse:
    return error_response(400, "bad_cursor", str(exc), {"parameter": "cursor"})


def on_out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A number the database cannot hold (SQLite raises OverflowError, PostgreSQL DataError).
    return error_response(400, "bad_request", _("A value in the request is out of range."))


def on_conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    return error_response(
        409, "conflict", _("This conflicts with existing data; reload and try again.")
    )


def on_wecom(request: HttpRequest, exc: WeComError) -> HttpResponse:
    return error_response(
        502,
        "wecom_error",
        _("WeCom refused the change: %(errmsg)s (errcode %(errcode)s)")
        % {"errmsg": exc.errmsg, "errcode": exc.errcode},
        {"errcode": exc.errcode, "errmsg": exc.errmsg},
    )


def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, exc.details)


def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("api.error path=%s", request.path)
    return error_response(500, "internal_error", _("Something went wrong on our side."))


def install(api: NinjaAPI) -> None:
    """Register the handlers; ninja picks the most specific one along the exception's MRO."""
    handlers = [
        (Exception, on_unexpected),
        (ApiError, on_api_error),
        (NinjaValidationError, on_ninja_validation),
        (DjangoValidationError, on_django_validation),
        (Http404, on_not_found),
        (PermissionDenied, on_permission_denied),
        (ScopeDenied, on_scope_denied),
        (HttpError, on_http_error),
        (AuthenticationError, on_authentication),
        (BadCursor, on_bad_cursor),
        (OverflowError, on_out_of_range),
        (DataError, on_out_of_range),
        (IntegrityError, on_conflict),
        (WeComError, on_wecom),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)
