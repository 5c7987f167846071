"""Who is acting, from where: set once per request (or job, or command) so services can record
actions without every caller passing the request down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    name: str = ""
    ip: str | None = None
    via: str = ""  # "console", "api", "job", "command"


_current: ContextVar[Actor | None] = ContextVar("qike_audit_actor", default=None)


def current_actor() -> Actor | None:
    return _current.get()


def identify(*, user_id: int | None, name: str) -> None:
    """Name the user once it is known later in the request (API tokens are checked after the
    middleware ran); the IP and channel stay as the middleware found them."""
    actor = _current.get() or Actor()
    _current.set(replace(actor, user_id=user_id, name=name))


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    """Attribute what happens inside to `actor` (jobs and commands use this; requests get it from
    the middleware)."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. Behind a reverse proxy, set QIKE_TRUSTED_PROXY_COUNT so the address
    the proxy appended to X-Forwarded-For is used; without it the header is ignored (it can be
    forged)."""
    from django.conf import settings

    trusted = getattr(settings, "QIKE_TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if trusted and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= trusted:
            return hops[-trusted]
    return request.META.get("REMOTE_ADDR") or None


class AuditActorMiddleware:
    """Sets the actor for the request: the logged-in user (the API's token user is set by the API
    auth, which runs later) and the client IP."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        authenticated = bool(user is not None and user.is_authenticated)
        via = "api" if request.path.startswith("/api/") else "console"
        actor = Actor(
            user_id=user.pk if authenticated else None,
            name=user.get_username() if authenticated else "",
            ip=client_ip(request),
            via=via,
        )
        with acting(actor):
            return self.get_response(request)
