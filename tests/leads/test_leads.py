"""Lead capture end to end through wecomsim: the public form, the assigned staff member's contact
way, the customer's add binding the lead (remark, remark mobiles, tags, timeline), follow-up lists,
spam and bad input, WeCom refusing, roles and the API."""

from __future__ import annotations

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from qike.api import services as api_services
from qike.core import clock
from qike.core.services import client_for
from qike.customers.models import FollowRelation, TimelineEntry, TimelineKind
from qike.engagement.sources import source_for_state
from qike.leads import services
from qike.leads.models import Lead
from qike.leads.services import FormSpec
from qike.org.access import access_for
from qike.org.models import Role
from qike.tags.models import Tag
from qike.wecom.errors import WeComError
from tests.api.conftest import Api
from tests.leads.conftest import form_url, submit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _way(corp, lead) -> dict:
    with client_for(corp) as client:
        return client.get_contact_way(lead.config_id)


def test_submit_assigns_round_robin_and_shows_the_staff_qr(client, corp, lead_form, userids):
    page = client.get(form_url(lead_form), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and "手机号" in page.content.decode()
    staff = []
    for number in range(3):
        response = submit(client, lead_form, phone=f"1391234567{number}")
        assert response.status_code == 302, response.content.decode()
        thanks = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans")
        html = thanks.content.decode()
        assert "感谢您的关注" in html and 'src="data:image/svg+xml' in html
        lead = Lead.objects.order_by("-pk").first()
        assert lead.state == f"ld-{lead.pk}"
        way = _way(corp, lead)
        assert way["state"] == lead.state and way["user"] == [lead.staff.userid]
        assert way["type"] == 1 and way["skip_verify"] is True
        staff.append(lead.staff.userid)
    assert staff == [userids[0], userids[1], userids[0]]
    # Encrypted at rest: the column holds no readable number.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM leads_lead WHERE id = %s", [lead.pk])
        assert "13912345672" not in cursor.fetchone()[0]


def test_region_decides_the_staff_member(client, corp, admin, userids):
    form = services.save_form(
        access=admin,
        spec=FormSpec(
            name="区域留资",
            slug="regions",
            fields=(("name", True), ("phone", True), ("region", True)),
            userids=(userids[0],),
            rule="by_field",
            assign_field="region",
            assign_map={"华东": userids[2], "华南": userids[3]},
        ),
    )
    page = client.get(form_url(form)).content.decode()
    assert '<option value="华南"' in page
    assert submit(client, form, region="华南").status_code == 302
    assert Lead.objects.get(form=form).staff.userid == userids[3]
    assert submit(client, form, region="西北", phone="13700000000").status_code == 302
    assert Lead.objects.filter(form=form).order_by("-pk").first().staff.userid == userids[0]


def test_the_add_binds_the_lead_remarks_tags_and_cleans_up(client, corp, lead_form, sim_corp):
    assert submit(client, lead_form).status_code == 302
    lead = Lead.objects.get()
    source = source_for_state(corp, lead.state)
    assert (source.kind, source.label) == ("lead", "官网留资")

    scan = sim_corp.post("/customers/scan", config_id=lead.config_id, customer={"name": "微信张"})
    sim_corp.wait_for_callbacks()
    if scan["status"] == "half":
        lead.refresh_from_db()
        assert lead.bound_at is not None and lead.converted_at is None
        sim_corp.post(f"/members/{scan['userid']}/accept", external_userid=scan["external_userid"])
        sim_corp.wait_for_callbacks()
    lead.refresh_from_db()
    assert lead.converted_at is not None and lead.way_deleted_at is not None
    assert lead.customer.external_userid == scan["external_userid"]
    relation = FollowRelation.objects.get(pk=lead.relation_id)
    assert relation.remark == "张三-星河科技" and relation.remark_mobiles == ["13812345678"]
    tag = lead_form.tags.get()
    assert relation.tag_assignments.filter(tag=tag).exists()
    entries = TimelineEntry.objects.filter(customer=lead.customer, kind=TimelineKind.CHANNEL)
    assert [e.data["label"] for e in entries] == ["官网留资"]

    customer = next(
        c
        for c in sim_corp.snapshot()["customers"]
        if c["external_userid"] == scan["external_userid"]
    )
    follow = next(f for f in customer["follow_users"] if f["userid"] == scan["userid"])
    assert follow["remark"] == "张三-星河科技"
    assert follow["remark_mobiles"] == ["13812345678"]
    assert tag.wecom_id in follow["tag_ids"]
    with pytest.raises(WeComError):  # the way is gone from WeCom
        _way(corp, lead)

    # The same event again changes nothing.
    services.bind_add(
        corp=corp,
        state=lead.state,
        external_userid=scan["external_userid"],
        userid=scan["userid"],
        at=None,
    )
    assert services.convert(corp=corp, state=lead.state) is None
    assert (
        TimelineEntry.objects.filter(customer=lead.customer, kind=TimelineKind.CHANNEL).count() == 1
    )


def test_unconverted_leads_are_listed_with_their_age_and_expire(
    client, corp, lead_form, users, sim
):
    assert submit(client, lead_form).status_code == 302
    lead = Lead.objects.get()
    clock.advance(3 * 86400)
    client.force_login(users[Role.OPERATIONS])
    page = client.get("/leads/?status=unconverted", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    row = page.split(f'id="lead-{lead.pk}"')[1].split("</tr>")[0]
    assert "3\xa0日前" in row, row
    assert "138****5678" in page and "13812345678" not in page
    assert f'id="lead-{lead.pk}"' not in client.get("/leads/?status=converted").content.decode()

    assert services.expire_ways() == 0  # 30 days by default
    clock.advance(28 * 86400)
    assert services.expire_ways() == 1
    lead.refresh_from_db()
    assert lead.way_deleted_at is not None and lead.converted_at is None


def test_bad_input_and_rate_limit_save_nothing(client, corp, lead_form):
    bad = submit(client, lead_form, phone="12345")
    assert bad.status_code == 400 and "11 位" in bad.content.decode()
    missing = submit(client, lead_form, name="")
    assert missing.status_code == 400 and "请填写" in missing.content.decode()
    too_long = submit(client, lead_form, company="长" * 65)
    assert too_long.status_code == 400 and "64" in too_long.content.decode()
    assert Lead.objects.count() == 0
    assert submit(client, lead_form).status_code == 302
    assert submit(client, lead_form).status_code == 302
    limited = submit(client, lead_form)
    assert limited.status_code == 429 and "十分钟" in limited.content.decode()
    assert Lead.objects.count() == 2

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(form_url(lead_form), {"name": "x"}).status_code == 403


def test_wecom_refusing_keeps_nothing(client, corp, lead_form, sim):
    fault = {"path": "externalcontact/add_contact_way", "errcode": 41045, "times": 1}
    assert httpx.post(f"{sim.url}/sim/faults", json=fault, timeout=10).status_code < 400
    response = submit(client, lead_form)
    assert response.status_code == 503 and "未保存" in response.content.decode()
    assert Lead.objects.count() == 0
    lead_form.refresh_from_db()
    assert lead_form.next_turn == 0
    assert submit(client, lead_form).status_code == 302


def test_roles(client, corp, lead_form, users, userids, admin):
    lead_ids = []
    for number in range(2):
        assert submit(client, lead_form, phone=f"1381234000{number}").status_code == 302
        lead_ids.append(Lead.objects.order_by("-pk").first().pk)
    own, other = lead_ids  # round robin: userids[0] then userids[1]
    for role in (Role.CORP_ADMIN, Role.OPERATIONS):
        client.force_login(users[role])
        assert client.get("/lead-forms/").status_code == 200
        assert client.get(f"/lead-forms/{lead_form.pk}/").status_code == 200
        assert client.get(f"/lead-forms/{lead_form.pk}/edit/").status_code == 200
    client.force_login(users[Role.OPERATIONS])
    response = client.post(
        "/lead-forms/new/",
        {
            "name": "展会",
            "slug": "expo",
            "ask_name": "required",
            "ask_phone": "required",
            "ask_company": "off",
            "ask_need": "optional",
            "ask_region": "off",
            "ask_note": "off",
            "staff": [userids[0]],
            "rule": "round_robin",
            "way_days": "7",
            "is_open": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    bad = client.post(
        "/lead-forms/new/",
        {
            "name": "x",
            "slug": "expo",
            "ask_name": "required",
            "rule": "round_robin",
            "way_days": "7",
            "staff": [userids[0]],
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert bad.status_code == 400

    client.force_login(users[Role.STAFF])
    assert client.get("/lead-forms/").status_code == 403
    page = client.get("/leads/").content.decode()
    assert f'id="lead-{own}"' in page and f'id="lead-{other}"' not in page
    assert client.get(f"/leads/{own}/").status_code == 200
    assert client.get(f"/leads/{other}/").status_code == 403
    assert client.get("/leads/999999/").status_code == 404

    client.force_login(users[Role.MANAGER])  # no departments: sees no one's leads
    assert client.get("/lead-forms/").status_code == 403
    assert f'id="lead-{own}"' not in client.get("/leads/").content.decode()

    client.force_login(users[Role.CORP_ADMIN])
    detail = client.get(f"/leads/{own}/").content.decode()
    assert "13812340000" in detail


def _api(users, role, corp) -> Api:
    admin = access_for(users[Role.CORP_ADMIN], corp)
    _token, secret = api_services.create_token(
        access=admin, user=users[role], name="t", scopes="read"
    )
    return Api(secret)


def test_api(client, corp, lead_form, users, userids):
    assert submit(client, lead_form).status_code == 302
    lead = Lead.objects.get()
    api = _api(users, Role.OPERATIONS, corp)
    forms = api.get("/lead-forms").json()
    assert [f["slug"] for f in forms] == ["website"] and forms[0]["leads"] == 1
    assert forms[0]["public_url"].endswith(form_url(lead_form))
    assert api.get(f"/lead-forms/{lead_form.pk}").json()["staff"] == sorted(userids[:2])
    page = api.get("/leads", converted="false").json()
    assert page["total"] == 1 and page["items"][0]["phone"] == "138****5678"
    assert api.get("/leads", converted="true").json()["total"] == 0
    assert api.get("/leads", staff=userids[1]).json()["total"] == 0
    assert api.get(f"/leads/{lead.pk}").json()["state"] == lead.state
    assert api.get("/leads/999999").status_code == 404

    staff_api = _api(users, Role.STAFF, corp)
    assert staff_api.get("/lead-forms").status_code == 403
    assert staff_api.get("/leads").json()["total"] == 1  # assigned to userids[0], their own
    assert _api(users, Role.CORP_ADMIN, corp).get(f"/leads/{lead.pk}").json()["phone"] == (
        "13812345678"
    )


def test_tags_on_forms_must_exist(corp, admin, userids):
    with pytest.raises(ValidationError, match="corp tags"):
        services.save_form(
            access=admin,
            spec=FormSpec(
                name="x",
                slug="x",
                fields=(("phone", True),),
                userids=(userids[0],),
                tag_ids=("nope",),
            ),
        )
    assert Tag.objects.filter(corp=corp).exists()
