"""WeCom access tokens in the database, so every web and worker process shares one per secret.

WeCom returns the same token while it is valid; processes that each fetched and cached their own
would still agree, but a shared store saves calls and survives restarts.
"""

from __future__ import annotations

import datetime as dt

from qike.core import clock
from qike.core.models import AccessToken


class DatabaseTokenStore:
    def get(self, key: str) -> str | None:
        row = AccessToken.objects.filter(key=key, expires_at__gt=clock.now()).first()
        return row.token if row else None

    def set(self, key: str, token: str, expires_in: int) -> None:
        AccessToken.objects.update_or_create(
            key=key,
            defaults={"token": token, "expires_at": clock.now() + dt.timedelta(seconds=expires_in)},
        )

    def invalidate(self, key: str, token: str) -> None:
        row = AccessToken.objects.filter(key=key).first()
        if row and row.token == token:
            row.delete()
