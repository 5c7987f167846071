"""App messages: message/send recipients, validation, per-member limits, what members saw."""

from __future__ import annotations

from .conftest import Corp, add_member


def send(corp: Corp, **body) -> dict:
    body.setdefault("agentid", corp.agentid)
    body.setdefault("msgtype", "text")
    body.setdefault("text", {"content": "你好"})
    return corp.post("message/send", body)


def seen(corp: Corp, userid: str, dropped: bool = False) -> list[dict]:
    query = f"app_messages?userid={userid}" + ("&include_dropped=1" if dropped else "")
    return corp.control(query, method="GET")


def test_send_to_users_parties_and_invalid_ids(corp: Corp) -> None:
    dept = corp.control("departments", {"name": "销售部", "parentid": 1})["id"]
    child = corp.control("departments", {"name": "一组", "parentid": dept})["id"]
    add_member(corp, "zhangsan")
    add_member(corp, "lisi", [child])
    sent = send(corp, touser="ZhangSan|ghost", toparty=f"{dept}|999", totag="1")
    assert sent["errcode"] == 0, sent
    assert sent["invaliduser"] == "ghost" and sent["invalidparty"] == "999"
    assert sent["invalidtag"] == "1" and sent["unlicenseduser"] == ""
    assert sent["msgid"]
    for userid in ("zhangsan", "lisi"):  # lisi through the sub-department
        (message,) = seen(corp, userid)
        assert message["msgid"] == sent["msgid"] and message["text"] == {"content": "你好"}


def test_all_and_nothing_valid(corp: Corp) -> None:
    add_member(corp, "a")
    add_member(corp, "b")
    assert send(corp, touser="@all")["errcode"] == 0
    assert len(corp.control("app_messages", method="GET")) == 2
    assert send(corp, touser="ghost")["errcode"] == 81013
    assert send(corp)["errcode"] == 82001
    assert send(corp, touser="|".join(f"u{i}" for i in range(1001)))["errcode"] == 40032


def test_agent_and_content_rules(corp: Corp) -> None:
    add_member(corp, "a")
    assert send(corp, touser="a", agentid=None)["errcode"] == 41011
    assert send(corp, touser="a", agentid=corp.agentid + 1)["errcode"] == 40056
    assert send(corp, touser="a", msgtype="fax")["errcode"] == 40008
    assert send(corp, touser="a", text={"content": ""})["errcode"] == 44004
    card = {"title": "标题", "description": "描述", "url": "https://example.com"}
    assert (
        send(corp, touser="a", msgtype="textcard", textcard={**card, "title": ""})["errcode"]
        == 41016
    )
    assert send(corp, touser="a", msgtype="textcard", textcard=card)["errcode"] == 0
    big = "字" * 700  # 2100 bytes
    assert send(corp, touser="a", msgtype="markdown", markdown={"content": big})["errcode"] == 45002
    assert send(corp, touser="a", text={"content": big})["errcode"] == 0
    assert len(seen(corp, "a")[-1]["text"]["content"].encode()) <= 2048  # truncated
    news = {"articles": [{"title": "t", "url": "https://e.com"}] * 9}
    assert send(corp, touser="a", msgtype="news", news=news)["errcode"] == 45008
    notice = {"appid": "wx123", "title": "会议", "content_item": [{"key": "k", "value": "v"}] * 11}
    assert (
        send(corp, touser="a", msgtype="miniprogram_notice", miniprogram_notice=notice)["errcode"]
        == 90201
    )


def test_per_member_limit_drops_the_excess(corp: Corp) -> None:
    add_member(corp, "a")
    add_member(corp, "b")
    for _ in range(30):
        assert send(corp, touser="a")["errcode"] == 0
    # a is at 30/min: a mixed send succeeds but a does not get it; a send only to a is 45009.
    assert send(corp, touser="a|b")["errcode"] == 0
    assert send(corp, touser="a")["errcode"] == 45009
    assert len(seen(corp, "a")) == 30 and len(seen(corp, "b")) == 1
    assert [m["delivered"] for m in seen(corp, "a", dropped=True)][-1] is False
    corp.http.post("/sim/clock/advance", json={"seconds": 61})
    assert send(corp, touser="a")["errcode"] == 0
