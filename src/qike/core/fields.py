"""Model fields that keep secrets and personal data encrypted at rest (Fernet, key rotation)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode("ascii")) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.QIKE_ENCRYPTION_KEYS))


def encrypt_text(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_text(value: str) -> str:
    try:
        return fernet().decrypt(value.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError(
            "cannot decrypt a stored secret: QIKE_ENCRYPTION_KEY does not match the one used to "
            "write it"
        ) from exc


class EncryptedTextField(models.TextField):
    """Stores str encrypted; empty strings stay empty so 'not set' is visible without decrypting."""

    def from_db_value(self, value: str | None, expression, connection) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(value)


class EncryptedJSONListField(models.TextField):
    """A list of strings (e.g. a customer's phone numbers), encrypted as one JSON document."""

    def from_db_value(self, value: str | None, expression, connection) -> list[str]:
        if not value:
            return []
        return json.loads(decrypt_text(value))

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list):
            return value
        if not value:
            return []
        return json.loads(value)

    def get_prep_value(self, value: Any) -> str:
        if not value:
            return ""
        return encrypt_text(json.dumps(list(value), ensure_ascii=False))
