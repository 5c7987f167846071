"""Corp-wide banners on every console page: things someone must act on soon, whichever page they
are on (e.g. the acquisition-link balance running out). Apps register a provider; each provider
answers for one access with at most a few banners and must stay cheap (it runs on every page)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qike.org.access import Access


@dataclass(frozen=True)
class Banner:
    level: str  # "error", "warning" or "info": the alert style
    text: str
    url: str = ""  # where to act on it
    link_text: str = ""
    key: str = ""  # a stable id for the page (and tests)


Provider = Callable[[Access], list[Banner]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def banners_for(access: Access) -> list[Banner]:
    found: list[Banner] = []
    for provider in _providers:
        found.extend(provider(access))
    return found
