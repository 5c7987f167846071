"""The API docs page (Swagger UI), served from the copy django-ninja installs with itself, so the
page works on machines that cannot reach a CDN and without "ninja" in INSTALLED_APPS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ninja
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from ninja.openapi.docs import DocsBase

ASSET_DIR = Path(ninja.__file__).resolve().parent / "static" / "ninja"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
ASSET_MAX_AGE = 24 * 3600  # the files change only when django-ninja is upgraded


class OfflineSwagger(DocsBase):
    def render_page(self, request: HttpRequest, api: Any, **kwargs: Any) -> HttpResponse:
        settings = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
            "persistAuthorization": True,
        }
        return render(
            request,
            "api/docs.html",
            # "</" would end the <script> element the settings sit in.
            {"api": api, "swagger_settings": json.dumps(settings).replace("</", "<\\/")},
        )


@require_GET
def docs_asset(request: HttpRequest, name: str) -> FileResponse:
    if name not in ASSETS:
        raise Http404
    response = FileResponse((ASSET_DIR / name).open("rb"), content_type=ASSETS[name])
    response["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}"
    return response
