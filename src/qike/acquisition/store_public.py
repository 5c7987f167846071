"""The public store-code landing page (no login, mobile first): a customer picks their province,
city and district and sees the stores there with each store's QR code, or arrives with
`?store=<number or id>` and sees that store at once. Only open stores of the corp in the address;
nothing else is readable here."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from qike.acquisition import qr, stores
from qike.core.models import Corp

QR_SIZE_MM = qr.SIZES_MM[0]
QR_MAX_AGE = 300  # seconds a browser may keep a store's QR image


def _corp(corpid: str) -> Corp:
    corp = Corp.objects.filter(corpid=corpid, is_active=True).first()
    if corp is None:
        raise Http404
    return corp


def _text(request: HttpRequest, name: str) -> str:
    return request.GET.get(name, "").strip()[:64]


@require_GET
def landing(request: HttpRequest, corpid: str) -> HttpResponse:
    corp = _corp(corpid)
    wanted = _text(request, "store")
    if wanted:
        store = stores.find_open_store(corp, wanted)
        if store is not None:
            return render(
                request, "acquisition/store_public_store.html", {"corp": corp, "store": store}
            )
    picker = stores.pick(
        corp,
        province=_text(request, "province"),
        city=_text(request, "city"),
        district=_text(request, "district"),
    )
    return render(
        request,
        "acquisition/store_public.html",
        {"corp": corp, "picker": picker, "not_found": bool(wanted)},
        status=404 if wanted else 200,
    )


@require_GET
def qr_image(request: HttpRequest, corpid: str, pk: int) -> HttpResponse:
    """The store's code as a PNG; open stores only.

    Doubt (the same as qr.py's): the image encodes the contact way's `qr_code` URL, which with
    wecomsim is the simulated scan page. Real WeCom's `qr_code` is the URL of a picture of the QR
    whose payload is not published; against real WeCom this page may have to show (or proxy)
    that picture instead, so that long-pressing it in WeChat opens the add-contact page."""
    store = stores.open_stores(_corp(corpid)).filter(pk=pk).first()
    if store is None:
        raise Http404
    response = HttpResponse(qr.png(store.live_code.qr_code, QR_SIZE_MM), content_type="image/png")
    response["Cache-Control"] = f"public, max-age={QR_MAX_AGE}"
    return response
