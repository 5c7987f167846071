"""The callback crypto against Tencent's official vector (API-FACTS §4) and random round trips."""

import base64
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qike.wecom import crypto
from qike.wecom.crypto import CallbackCrypto, CryptoError

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORPID = "wx5823bf96d3bd56c7"

VERIFY_ECHOSTR = unquote(
    "P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D"
)
POST_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911"
    "L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLx"
    "AUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9"
    "nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/u"
    "h9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)
POST_PLAINTEXT = (
    b"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n"
    b"<FromUserName><![CDATA[mycreate]]></FromUserName>\n"
    b"<CreateTime>1409659813</CreateTime>\n"
    b"<MsgType><![CDATA[text]]></MsgType>\n"
    b"<Content><![CDATA[hello]]></Content>\n"
    b"<MsgId>4561255354251345929</MsgId>\n"
    b"<AgentID>218</AgentID>\n"
    b"</xml>"
)


@pytest.fixture
def official() -> CallbackCrypto:
    return CallbackCrypto(TOKEN, AES_KEY, CORPID)


def test_official_url_verification(official):
    echo = official.verify_url(
        "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780", VERIFY_ECHOSTR
    )
    assert echo == b"1616140317555161061"


def test_official_message_decryption(official):
    plain = official.decrypt_message(
        "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", POST_ENCRYPT
    )
    assert len(plain) == 284
    assert plain == POST_PLAINTEXT


def test_official_message_encryption_reproduces_ciphertext(official):
    # The vector's random prefix is the ASCII text "0960688932c47ef1".
    encrypted, sig = official.encrypt_message(
        POST_PLAINTEXT, "1409659813", "1372623149", random_prefix=b"0960688932c47ef1"
    )
    assert encrypted == POST_ENCRYPT
    assert sig == "477715d11cdb4164915debcba66cb864d751f3e6"


def test_bad_signature_is_rejected(official):
    with pytest.raises(CryptoError) as err:
        official.decrypt_message("0" * 40, "1409659813", "1372623149", POST_ENCRYPT)
    assert err.value.code == crypto.SIGNATURE_MISMATCH


def test_wrong_receiveid_is_rejected():
    other = CallbackCrypto(TOKEN, AES_KEY, "wwsomeothercorp")
    with pytest.raises(CryptoError) as err:
        other.decrypt_message(
            "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", POST_ENCRYPT
        )
    assert err.value.code == crypto.RECEIVEID_MISMATCH


@pytest.mark.parametrize("bad", ["", "not base64!!", base64.b64encode(b"x" * 15).decode()])
def test_garbage_ciphertext_is_rejected(official, bad):
    sig = crypto.signature(TOKEN, "1", "2", bad)
    with pytest.raises(CryptoError):
        official.decrypt_message(sig, "1", "2", bad)


@pytest.mark.parametrize("key", ["short", "!" * 43])
def test_invalid_aes_key_is_rejected(key):
    with pytest.raises(CryptoError) as err:
        CallbackCrypto(TOKEN, key, CORPID)
    assert err.value.code == crypto.INVALID_AES_KEY


@settings(max_examples=200, deadline=None)
@given(
    message=st.binary(max_size=5000),
    key=st.binary(min_size=32, max_size=32),
    receiveid=st.text(min_size=1, max_size=40),
    token=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=32),
    timestamp=st.integers(min_value=0, max_value=2**32).map(str),
    nonce=st.integers(min_value=0, max_value=2**32).map(str),
)
def test_round_trip(message, key, receiveid, token, timestamp, nonce):
    aes_key = base64.b64encode(key).decode().rstrip("=")
    box = CallbackCrypto(token, aes_key, receiveid)
    encrypted, sig = box.encrypt_message(message, timestamp, nonce)
    assert box.decrypt_message(sig, timestamp, nonce, encrypted) == message


def test_generated_keys_are_usable():
    key = crypto.generate_aes_key()
    assert len(key) == 43
    box = CallbackCrypto(crypto.generate_token(), key, "ww1")
    encrypted, sig = box.encrypt_message(b"hi", "1", "2")
    assert box.decrypt_message(sig, "1", "2", encrypted) == b"hi"
