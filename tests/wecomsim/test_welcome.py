"""send_welcome_msg: 20 s on the sim clock, single use, limits, and the log."""

from __future__ import annotations

import httpx

from .conftest import Corp, add_member


def new_code(corp: Corp) -> str:
    add_member(corp, "zhangsan") if not corp.get("user/get", userid="zhangsan").get(
        "userid"
    ) else None
    return corp.control("customers/add", {"userid": "zhangsan", "customer": {}})["welcome_code"]


def test_single_use_and_20_second_window(http: httpx.Client, corp: Corp) -> None:
    send = "externalcontact/send_welcome_msg"
    code = new_code(corp)
    assert corp.post(send, {"welcome_code": code, "text": {"content": "欢迎"}})["errcode"] == 0
    assert corp.post(send, {"welcome_code": code, "text": {"content": "again"}})["errcode"] == 41051
    late = new_code(corp)
    http.post("/sim/clock/advance", json={"seconds": 21})
    assert corp.post(send, {"welcome_code": late, "text": {"content": "迟了"}})["errcode"] == 41050
    on_time = new_code(corp)
    http.post("/sim/clock/advance", json={"seconds": 19})
    assert corp.post(send, {"welcome_code": on_time, "text": {"content": "ok"}})["errcode"] == 0
    assert corp.post(send, {"text": {"content": "x"}})["errcode"] == 41049
    assert corp.post(send, {"welcome_code": "bogus", "text": {"content": "x"}})["errcode"] == 41050
    log = corp.control("welcome_messages", method="GET")
    assert [m["errcode"] for m in log] == [0, 41051, 41050, 0, 41049, 41050]
    assert log[0]["text"] == "欢迎" and log[0]["userid"] == "zhangsan"


def test_content_limits(corp: Corp) -> None:
    send = "externalcontact/send_welcome_msg"
    code = new_code(corp)
    assert corp.post(send, {"welcome_code": code})["errcode"] == 44004
    assert (
        corp.post(send, {"welcome_code": code, "text": {"content": "字" * 1334}})["errcode"]
        == 40058
    )
    uploaded = corp.http.post(
        "/cgi-bin/media/upload",
        params={"access_token": corp.token, "type": "image"},
        files={"media": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")},
    ).json()
    image = {"msgtype": "image", "image": {"media_id": uploaded["media_id"]}}
    assert corp.post(send, {"welcome_code": code, "attachments": [image] * 10})["errcode"] == 41064
    bad = {"msgtype": "voice", "voice": {}}
    assert corp.post(send, {"welcome_code": code, "attachments": [bad]})["errcode"] == 41065
    ok = corp.post(
        send, {"welcome_code": code, "text": {"content": "字" * 1333}, "attachments": [image] * 9}
    )
    assert ok["errcode"] == 0
