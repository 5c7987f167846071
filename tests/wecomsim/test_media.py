"""Media: uploads, size and format rules, 3-day lifetime, use in messages, permanent images."""

from __future__ import annotations

import pytest

from wecomsim import media

from .conftest import Corp, add_member

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"0" * 64


def upload(corp: Corp, data: bytes, path: str = "media/upload", **params) -> dict:
    params.setdefault("access_token", corp.token)
    files = {"media": ("f.bin", data, "application/octet-stream")}
    return corp.http.post(f"/cgi-bin/{path}", params=params, files=files).json()


def test_upload_and_download(corp: Corp) -> None:
    uploaded = upload(corp, PNG, type="image")
    assert uploaded["errcode"] == 0 and uploaded["type"] == "image"
    assert isinstance(uploaded["created_at"], str) and uploaded["media_id"]
    got = corp.http.get(
        "/cgi-bin/media/get", params={"access_token": corp.token, "media_id": uploaded["media_id"]}
    )
    assert got.content == PNG and got.headers["content-type"] == "image/png"
    assert upload(corp, b"hello world", type="file")["errcode"] == 0
    assert upload(corp, MP4, type="video")["errcode"] == 0


def test_upload_rules(corp: Corp, monkeypatch: pytest.MonkeyPatch) -> None:
    assert upload(corp, PNG, type="gif")["errcode"] == 40005
    assert upload(corp, b"12345", type="file")["errcode"] == 40006  # must be > 5 bytes
    assert upload(corp, b"GIF89a-not-allowed", type="image")["errcode"] == 40123
    assert upload(corp, b"not an mp4 file", type="video")["errcode"] == 40004
    monkeypatch.setitem(media.LIMITS, "file", 10)
    assert upload(corp, b"eleven byte", type="file")["errcode"] == 45001
    no_file = corp.http.post(
        "/cgi-bin/media/upload", params={"access_token": corp.token, "type": "file"}
    ).json()
    assert no_file["errcode"] == 44001


def test_media_expires_after_three_days(corp: Corp) -> None:
    add_member(corp, "a")
    image = upload(corp, PNG, type="image")["media_id"]
    body = {
        "touser": "a",
        "agentid": corp.agentid,
        "msgtype": "image",
        "image": {"media_id": image},
    }
    assert corp.post("message/send", body)["errcode"] == 0
    wrong = {**body, "msgtype": "file", "file": {"media_id": image}}
    assert corp.post("message/send", wrong)["errcode"] == 40007  # an image is not a file
    corp.http.post("/sim/clock/advance", json={"seconds": 3 * 86400 + 1})
    corp.token = corp.http.get(
        "/cgi-bin/gettoken", params={"corpid": corp.corpid, "corpsecret": corp.secret}
    ).json()["access_token"]
    assert corp.post("message/send", body)["errcode"] == 40007
    code = corp.control("customers/add", {"userid": "a", "customer": {}})["welcome_code"]
    attachment = {"msgtype": "image", "image": {"media_id": image}}
    welcome = {"welcome_code": code, "attachments": [attachment]}
    assert corp.post("externalcontact/send_welcome_msg", welcome)["errcode"] == 40007
    seen = corp.control("app_messages?userid=a", method="GET")
    assert seen[0]["image"] == {"media_id": image}


def test_attachment_and_uploadimg(corp: Corp, monkeypatch: pytest.MonkeyPatch) -> None:
    attached = upload(corp, PNG, "media/upload_attachment", media_type="image", attachment_type=1)
    assert attached["errcode"] == 0 and attached["type"] == "image"
    bad_scene = upload(corp, PNG, "media/upload_attachment", media_type="image", attachment_type=3)
    assert bad_scene["errcode"] == 41072
    monkeypatch.setitem(media.LIMITS, "image", 20)
    too_big = upload(corp, PNG, "media/upload_attachment", media_type="image", attachment_type=1)
    assert too_big["errcode"] == 41080
    monkeypatch.undo()
    # An attachment media_id is not a temporary media for messages.
    add_member(corp, "a")
    send = {"touser": "a", "agentid": corp.agentid, "msgtype": "image"}
    assert (
        corp.post("message/send", {**send, "image": {"media_id": attached["media_id"]}})["errcode"]
        == 40007
    )
    image = upload(corp, PNG, "media/uploadimg")
    assert image["errcode"] == 0 and image["url"].startswith(corp.http.base_url.__str__())
    assert corp.http.get(image["url"]).content == PNG
    monkeypatch.setattr(media, "UPLOADIMG_PER_DAY", 1)
    assert upload(corp, PNG, "media/uploadimg")["errcode"] == 45009
