"""Changing a corp's connection to WeCom from the console: its ids, its secret, its callback keys."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from qike.audit.services import record, snapshot
from qike.core.models import Corp
from qike.core.services import CallbackSettings, callback_settings, client_for
from qike.org.access import Access, Action
from qike.wecom import crypto
from qike.wecom.errors import WeComError

CORPID_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
CORPID_MAX_LENGTH = Corp._meta.get_field("corpid").max_length
NAME_MAX_LENGTH = Corp._meta.get_field("name").max_length
# WeCom's agent ids are positive 32-bit integers (they appear as AgentId in callbacks).
AGENT_ID_MAX = 2**31 - 1


@dataclass(frozen=True)
class ConnectionResult:
    """What WeCom answered to `gettoken`: ok, or its errcode and errmsg."""

    ok: bool
    errcode: int = 0
    errmsg: str = ""


def _clean_corpid(corp: Corp, corpid: str) -> str:
    corpid = (corpid or "").strip()
    if not corpid:
        raise ValidationError({"corpid": _("CorpID is required.")})
    if len(corpid) > CORPID_MAX_LENGTH or not CORPID_PATTERN.match(corpid):
        raise ValidationError(
            {
                "corpid": _("A CorpID is up to %(max)d letters, digits, - or _.")
                % {"max": CORPID_MAX_LENGTH}
            }
        )
    if Corp.objects.filter(corpid=corpid).exclude(pk=corp.pk).exists():
        raise ValidationError(
            {"corpid": _("A corp with CorpID %(corpid)s already exists.") % {"corpid": corpid}}
        )
    return corpid


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": _("A name may have at most %(max)d characters.") % {"max": NAME_MAX_LENGTH}}
        )
    return name


def _clean_agent_id(agent_id: int | None) -> int | None:
    if agent_id is not None and not 1 <= agent_id <= AGENT_ID_MAX:
        raise ValidationError({"agent_id": _("The agent id is a positive whole number.")})
    return agent_id


def _clean_base_url(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationError(
            {"api_base_url": _("Enter the API base URL, e.g. https://qyapi.weixin.qq.com")}
        ) from exc
    return url


@transaction.atomic
def update_corp_settings(
    *,
    access: Access,
    corpid: str,
    name: str,
    agent_id: int | None,
    api_base_url: str,
    secret: str = "",
) -> Corp:
    """Save the corp's connection settings. A blank `secret` keeps the current one: secrets are
    never shown back, so an empty field means "unchanged", not "remove"."""
    access.require(Action.MANAGE_CORP)
    corp = Corp.objects.select_for_update().get(pk=access.corp.pk)
    before = snapshot(corp, AUDITED_FIELDS)
    corp.corpid = _clean_corpid(corp, corpid)
    corp.name = _clean_name(name) or corp.corpid
    corp.agent_id = _clean_agent_id(agent_id)
    corp.api_base_url = _clean_base_url(api_base_url)
    secret = (secret or "").strip()
    if secret:
        corp.secret = secret
    corp.full_clean()
    corp.save()
    after = snapshot(corp, AUDITED_FIELDS)
    if secret:
        after["secret"] = "(changed)"  # the fact, never the value
    record(corp=corp, action="core.settings_change", target=corp, before=before, after=after)
    return corp


AUDITED_FIELDS = ("corpid", "name", "agent_id", "api_base_url")


@transaction.atomic
def regenerate_callback_credentials(*, access: Access) -> CallbackSettings:
    """A new callback token and EncodingAESKey. Callbacks fail verification until the admin pastes
    the new pair into WeCom's admin console, so the console asks before calling this."""
    access.require(Action.MANAGE_CORP)
    corp = Corp.objects.select_for_update().get(pk=access.corp.pk)
    corp.callback_token = crypto.generate_token()
    corp.encoding_aes_key = crypto.generate_aes_key()
    corp.save(update_fields=["callback_token", "encoding_aes_key", "updated_at"])
    record(corp=corp, action="core.callback_credentials_regenerate", target=corp)
    return callback_settings(corp)


def check_connection(*, access: Access) -> ConnectionResult:
    """Ask WeCom for a fresh access token with the stored CorpID and secret."""
    access.require(Action.MANAGE_CORP)
    corp = Corp.objects.get(pk=access.corp.pk)
    if not corp.secret:
        return ConnectionResult(ok=False, errmsg=_("No app secret is set."))
    try:
        with client_for(corp) as client:
            client.get_token(force=True)
    except WeComError as exc:
        return ConnectionResult(ok=False, errcode=exc.errcode, errmsg=exc.errmsg)
    return ConnectionResult(ok=True)
