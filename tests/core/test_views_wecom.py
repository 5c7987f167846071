"""The settings page's "test connection" button against wecomsim: success, and WeCom's refusal of a
bad secret shown as errcode 40001."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from qike.core.models import Corp
from qike.org.models import Membership, Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_client(client, qike_corp):
    admin = User.objects.create_user("admin", password="pw")
    Membership.objects.create(user=admin, corp=qike_corp, role=Role.CORP_ADMIN)
    client.force_login(admin)
    return client


def _test_connection(client):
    return client.post("/settings/test-connection/", headers={"HX-Request": "true"})


def test_the_button_reports_success(admin_client):
    response = _test_connection(admin_client)
    assert response.status_code == 200
    assert 'data-connection="ok"' in response.content.decode()


def test_a_bad_secret_shows_wecoms_40001(admin_client, qike_corp, sim):
    saved = admin_client.post(
        "/settings/",
        {
            "corpid": qike_corp.corpid,
            "name": qike_corp.name,
            "agent_id": qike_corp.agent_id or "",
            "api_base_url": sim.url,
            "secret": "not-the-right-secret",
        },
    )
    assert saved.status_code == 302
    assert Corp.objects.get(pk=qike_corp.pk).secret == "not-the-right-secret"
    html = _test_connection(admin_client).content.decode()
    assert 'data-errcode="40001"' in html
    assert "40001" in html and "invalid credential" in html


def test_without_htmx_the_result_comes_back_as_a_message(admin_client):
    response = admin_client.post("/settings/test-connection/", follow=True)
    assert response.status_code == 200
    assert 'class="alert success"' in response.content.decode()
