"""Store codes (门店活码) end to end: a store's contact way in WeCom (wecomsim) with the store's
staff, customers scanning it attributed to the store with its welcome message and tags, the
console and API, importing a store list from Excel, the comparison across stores, and roles."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook, load_workbook

from qike.acquisition import stores
from qike.acquisition.models import LiveCode, LiveCodeAdd, Store, StoreImport
from qike.acquisition.services import LiveCodeSpec
from qike.acquisition.stores import StoreSpec
from qike.core.services import client_for
from qike.customers.models import FollowRelation, TimelineEntry, TimelineKind
from qike.engagement.models import WelcomeMessage, WelcomeSend
from qike.engagement.sources import source_for_state
from qike.org.models import Department, Role, Staff
from qike.tags.models import Tag, TagType
from qike.wecom.errors import WeComError
from tests.acquisition.conftest import scan, way_users
from tests.acquisition.test_views_api import _api

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def spec(name: str, userids, **pool) -> StoreSpec:
    fields = {
        key: pool.pop(key)
        for key in list(pool)
        if key in {f for f in StoreSpec.__dataclass_fields__ if f != "pool"}
    }
    fields.setdefault("province", "上海市")
    fields.setdefault("city", "上海市")
    fields.setdefault("address", f"{name}路 1 号")
    return StoreSpec(
        name=name, pool=LiveCodeSpec(name="", userids=tuple(userids), **pool), **fields
    )


def ways(corp) -> int:
    with client_for(corp) as client:
        return len(client.list_contact_way(limit=1000)[0])


def test_a_scan_of_a_store_code_is_the_stores_add_with_its_welcome_and_tags(
    corp, admin, userids, sim_corp
):
    tag = Tag.objects.filter(corp=corp, type=TagType.CORP).first()
    welcome = WelcomeMessage.objects.create(
        corp=corp, name="门店欢迎语", text="欢迎光临南京西路店，到店出示可享会员价"
    )
    store = stores.create_store(
        access=admin,
        spec=spec(
            "南京西路店",
            userids[:2],
            short_code="SH-001",
            district="静安区",
            tag_ids=(tag.wecom_id,),
            welcome_message_id=welcome.pk,
        ),
    )
    code = store.live_code
    assert way_users(corp, code) == sorted(userids[:2])  # the store's staff, in WeCom
    with client_for(corp) as client:
        way = client.get_contact_way(code.config_id)
    assert (way["remark"], way["state"]) == ("南京西路店", code.state)
    source = source_for_state(corp, code.state)
    assert (source.kind, source.object_id, source.label) == ("store_code", store.pk, "南京西路店")

    answer = scan(sim_corp, code, "王芳")
    relation = FollowRelation.objects.get(
        corp=corp,
        customer__external_userid=answer["external_userid"],
        staff__userid=answer["userid"],
    )
    assert answer["userid"] in userids[:2]
    assert LiveCodeAdd.objects.get(code=code).relation == relation
    entry = TimelineEntry.objects.get(customer=relation.customer, kind=TimelineKind.CHANNEL)
    assert entry.data == {
        "kind": "store_code",
        "label": "南京西路店",
        "code_id": code.pk,
        "store_id": store.pk,
    }
    sent = [
        w for w in sim_corp.get("/welcome_messages") if w["welcome_code"] == answer["welcome_code"]
    ]
    assert [w["text"] for w in sent] == ["欢迎光临南京西路店，到店出示可享会员价"]
    send = WelcomeSend.objects.get(corp=corp, welcome_code=answer["welcome_code"])
    assert (send.message_name, send.source_label) == ("门店欢迎语", "南京西路店")
    customer = next(
        c
        for c in sim_corp.snapshot()["customers"]
        if c["external_userid"] == answer["external_userid"]
    )
    follow = next(f for f in customer["follow_users"] if f["userid"] == answer["userid"])
    assert tag.wecom_id in follow["tag_ids"]


def test_staff_changes_reach_wecom_bad_input_writes_nothing_and_delete_removes_the_way(
    corp, admin, userids, sim_corp
):
    store = stores.create_store(access=admin, spec=spec("徐家汇店", userids[:1], daily_cap=1))
    in_wecom, codes = ways(corp), LiveCode.objects.count()

    problems = [
        (spec("空店", []), "pool is empty"),
        (spec("无人店", ["nobody"]), "no active staff member"),
        (spec("坐标店", userids[:1], latitude=Decimal("31.2")), "both latitude and longitude"),
        (spec("电话店", userids[:1], phone="call us"), "not a phone number"),
        (spec("", userids[:1], province="", address=""), "name"),
        (spec("重号店", userids[:1], short_code="x y"), "store number"),
    ]
    for bad, message in problems:
        with pytest.raises(ValidationError, match=message):
            stores.create_store(access=admin, spec=bad)
    stores.update_store(
        access=admin, store=store, spec=spec("徐家汇店", userids[:1], short_code="SH-9")
    )
    with pytest.raises(ValidationError, match="already has the number"):
        stores.create_store(access=admin, spec=spec("别家店", userids[:1], short_code="sh-9"))
    with pytest.raises(ValidationError, match="already exists"):
        stores.create_store(access=admin, spec=spec("徐家汇店", userids[1:2]))
    assert (ways(corp), LiveCode.objects.count(), Store.objects.count()) == (in_wecom, codes, 1)

    # New staff, a new name: WeCom hears of both; the cap is the live code's.
    store = stores.update_store(
        access=admin, store=store, spec=spec("徐家汇旗舰店", userids[1:3], daily_cap=1)
    )
    assert way_users(corp, store.live_code) == sorted(userids[1:3])
    first = scan(sim_corp, store.live_code)["userid"]
    assert way_users(corp, store.live_code) == [u for u in sorted(userids[1:3]) if u != first]

    config_id = store.live_code.config_id
    stores.delete_store(access=admin, store=store)
    with client_for(corp) as client, pytest.raises(WeComError) as gone:
        client.get_contact_way(config_id)
    assert gone.value.errcode == 41044
    assert ways(corp) == in_wecom - 1
    assert not stores.stores_of(admin).exists()
    assert LiveCodeAdd.objects.filter(code=store.live_code).count() == 1  # figures stay
    # The short number is free again.
    stores.create_store(access=admin, spec=spec("新徐家汇店", userids[:1], short_code="SH-9"))


def _form(userids, **extra) -> dict:
    return {
        "name": "人民广场店",
        "short_code": "SH-100",
        "province": "上海市",
        "city": "上海市",
        "district": "黄浦区",
        "address": "人民大道 100 号",
        "phone": "021-63210000",
        "opening_hours": "10:00-22:00",
        "latitude": "31.231706",
        "longitude": "121.472644",
        "status": "open",
        "sort_order": "1",
        "staff": userids,
        "skip_verify": "on",
        "spread_evenly": "on",
        **extra,
    }


def test_console_pages_and_live_code_pages_leave_store_codes_out(
    client, corp, users, userids, sim_corp
):
    client.force_login(users[Role.OPERATIONS])
    response = client.post("/stores/new/", _form(userids[:2]))
    assert response.status_code == 302, response.content.decode()
    store = Store.objects.get(corp=corp, name="人民广场店")
    assert store.latitude == Decimal("31.231706") and store.district == "黄浦区"
    assert way_users(corp, store.live_code) == sorted(userids[:2])

    bad = client.post("/stores/new/", _form(userids[:1], short_code="sh-100", name="另一家"))
    assert bad.status_code == 400 and Store.objects.count() == 1
    assert "已有门店使用编号 sh-100" in bad.content.decode()  # in Chinese, the default language

    response = client.post(
        f"/stores/{store.pk}/edit/", _form(userids[2:3], address="西藏中路 1 号")
    )
    assert response.status_code == 302
    assert way_users(corp, store.live_code) == [userids[2]]
    scan(sim_corp, store.live_code)
    page = client.get(f"/stores/{store.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "新增 1" in page and "trend-data" in page and "西藏中路 1 号" in page
    assert f"/s/{corp.corpid}/?store=SH-100" in page
    png = client.get(f"/stores/{store.pk}/qr/?format=png&size=120")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    listing = client.get("/stores/?province=上海市").content.decode()
    assert f'id="store-{store.pk}"' in listing
    assert f'id="store-{store.pk}"' not in client.get("/stores/?city=北京市").content.decode()

    # A store's code is managed on the store's page, not among live codes.
    assert f'id="code-{store.live_code_id}"' not in client.get("/live-codes/").content.decode()
    assert client.get(f"/live-codes/{store.live_code_id}/").status_code == 404

    assert client.post(f"/stores/{store.pk}/status/", {"status": "closed"}).status_code == 302
    store.refresh_from_db()
    assert store.status == "closed" and way_users(corp, store.live_code) == [userids[2]]
    assert client.post(f"/stores/{store.pk}/delete/").status_code == 302
    assert client.get(f"/stores/{store.pk}/").status_code == 404


def test_comparison_across_stores_and_regions(client, corp, admin, users, userids, sim_corp):
    a = stores.create_store(access=admin, spec=spec("南京西路店", userids[:1]))
    b = stores.create_store(access=admin, spec=spec("陆家嘴店", userids[1:2]))
    c = stores.create_store(
        access=admin, spec=spec("天河店", userids[2:3], province="广东省", city="广州市")
    )
    for _n in range(2):
        scan(sim_corp, a.live_code)
    lost = scan(sim_corp, b.live_code)
    sim_corp.post(f"/customers/{lost['external_userid']}/delete_member", userid=lost["userid"])
    sim_corp.wait_for_callbacks()

    rows, regions = stores.compare(admin, days=7)
    assert [(r.store.pk, r.adds, r.losses, r.net) for r in rows] == [
        (a.pk, 2, 0, 2),
        (b.pk, 1, 1, 0),
        (c.pk, 0, 0, 0),
    ]
    assert [(r.city, r.stores, r.adds, r.net, r.adds_per_store) for r in regions] == [
        ("上海市", 2, 3, 2, 1.5),
        ("广州市", 1, 0, 0, 0.0),
    ]
    rows, _regions = stores.compare(admin, days=7, province="广东省")
    assert [r.store.pk for r in rows] == [c.pk]

    client.force_login(users[Role.MANAGER])
    page = client.get("/stores/stats/?days=30").content.decode()
    assert 'id="by-store"' in page and "南京西路店" in page


def _workbook(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, data: bytes, name: str = "stores.xlsx", lang: str = "zh-hans", **extra):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post("/stores/import/", {"file": upload, **extra}, HTTP_ACCEPT_LANGUAGE=lang)


def test_excel_import_reports_bad_rows_and_imports_nothing_until_confirmed(
    client, corp, users, userids, sim_corp
):
    client.force_login(users[Role.OPERATIONS])
    named = Staff.objects.get(corp=corp, userid=userids[1])
    department = Department.objects.filter(corp=corp).exclude(name="").order_by("wecom_id").last()
    tag = Tag.objects.filter(corp=corp, type=TagType.CORP).first()
    in_wecom = ways(corp)
    data = _workbook(
        [
            [
                "门店名称*",
                "门店编号",
                "省份*",
                "城市*",
                "区县",
                "详细地址*",
                "门店电话",
                "店员",
                "部门",
            ],
            [
                "南京西路店",
                "SH-001",
                "上海市",
                "上海市",
                "静安区",
                "南京西路 1 号",
                "",
                userids[0],
                "",
            ],
            ["缺城市店", "SH-002", "上海市", "", "", "某路 1 号", "", userids[0], ""],
            ["无人店", "SH-003", "上海市", "上海市", "", "某路 2 号", "", "nobody", ""],
            ["重号店", "sh-001", "上海市", "上海市", "", "某路 3 号", "", userids[0], ""],
            ["电话店", "", "上海市", "上海市", "", "某路 4 号", "打电话", userids[0], ""],
            [
                "陆家嘴店",
                "SH-006",
                "上海市",
                "上海市",
                "浦东新区",
                "世纪大道 8 号",
                2150000000,
                named.name,
                "",
            ],
            [None, None, None, None, None, None, None, None, None],
            [
                "天河店",
                "GZ-001",
                "广东省",
                "广州市",
                "天河区",
                "天河路 1 号",
                "",
                "",
                department.name,
            ],
        ]
    )
    response = _upload(client, data, tags=[tag.wecom_id], daily_cap="30", lang="en")
    assert response.status_code == 302, response.content.decode()
    batch = StoreImport.objects.get(corp=corp)
    assert [p["row"] for p in batch.problems] == [3, 4, 5, 6]
    messages = {p["row"]: p["message"] for p in batch.problems}
    assert "province and city" in messages[3]
    assert "nobody" in messages[4]
    assert "row 2" in messages[5] and "phone" in messages[6]
    assert [r["row"] for r in batch.rows] == [2, 7, 9]  # row 8 is empty
    page = client.get(response["Location"]).content.decode()
    assert 'data-row="3"' in page and 'id="confirm"' in page
    assert (Store.objects.count(), ways(corp)) == (0, in_wecom)  # nothing yet, not even in WeCom

    assert client.post(f"/stores/import/{batch.pk}/confirm/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == "done" and batch.failed == {}
    made = {s.name: s for s in Store.objects.filter(corp=corp)}
    assert sorted(made) == ["南京西路店", "天河店", "陆家嘴店"]
    assert way_users(corp, made["陆家嘴店"].live_code) == [named.userid]  # named by name
    assert made["陆家嘴店"].phone == "2150000000"
    assert made["天河店"].live_code.departments.get().department == department
    assert made["南京西路店"].live_code.daily_cap == 30
    assert list(made["南京西路店"].live_code.tags.all()) == [tag]
    assert ways(corp) == in_wecom + 3
    # Confirming twice creates nothing twice.
    client.post(f"/stores/import/{batch.pk}/confirm/")
    assert Store.objects.count() == 3


def test_unreadable_files_are_refused_and_the_template_reads_back(client, corp, users, userids):
    client.force_login(users[Role.OPERATIONS])
    bad = _upload(client, b"name,city\nA,B\n", name="stores.csv")
    assert bad.status_code == 400 and "xlsx" in bad.content.decode()
    missing = _upload(client, _workbook([["门店名称", "城市"], ["A", "上海市"]]))
    assert missing.status_code == 400
    assert "省份" in missing.content.decode() and "详细地址" in missing.content.decode()
    assert not StoreImport.objects.exists()

    template = client.get("/stores/import/template/", HTTP_ACCEPT_LANGUAGE="en")
    assert template.status_code == 200
    header = next(load_workbook(io.BytesIO(template.content)).active.iter_rows(values_only=True))
    assert header[:3] == ("Store name*", "Store number", "Province*")
    response = _upload(client, template.content)
    assert response.status_code == 302
    batch = StoreImport.objects.get()
    assert batch.rows == [] and [p["row"] for p in batch.problems] == [2]  # example staff unknown
    assert "zhangsan" in batch.problems[0]["message"]
    assert client.post(f"/stores/import/{batch.pk}/cancel/").status_code == 302
    assert not StoreImport.objects.exists()


def test_roles(client, corp, users, userids, admin):
    store = stores.create_store(access=admin, spec=spec("只读店", userids[:1]))
    client.force_login(users[Role.MANAGER])
    assert client.get("/stores/").status_code == 200
    assert client.get(f"/stores/{store.pk}/").status_code == 200
    assert client.get("/stores/stats/").status_code == 200
    assert client.get("/stores/new/").status_code == 403
    assert client.post("/stores/new/", _form(userids[:1])).status_code == 403
    assert client.get("/stores/import/").status_code == 403
    assert client.post(f"/stores/{store.pk}/status/", {"status": "closed"}).status_code == 403
    assert client.post(f"/stores/{store.pk}/delete/").status_code == 403
    client.force_login(users[Role.STAFF])
    for path in ("/stores/", f"/stores/{store.pk}/", "/stores/stats/", "/stores/new/"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/stores/{store.pk}/delete/").status_code == 403
    assert Store.objects.get(pk=store.pk).deleted_at is None


def test_api(corp, users, userids, sim_corp):
    api = _api(users, users[Role.OPERATIONS], corp, ["read", "write"])
    body = {
        "name": "API 店",
        "short_code": "API-1",
        "province": "北京市",
        "city": "北京市",
        "district": "朝阳区",
        "address": "建国路 1 号",
        "latitude": 39.908,
        "longitude": 116.46,
        "staff": userids[:2],
        "daily_cap": 5,
    }
    created = api.post("/stores", body)
    assert created.status_code == 201, created.content
    store = created.json()
    assert store["state"] == f"lc-{store['live_code_id']}"
    assert store["staff_now"] == sorted(userids[:2]) and store["staff"] == userids[:2]
    assert store["public_url"].endswith(f"/s/{corp.corpid}/?store=API-1")
    assert store["latitude"] == 39.908
    assert api.get(f"/stores/{store['id']}").json()["name"] == "API 店"
    listed = api.get("/stores", province="北京市").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == store["id"]
    assert api.get("/stores", province="上海市").json()["total"] == 0
    bad = api.post("/stores", {**body, "short_code": "api-1", "name": "重复"})
    assert bad.status_code == 400 and "api-1" in bad.json()["message"].lower()
    changed = api.client.put(
        f"/api/v1/stores/{store['id']}",
        {**body, "staff": userids[2:3], "status": "closed"},
        content_type="application/json",
        **api._headers(),
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["staff_now"] == [userids[2]] and changed.json()["status"] == "closed"
    stats = api.get(f"/stores/{store['id']}/stats").json()
    assert stats["adds"] == 0 and len(stats["days"]) == 30
    assert api.get(f"/live-codes/{store['live_code_id']}").status_code == 404
    assert api.delete(f"/stores/{store['id']}").status_code == 204
    assert api.get(f"/stores/{store['id']}").status_code == 404

    manager = _api(users, users[Role.MANAGER], corp, ["read", "write"])
    assert manager.get("/stores").status_code == 200
    assert manager.post("/stores", body).status_code == 403
    staff = _api(users, users[Role.STAFF], corp, ["read"])
    assert staff.get("/stores").status_code == 403
