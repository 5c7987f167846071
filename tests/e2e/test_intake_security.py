"""Bad input on the callback URL gets a clear 4xx and stores nothing."""

from __future__ import annotations

import time

import httpx
import pytest

from qike.core import services
from qike.intake.models import CallbackEvent
from qike.wecom.crypto import CallbackCrypto, signature
from tests.e2e.helpers import contact_event, deliver

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def corp(settings, live_server):
    settings.QIKE_PUBLIC_URL = live_server.url
    return services.create_corp(
        corpid="wwsecurity01", secret="s3cret", api_base_url="http://127.0.0.1:9"
    )


@pytest.fixture
def url(live_server, corp) -> str:
    return f"{live_server.url}/wecom/callback/{corp.corpid}/"


def _signed_post(
    url: str, corp, body: bytes, encrypt: str, timestamp: str | None = None
) -> httpx.Response:
    ts = timestamp or str(int(time.time()))
    sig = signature(corp.callback_token, ts, "1", encrypt)
    return httpx.post(
        url, params={"msg_signature": sig, "timestamp": ts, "nonce": "1"}, content=body
    )


def test_url_verification_echoes_the_decrypted_echostr(url, corp):
    box = CallbackCrypto(corp.callback_token, corp.encoding_aes_key, corp.corpid)
    ts = str(int(time.time()))
    echostr, sig = box.encrypt_message(b"8812345678901234567", ts, "99")
    answer = httpx.get(
        url, params={"msg_signature": sig, "timestamp": ts, "nonce": "99", "echostr": echostr}
    )
    assert answer.status_code == 200
    assert answer.content == b"8812345678901234567"


def test_url_verification_with_a_bad_signature_is_refused(url):
    answer = httpx.get(
        url, params={"msg_signature": "0" * 40, "timestamp": "1", "nonce": "2", "echostr": "abc"}
    )
    assert answer.status_code == 403
    assert answer.text == "bad_signature"


def test_a_valid_event_is_stored(url, corp):
    xml = contact_event(corp, "del_follow_user", "zhangsan", "wmABC", at=int(time.time()))
    # No wecomsim here: the handler fails to reach WeCom, but the event is stored and acknowledged.
    answer = deliver(url, corp, xml)
    assert answer.text == "success"
    assert CallbackEvent.objects.filter(corp=corp).count() == 1


def test_bad_signature_is_refused_and_nothing_stored(url, corp):
    box = CallbackCrypto(corp.callback_token, corp.encoding_aes_key, corp.corpid)
    xml = contact_event(corp, "del_follow_user", "zhangsan", "wmABC", at=1).encode()
    body, _sig = box.callback_body(xml, "1", "1")
    answer = httpx.post(
        url, params={"msg_signature": "f" * 40, "timestamp": "1", "nonce": "1"}, content=body
    )
    assert answer.status_code == 403
    assert answer.text == "bad_signature"
    assert not CallbackEvent.objects.exists()


def test_wrong_receiveid_is_refused(url, corp):
    other = CallbackCrypto(corp.callback_token, corp.encoding_aes_key, "wwsomebodyelse")
    xml = contact_event(corp, "del_follow_user", "zhangsan", "wmABC", at=1).encode()
    body, sig = other.callback_body(xml, "1", "1")
    answer = httpx.post(
        url, params={"msg_signature": sig, "timestamp": "1", "nonce": "1"}, content=body
    )
    assert answer.status_code == 403
    assert answer.text == "receiveid_mismatch"
    assert not CallbackEvent.objects.exists()


def test_xxe_in_the_envelope_is_refused(url, corp):
    body = (
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<xml><ToUserName>&xxe;</ToUserName><Encrypt>abc</Encrypt></xml>"
    )
    answer = _signed_post(url, corp, body, "abc")
    assert answer.status_code == 400
    assert answer.text == "malformed_envelope"
    assert not CallbackEvent.objects.exists()


def test_xxe_inside_the_encrypted_event_is_refused(url, corp):
    evil = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        "<xml><ToUserName>&lol2;</ToUserName><MsgType>event</MsgType><Event>x</Event></xml>"
    )
    answer = deliver(url, corp, evil)
    assert answer.status_code == 400
    assert answer.text == "malformed_event"
    assert not CallbackEvent.objects.exists()


@pytest.mark.parametrize("body", [b"", b"not xml at all", b"<xml><Encrypt>", b"<xml></xml>"])
def test_malformed_bodies_are_refused(url, corp, body):
    answer = _signed_post(url, corp, body, "")
    assert 400 <= answer.status_code < 500
    assert not CallbackEvent.objects.exists()


def test_malformed_decrypted_xml_is_refused(url, corp):
    answer = deliver(url, corp, "<xml><MsgType>event</MsgType>")
    assert answer.status_code == 400
    assert not CallbackEvent.objects.exists()


def test_an_oversized_body_is_refused(url, corp, settings):
    settings.QIKE_CALLBACK_MAX_BYTES = 1024
    answer = _signed_post(url, corp, b"<xml>" + b"a" * 5000 + b"</xml>", "")
    assert answer.status_code == 413
    assert not CallbackEvent.objects.exists()


def test_missing_parameters_are_refused(url):
    assert httpx.post(url, content=b"<xml/>").status_code == 400


def test_an_unknown_corp_is_refused(live_server):
    answer = httpx.post(
        f"{live_server.url}/wecom/callback/wwnobody/",
        params={"msg_signature": "a", "timestamp": "1", "nonce": "1"},
        content=b"<xml/>",
    )
    assert answer.status_code == 404
    assert not CallbackEvent.objects.exists()


def test_a_stale_timestamp_is_refused_when_the_window_is_set(url, corp, settings):
    settings.QIKE_CALLBACK_MAX_AGE = 300
    xml = contact_event(corp, "del_follow_user", "zhangsan", "wmABC", at=1)
    answer = deliver(url, corp, xml, timestamp=int(time.time()) - 3600)
    assert answer.status_code == 403
    assert answer.text == "stale_timestamp"
    assert not CallbackEvent.objects.exists()
