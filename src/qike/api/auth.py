"""`Authorization: Bearer <token>` for the REST API, with read and write scopes."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from qike.api import services
from qike.api.models import Scope
from qike.audit.context import identify
from qike.org.access import Access


class ScopeDenied(PermissionDenied):
    """A valid token without the scope this endpoint needs."""


class TokenAuth(HttpBearer):
    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> services.TokenUse | None:
        used = services.use_token(plaintext=token.strip())
        if used is None:
            return None  # ninja answers 401
        if not used.token.allows(self.scope):
            raise ScopeDenied(
                _("This token may only read; writing needs a token with the write scope.")
            )
        user = used.token.user
        owner = f"{user.get_username()} " if user is not None else ""
        identify(user_id=user.pk if user else None, name=f"{owner}(API token {used.token.prefix})")
        return used


read_auth = TokenAuth(Scope.READ)
write_auth = TokenAuth(Scope.WRITE)


def access_of(request: HttpRequest) -> Access:
    """The access the calling token acts with (set by TokenAuth)."""
    return request.auth.access
