"""REST API: acquisition links (获客助手), their sub-channels, customers, figures and quota."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from qike.acquisition import links, services
from qike.acquisition.links import ChannelSpec, LinkSpec, channel_code
from qike.acquisition.models import AcquisitionLink, LinkAdd, LinkDailyStat
from qike.api.auth import access_of, read_auth, write_auth
from qike.api.schemas import errors
from qike.org.access import Access

router = Router(tags=["acquisition links"], auth=read_auth)
WRITE_ERRORS = errors(400, 403, 404, 502)


class ChannelIn(Schema):
    code: str = Field(
        ..., description="Letters, digits, underscores; the URL carries ca-<id>-<code>."
    )
    name: str


class LinkIn(Schema):
    name: str = Field(..., max_length=64)
    staff: list[str] = Field(default_factory=list, description="WeCom UserIDs (≤ 100).")
    departments: list[int] = Field(
        default_factory=list, description="WeCom department ids (≤ 100 people in total)."
    )
    skip_verify: bool = True
    tags: list[str] = Field(default_factory=list, description="Corp tag ids applied on add.")
    welcome_message_id: int | None = None
    channels: list[ChannelIn] = Field(default_factory=list)


class ChannelOut(Schema):
    id: int
    code: str
    name: str
    state: str = Field(..., description="The customer_channel value.")
    url: str
    customers: int
    cost_fen: int


class LinkOut(Schema):
    id: int
    name: str
    link_id: str
    url: str = Field(..., description="The link with Qike's own customer_channel.")
    state: str
    skip_verify: bool
    staff: list[str]
    departments: list[int]
    tags: list[str]
    welcome_message_id: int | None
    channels: list[ChannelOut]
    customers: int
    cost_fen: int
    unavailable: bool
    created_at: dt.datetime


class LinkCustomerOut(Schema):
    external_userid: str
    userid: str
    channel: str | None
    added_at: dt.datetime
    cost_fen: int


class LinkDayOut(Schema):
    day: dt.date
    clicks: int
    new_customers: int


class QuotaOut(Schema):
    balance: int | None
    total_used: int | None
    free_adds: int
    price_fen: int
    adds_counted: int
    customers: int
    cost_fen: int


def _adds(access: Access) -> QuerySet[LinkAdd]:
    return LinkAdd.objects.filter(access.staff_filter("staff__"), corp=access.corp)


def _spec(payload: LinkIn) -> LinkSpec:
    return LinkSpec(
        name=payload.name,
        userids=tuple(payload.staff),
        department_ids=tuple(payload.departments),
        skip_verify=payload.skip_verify,
        tag_ids=tuple(payload.tags),
        welcome_message_id=payload.welcome_message_id,
        channels=tuple(ChannelSpec(name=c.name, code=c.code) for c in payload.channels),
    )


def _find(access: Access, pk: int) -> AcquisitionLink:
    services.require_view(access)
    link = AcquisitionLink.objects.filter(corp=access.corp, pk=pk, deleted_at__isnull=True).first()
    if link is None:
        raise Http404
    return link


def _data(access: Access, link: AcquisitionLink) -> dict:
    adds = _adds(access).filter(link=link)
    total = links.costs(adds)
    channels = []
    for channel in link.channels.all():
        figures = links.costs(adds.filter(channel=channel))
        channels.append(
            {
                "id": channel.pk,
                "code": channel_code(channel),
                "name": channel.name,
                "state": channel.state,
                "url": channel.url,
                "customers": figures.adds,
                "cost_fen": figures.cost_fen,
            }
        )
    return {
        "id": link.pk,
        "name": link.name,
        "link_id": link.link_id,
        "url": link.url_for(link.state),
        "state": link.state,
        "skip_verify": link.skip_verify,
        "staff": list(link.userids),
        "departments": list(link.department_ids),
        "tags": list(link.tags.values_list("wecom_id", flat=True)),
        "welcome_message_id": link.welcome_message_id,
        "channels": channels,
        "customers": total.adds,
        "cost_fen": total.cost_fen,
        "unavailable": link.unavailable_at is not None,
        "created_at": link.created_at,
    }


@router.get(
    "/acquisition-links",
    response={200: list[LinkOut], **errors(403)},
    summary="List acquisition links",
)
def list_links(request: HttpRequest) -> list[dict]:
    access = access_of(request)
    services.require_view(access)
    rows = AcquisitionLink.objects.filter(corp=access.corp, deleted_at__isnull=True)
    return [_data(access, link) for link in rows]


@router.get(
    "/acquisition-links/quota",
    response={200: QuotaOut, **errors(403, 502)},
    summary="Acquisition-link balance and cost",
)
def get_quota(request: HttpRequest) -> dict:
    """The live balance read from WeCom, the corp's pricing and the cost so far."""
    access = access_of(request)
    services.require_view(access)
    settings = links.refresh_balance(corp=access.corp)
    total = links.costs(_adds(access))
    return {
        "balance": settings.balance,
        "total_used": settings.total_used,
        "free_adds": settings.free_adds,
        "price_fen": settings.price_fen,
        "adds_counted": settings.adds_counted,
        "customers": total.adds,
        "cost_fen": total.cost_fen,
    }


