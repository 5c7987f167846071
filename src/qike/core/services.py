"""Corp lifecycle and the WeCom client for a corp."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from qike.core.models import Corp
from qike.core.tokens import DatabaseTokenStore
from qike.wecom import crypto
from qike.wecom.client import WeComClient


@dataclass(frozen=True)
class CallbackSettings:
    callback_url: str
    token: str
    encoding_aes_key: str


def callback_url(corp: Corp) -> str:
    return f"{settings.QIKE_PUBLIC_URL}/wecom/callback/{corp.corpid}/"


@transaction.atomic
def create_corp(
    *,
    corpid: str,
    secret: str,
    api_base_url: str,
    agent_id: int | None = None,
    name: str = "",
    token: str | None = None,
    encoding_aes_key: str | None = None,
) -> Corp:
    corpid = corpid.strip()
    if not corpid:
        raise ValidationError(_("CorpID is required."))
    if Corp.objects.filter(corpid=corpid).exists():
        raise ValidationError(
            _("A corp with CorpID %(corpid)s already exists.") % {"corpid": corpid}
        )
    if not secret:
        raise ValidationError(_("The app secret is required."))
    if encoding_aes_key:
        try:
            crypto.aes_key_bytes(encoding_aes_key)
        except crypto.CryptoError as exc:
            raise ValidationError(_("The EncodingAESKey must be 43 base64 characters.")) from exc
    if token is not None and not (1 <= len(token) <= 32 and token.isalnum()):
        raise ValidationError(_("The callback token must be 1–32 letters or digits."))
    corp = Corp(
        corpid=corpid,
        name=name or corpid,
        secret=secret,
        api_base_url=api_base_url.rstrip("/"),
        agent_id=agent_id,
        callback_token=token or crypto.generate_token(),
        encoding_aes_key=encoding_aes_key or crypto.generate_aes_key(),
    )
    corp.full_clean()
    corp.save()
    return corp


def callback_settings(corp: Corp) -> CallbackSettings:
    return CallbackSettings(
        callback_url=callback_url(corp),
        token=corp.callback_token,
        encoding_aes_key=corp.encoding_aes_key,
    )


def get_corp(*, corpid: str) -> Corp:
    try:
        return Corp.objects.get(corpid=corpid)
    except Corp.DoesNotExist as exc:
        raise ValidationError(_("No corp with CorpID %(corpid)s.") % {"corpid": corpid}) from exc


def client_for(corp: Corp) -> WeComClient:
    """The WeCom client for a corp, sharing access tokens through the database."""
    return WeComClient(
        corp.corpid,
        corp.secret,
        base_url=corp.api_base_url,
        token_store=DatabaseTokenStore(),
    )
