"""The public side of tracked links: /l/<token>/ records the open and redirects (302)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from qike.engagement import library


@require_GET
@never_cache
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    target = library.record_open(token=token[:64], user_agent=request.headers.get("User-Agent", ""))
    if target is None:
        return render(request, "engagement/link_unknown.html", status=404)
    # Never cached: every open must come back here to be counted.
    return HttpResponseRedirect(target)
