"""API tokens: created and revoked by corp admins in the console, used by integrations."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from qike.api.models import ApiToken, Scope
from qike.audit.services import record
from qike.core import clock
from qike.org.access import Access, Action, access_for

TOKEN_PREFIX = "qk_"
SECRET_BYTES = 32  # 256 bits of randomness: guessing is hopeless, so a fast hash is enough
VISIBLE_CHARS = 8  # of the random part, kept in clear so people can tell their tokens apart
MAX_NAME_LENGTH = ApiToken._meta.get_field("name").max_length
# Writing last_used_at on every call would turn each read into a write; a minute is precise enough.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class TokenUse:
    """A token that was accepted, and the access it acts with on this call."""

    token: ApiToken
    access: Access


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def _clean_scopes(scopes: Iterable[str] | str) -> str:
    """ "read" or "read write": writing without reading makes no sense, so write implies read."""
    if isinstance(scopes, str):
        scopes = scopes.replace(",", " ").split()
    wanted = {str(s).strip() for s in scopes if str(s).strip()}
    unknown = wanted - set(Scope.values)
    if unknown:
        raise ValidationError(
            _("Unknown scope: %(scopes)s. Choose read or write.")
            % {"scopes": ", ".join(sorted(unknown))}
        )
    if not wanted:
        raise ValidationError(_("Choose at least one scope: read or write."))
    if Scope.WRITE in wanted:
        return f"{Scope.READ} {Scope.WRITE}"
    return str(Scope.READ)


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the token a name, e.g. the system that will use it."))
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            _("A token name may have at most %(max)d characters.") % {"max": MAX_NAME_LENGTH}
        )
    return name


def _acting_user(access: Access, user: User | None) -> User:
    """The user whose role and data scope the token carries: the creator unless another member
    of the corp is named (an integration limited to one department acts as that manager)."""
    if user is None:
        creator = User.objects.filter(pk=access.user_id).first()
        if creator is None:
            raise ValidationError(_("A token must act for a console user."))
        return creator
    try:
        access_for(user, access.corp)
    except Http404 as exc:
        raise ValidationError(
            _("%(user)s has no role in this corp.") % {"user": user.get_username()}
        ) from exc
    return user


@transaction.atomic
def create_token(
    *, access: Access, name: str, scopes: Iterable[str] | str, user: User | None = None
) -> tuple[ApiToken, str]:
    """A new token for `access.corp`, and its plaintext: show it once, Qike cannot show it again."""
    access.require(Action.MANAGE_API_TOKENS)
    cleaned_name = _clean_name(name)
    cleaned_scopes = _clean_scopes(scopes)
    acting = _acting_user(access, user)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    token = ApiToken.objects.create(
        corp=access.corp,
        name=cleaned_name,
        scopes=cleaned_scopes,
        prefix=plaintext[: len(TOKEN_PREFIX) + VISIBLE_CHARS],
        token_hash=hash_token(plaintext),
        user=acting,
        created_by_id=access.user_id,
        created_at=clock.now(),
    )
    record(
        corp=access.corp,
        action="api.token_create",
        target=token,
        target_label=f"{token.name} ({token.prefix}…)",
        after={"scopes": cleaned_scopes, "user": acting.get_username()},
    )
    return token, plaintext


@transaction.atomic
def revoke_token(*, access: Access, token: ApiToken) -> ApiToken:
    """Stop a token working at once. Revoking a revoked token changes nothing."""
    access.require(Action.MANAGE_API_TOKENS)
    if token.corp_id != access.corp.pk:
        raise Http404
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        record(
            corp=access.corp,
            action="api.token_revoke",
            target=token,
            target_label=f"{token.name} ({token.prefix}…)",
        )
    return token


def list_tokens(access: Access) -> list[ApiToken]:
    """The corp's tokens, newest first, revoked ones included (they show when they were revoked)."""
    access.require(Action.MANAGE_API_TOKENS)
    return list(
        ApiToken.objects.filter(corp=access.corp)
        .select_related("user", "created_by")
        .order_by("-created_at", "-id")
    )


def use_token(*, plaintext: str) -> TokenUse | None:
    """The token behind an `Authorization: Bearer` value and the access it acts with, or None
    when it is unknown, revoked, or its user no longer has a role in the corp."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 128:
        return None
    token = (
        ApiToken.objects.filter(token_hash=hash_token(plaintext), revoked_at__isnull=True)
        .select_related("corp", "user")
        .first()
    )
    if token is None or token.user is None or not token.corp.is_active:
        return None
    try:
        access = access_for(token.user, token.corp)
    except Http404:
        return None
    _touch(token)
    return TokenUse(token=token, access=access)


def _touch(token: ApiToken) -> None:
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
