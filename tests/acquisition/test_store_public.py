"""The public store landing page (/s/<corpid>/): no login, a province → city → district picker
built from the corp's open stores, a store's own page by `?store=`, its QR image, and nothing from
closed stores or other corps."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from qike.acquisition import qr, stores
from qike.acquisition.models import LiveCode, Store
from qike.core.models import Corp
from tests.acquisition.test_stores import spec

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chain(corp, admin, userids, sim_corp) -> dict[str, Store]:
    """Shanghai (two districts, one closed store), Shenzhen and Guangzhou, and a closed Beijing."""
    made = {}
    for name, province, city, district, extra in [
        ("南京西路店", "上海市", "上海市", "静安区", {"short_code": "SH-001", "sort_order": 2}),
        ("静安寺店", "上海市", "上海市", "静安区", {"status": "closed"}),
        ("徐家汇店", "上海市", "上海市", "徐汇区", {"sort_order": 1}),
        ("海岸城店", "广东省", "深圳市", "南山区", {"phone": "0755-86000000"}),
        (
            "天河城店",
            "广东省",
            "广州市",
            "",
            {"latitude": Decimal("23.132"), "longitude": Decimal("113.326")},
        ),
        ("三里屯店", "北京市", "北京市", "朝阳区", {"status": "closed"}),
    ]:
        made[name] = stores.create_store(
            access=admin,
            spec=spec(name, userids[:1], province=province, city=city, district=district, **extra),
        )
    return made


@pytest.fixture
def stranger(chain) -> Store:
    """Another corp's open store (rows only: the page must never read them)."""
    other = Corp.objects.create(corpid="wwstranger", name="别家")
    code = LiveCode.objects.create(
        corp=other, name="别家门店", state="lc-999", config_id="x", qr_code="https://x/1"
    )
    return Store.objects.create(
        corp=other,
        name="别家门店",
        short_code="SZ-9",
        province="广东省",
        city="深圳市",
        address="别处",
        live_code=code,
    )


def page(corp, **params) -> tuple[int, str]:
    response = Client().get(f"/s/{corp.corpid}/", params, HTTP_ACCEPT_LANGUAGE="zh-hans")
    return response.status_code, response.content.decode()


def shown(html: str, chain: dict[str, Store]) -> list[str]:
    return sorted(name for name, store in chain.items() if f'id="store-{store.pk}"' in html)


def test_picker_narrows_province_city_district(corp, chain, stranger):
    status, html = page(corp)
    assert status == 200 and 'id="provinces"' in html
    assert "上海市" in html and "广东省" in html
    assert "北京市" not in html  # its only store is closed
    assert shown(html, chain) == []  # no store before a city is chosen

    _status, html = page(corp, province="广东省")
    assert 'id="cities"' in html and "深圳市" in html and "广州市" in html
    assert shown(html, chain) == []

    _status, html = page(corp, province="广东省", city="深圳市")
    assert shown(html, chain) == ["海岸城店"]
    assert "别家门店" not in html  # another corp's store in the same city
    assert 'href="tel:0755-86000000"' in html
    assert f'src="/s/{corp.corpid}/qr/{chain["海岸城店"].pk}.png"' in html

    _status, html = page(corp, province="广东省", city="广州市")
    assert shown(html, chain) == ["天河城店"] and 'id="districts"' not in html
    assert "uri.amap.com/marker?position=113.326000,23.132000" in html

    # Shanghai has one city: it is chosen at once; its districts narrow the list.
    _status, html = page(corp, province="上海市")
    assert 'id="districts"' in html and "静安区" in html and "徐汇区" in html
    assert shown(html, chain) == ["南京西路店", "徐家汇店"]  # not the closed one
    assert html.index("徐家汇店") < html.index("南京西路店")  # the chain's sort order
    _status, html = page(corp, province="上海市", district="静安区")
    assert shown(html, chain) == ["南京西路店"]

    # Unknown places are simply not chosen.
    status, html = page(corp, province="火星", city="深圳市")
    assert status == 200 and 'id="provinces"' in html and shown(html, chain) == []


def test_store_parameter_opens_a_store_or_explains_and_offers_the_picker(corp, chain, stranger):
    for key in ("SH-001", "sh-001", str(chain["南京西路店"].pk)):
        status, html = page(corp, store=key)
        assert status == 200 and shown(html, chain) == ["南京西路店"], key
        assert 'id="other-stores"' in html
    for key in (str(chain["静安寺店"].pk), "NOPE", "99999999", str(stranger.pk), "SZ-9"):
        status, html = page(corp, store=key)
        assert status == 404, key
        assert 'id="problem"' in html and "未找到该门店" in html
        assert 'id="provinces"' in html and shown(html, chain) == []


def test_qr_image_only_for_open_stores_of_the_corp(corp, admin, chain, stranger):
    client = Client()
    store = chain["南京西路店"]
    response = client.get(f"/s/{corp.corpid}/qr/{store.pk}.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content == qr.png(store.live_code.qr_code, qr.SIZES_MM[0])
    assert client.get(f"/s/{corp.corpid}/qr/{chain['静安寺店'].pk}.png").status_code == 404
    assert client.get(f"/s/{corp.corpid}/qr/{stranger.pk}.png").status_code == 404
    assert client.get(f"/s/{stranger.corp.corpid}/qr/{store.pk}.png").status_code == 404
    assert client.get("/s/wwnobody/").status_code == 404

    # Deleting a store takes it off the page and its image away.
    stores.delete_store(access=admin, store=store)
    assert client.get(f"/s/{corp.corpid}/qr/{store.pk}.png").status_code == 404
    assert page(corp, store="SH-001")[0] == 404


def test_a_corp_without_open_stores_says_so(corp, admin, userids):
    status, html = page(corp)
    assert status == 200 and 'id="no-stores"' in html