@router.get(
    "/acquisition-links/{link_id}",
    response={200: LinkOut, **errors(403, 404)},
    summary="Get an acquisition link",
)
def get_link(request: HttpRequest, link_id: int) -> dict:
    access = access_of(request)
    return _data(access, _find(access, link_id))


@router.get(
    "/acquisition-links/{link_id}/customers",
    response={200: list[LinkCustomerOut], **errors(403, 404)},
    summary="Customers acquired by a link, with their cost",
)
def link_customers(request: HttpRequest, link_id: int) -> list[dict]:
    access = access_of(request)
    link = _find(access, link_id)
    adds = (
        _adds(access)
        .filter(link=link)
        .select_related("relation__customer", "staff", "channel")
        .order_by("-added_at")
    )
    return [
        {
            "external_userid": add.relation.customer.external_userid,
            "userid": add.staff.userid,
            "channel": add.channel.name if add.channel else None,
            "added_at": add.added_at,
            "cost_fen": add.cost_fen,
        }
        for add in adds
    ]


@router.get(
    "/acquisition-links/{link_id}/days",
    response={200: list[LinkDayOut], **errors(403, 404)},
    summary="WeCom's clicks and new customers per day",
)
def link_days(request: HttpRequest, link_id: int) -> list[dict]:
    """As last fetched from WeCom (hourly, or by the console's "Update figures")."""
    link = _find(access_of(request), link_id)
    rows = LinkDailyStat.objects.filter(link=link).order_by("day")
    return [{"day": r.day, "clicks": r.clicks, "new_customers": r.new_customers} for r in rows]


@router.post(
    "/acquisition-links",
    auth=write_auth,
    response={201: LinkOut, **WRITE_ERRORS},
    summary="Create an acquisition link",
)
def create_link(request: HttpRequest, payload: LinkIn) -> Status:
    """Creates the link in WeCom, then in Qike."""
    access = access_of(request)
    link = links.create_link(access=access, spec=_spec(payload))
    return Status(201, _data(access, link))


@router.put(
    "/acquisition-links/{link_id}",
    auth=write_auth,
    response={200: LinkOut, **WRITE_ERRORS},
    summary="Replace an acquisition link's settings",
)
def update_link(request: HttpRequest, link_id: int, payload: LinkIn) -> dict:
    access = access_of(request)
    link = links.update_link(access=access, link=_find(access, link_id), spec=_spec(payload))
    return _data(access, link)


@router.delete(
    "/acquisition-links/{link_id}",
    auth=write_auth,
    response={204: None, **WRITE_ERRORS},
    summary="Delete an acquisition link",
)
def delete_link(request: HttpRequest, link_id: int) -> Status:
    """Deletes the link in WeCom; its customers and costs stay in Qike."""
    access = access_of(request)
    links.delete_link(access=access, link=_find(access, link_id))
    return Status(204, None)
