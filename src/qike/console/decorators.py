"""The one way into a console page: logged in, in a corp, with that corp's Access decided once."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from qike.console.context import NoCorp, current_access
from qike.org.access import Access

ConsoleView = Callable[..., HttpResponse]


def console_view(view: ConsoleView) -> Callable[..., HttpResponse]:
    """Call `view(request, access, ...)`; a user in no corp is sent to the page that says so.

    The Access is also kept on the request so the layout's context processor reuses it instead of
    asking the database again."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            access = current_access(request)
        except NoCorp:
            return redirect("console:no_corp")
        request.qike_access = access
        return view(request, access, *args, **kwargs)

    return wrapper


def access_of(request: HttpRequest) -> Access | None:
    return getattr(request, "qike_access", None)
