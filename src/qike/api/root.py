"""The NinjaAPI instance: every domain app's router under /api/v1/, one error format, the docs."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI, Router, Schema

from qike.acquisition.api import router as acquisition_router
from qike.acquisition.link_api import router as acquisition_links_router
from qike.api import errors
from qike.api.auth import access_of, read_auth
from qike.api.docs import OfflineSwagger
from qike.api.schemas import ErrorOut
from qike.audit.api import router as audit_router
from qike.campaigns.api import router as campaigns_router
from qike.customers.api import router as customers_router
from qike.engagement.api import router as engagement_router
from qike.intake.api import router as events_router
from qike.leads.api import router as leads_router
from qike.lifecycle.api import router as lifecycle_router
from qike.moments.api import router as moments_router
from qike.org.api import router as org_router
from qike.phonetasks.api import router as phonetasks_router
from qike.referrals.api import router as referrals_router
from qike.retention.api import router as retention_router
from qike.segments.api import router as segments_router
from qike.tags.api import router as tags_router
from qike.transfers.api import router as transfers_router

API_VERSION = "1.0"

DESCRIPTION = """
The REST API of Qike, an SCRM for WeCom.

**Authentication**: create a token in the console (Settings → API tokens) and send it as
`Authorization: Bearer <token>`. A token belongs to one corp and acts with the role and data scope
of its user; a `read` token may only read, a `write` token may also change data.

**Errors** always have the body `{"code": "...", "message": "...", "details": {...}}`.
Changes that go to WeCom first answer 502 with `details.errcode`/`details.errmsg` when WeCom refuses.

**Pagination**: big lists take `cursor` and `size` and answer `next_cursor`, `total` and
`total_capped`; small lists take `page` and `size` and answer `total`.
"""


class TokenOut(Schema):
    name: str
    prefix: str
    scopes: list[str]
    corpid: str
    corp_name: str
    role: str


meta_router = Router(tags=["token"], auth=read_auth)


@meta_router.get("/token", response={200: TokenOut, 401: ErrorOut}, summary="The calling token")
def current_token(request: HttpRequest) -> dict:
    """Which corp and role the calling token acts with: a quick way to check a new token."""
    token, access = request.auth.token, access_of(request)
    return {
        "name": token.name,
        "prefix": token.prefix,
        "scopes": token.scope_list,
        "corpid": access.corp.corpid,
        "corp_name": access.corp.name,
        "role": access.role,
    }


def build_api() -> NinjaAPI:
    api = NinjaAPI(
        title="Qike API",
        version=API_VERSION,
        description=DESCRIPTION.strip(),
        urls_namespace="api",
        openapi_url="/openapi.json",
        docs_url="/docs",
        docs=OfflineSwagger(),
    )
    errors.install(api)
    api.add_router("/v1/", meta_router)
    api.add_router("/v1/", customers_router)
    api.add_router("/v1/", tags_router)
    api.add_router("/v1/", org_router)
    api.add_router("/v1/", events_router)
    api.add_router("/v1/", engagement_router)
    api.add_router("/v1/", acquisition_router)
    api.add_router("/v1/", acquisition_links_router)
    api.add_router("/v1/", leads_router)
    api.add_router("/v1/", phonetasks_router)
    api.add_router("/v1/", referrals_router)
    api.add_router("/v1/", lifecycle_router)
    api.add_router("/v1/", transfers_router)
    api.add_router("/v1/", retention_router)
    api.add_router("/v1/", segments_router)
    api.add_router("/v1/", campaigns_router)
    api.add_router("/v1/", moments_router)
    api.add_router("/v1/", audit_router)
    return api


api = build_api()
