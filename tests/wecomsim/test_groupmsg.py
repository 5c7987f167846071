"""Mass messages: add_msg_template, the member's confirmation, the per-customer limit (status 3),
dispatching (41063), reminders (41094), cancel (41093), cursors and input limits."""

from __future__ import annotations

from .conftest import Corp, add_member

EC = "externalcontact/"
DAY = 86400


def customer_of(corp: Corp, userid: str) -> str:
    return corp.control("customers/add", {"userid": userid, "customer": {}})["external_userid"]


def advance(corp: Corp, seconds: float) -> None:
    corp.http.post("/sim/clock/advance", json={"seconds": seconds})
    token = corp.http.get(
        "/cgi-bin/gettoken", params={"corpid": corp.corpid, "corpsecret": corp.secret}
    ).json()
    corp.token = token["access_token"]


def add(corp: Corp, sender: str, exts: list[str], **extra) -> dict:
    body = {"chat_type": "single", "sender": sender, "external_userid": exts}
    return corp.post(EC + "add_msg_template", {"text": {"content": "新品上市"}, **body, **extra})


def results(corp: Corp, msgid: str, userid: str) -> dict[str, int]:
    answer = corp.post(EC + "get_groupmsg_send_result", {"msgid": msgid, "userid": userid})
    assert answer["errcode"] == 0, answer
    return {r["external_userid"]: r["status"] for r in answer["send_list"]}


def test_confirmation_sends_and_the_daily_limit_gives_status_3(corp: Corp) -> None:
    add_member(corp, "a")
    add_member(corp, "b")
    x, y, z = customer_of(corp, "a"), customer_of(corp, "a"), customer_of(corp, "a")
    stranger = customer_of(corp, "b")
    corp.control(f"customers/{z}/delete_member", {"userid": "a"})  # z deleted a: not a friend
    # y already got a member's own mass message today.
    corp.control("groupmsg/personal", {"userid": "a", "external_userids": [y], "text": "早安"})

    answer = add(corp, "a", [x, y, z, stranger, "wmunknown"])
    assert answer["errcode"] == 0, answer
    assert sorted(answer["fail_list"]) == sorted([stranger, "wmunknown"])
    msgid = answer["msgid"]

    # Right after creation the task is still being dispatched.
    assert corp.post(EC + "get_groupmsg_task", {"msgid": msgid})["errcode"] == 41063
    advance(corp, 2)
    tasks = corp.post(EC + "get_groupmsg_task", {"msgid": msgid})
    assert tasks["task_list"] == [{"userid": "a", "status": 0}]  # no send_time while unsent
    assert results(corp, msgid, "a") == {x: 0, y: 0, z: 0}

    sent = corp.control(f"groupmsg/{msgid}/confirm", {"userid": "a"})
    assert (sent["sent"], sent["not_friend"], sent["at_limit"]) == (1, 1, 1)
    assert results(corp, msgid, "a") == {x: 1, y: 3, z: 2}
    task = corp.post(EC + "get_groupmsg_task", {"msgid": msgid})["task_list"][0]
    assert task["status"] == 2 and task["send_time"] > 0

    # The next day x may receive one again.
    advance(corp, DAY)
    again = add(corp, "a", [x])["msgid"]
    advance(corp, 2)
    corp.control(f"groupmsg/{again}/confirm", {"userid": "a"})
    assert results(corp, again, "a") == {x: 1}


def test_monthly_rule_allows_four_per_month(corp: Corp) -> None:
    add_member(corp, "a")
    x = customer_of(corp, "a")
    corp.control("groupmsg/policy", {"rule": "monthly"})
    corp.http.post("/sim/clock/set", json={"now": 1_900_000_000})  # mid-month (2030-03-17)
    advance(corp, 0)
    statuses = []
    for _ in range(5):
        msgid = add(corp, "a", [x])["msgid"]
        advance(corp, 2)
        corp.control(f"groupmsg/{msgid}/confirm", {"userid": "a"})
        statuses.append(results(corp, msgid, "a")[x])
    assert statuses == [1, 1, 1, 1, 3]


def test_remind_at_most_three_times_in_24_hours_and_cancel(corp: Corp) -> None:
    add_member(corp, "a")
    x = customer_of(corp, "a")
    msgid = add(corp, "a", [x])["msgid"]
    advance(corp, 2)
    codes = [corp.post(EC + "remind_groupmsg_send", {"msgid": msgid})["errcode"] for _ in range(4)]
    assert codes == [0, 0, 0, 41094]
    advance(corp, DAY + 1)
    assert corp.post(EC + "remind_groupmsg_send", {"msgid": msgid})["errcode"] == 0

    assert corp.post(EC + "cancel_groupmsg_send", {"msgid": msgid})["errcode"] == 0
    assert corp.post(EC + "remind_groupmsg_send", {"msgid": msgid})["errcode"] == 41093
    assert corp.post(EC + "cancel_groupmsg_send", {"msgid": msgid})["errcode"] == 41093
    refused = corp.http.post(
        f"/sim/corps/{corp.corpid}/groupmsg/{msgid}/confirm", json={"userid": "a"}
    )
    assert refused.status_code == 409
    assert results(corp, msgid, "a") == {x: 0}  # the unsent delivery stopped for good
    overview = corp.control(f"groupmsg?msgid={msgid}", method="GET")[0]
    assert overview["cancelled"] and len(overview["reminders"]) == 4


def test_ignored_task_stays_unsent(corp: Corp) -> None:
    add_member(corp, "a")
    x = customer_of(corp, "a")
    msgid = add(corp, "a", [x])["msgid"]
    advance(corp, 2)
    corp.control(f"groupmsg/{msgid}/ignore", {"userid": "a"})
    assert corp.post(EC + "get_groupmsg_task", {"msgid": msgid})["task_list"][0]["status"] == 0


def test_input_limits(corp: Corp) -> None:
    add_member(corp, "a")
    x = customer_of(corp, "a")
    too_many = add(corp, "a", [f"wm{i}" for i in range(10_001)])
    assert too_many["errcode"] == 40058
    link = {"msgtype": "link", "link": {"title": "t", "url": "https://example.com"}}
    assert add(corp, "a", [x], attachments=[link] * 10)["errcode"] == 41064
    empty = corp.post(EC + "add_msg_template", {"sender": "a", "external_userid": [x]})
    assert empty["errcode"] == 44004
    assert add(corp, "a", [x], text={"content": "字" * 1400})["errcode"] == 40058  # > 4000 bytes
    image = {"msgtype": "image", "image": {"media_id": "3nonexistent"}}
    assert add(corp, "a", [x], attachments=[image])["errcode"] == 40007
    assert add(corp, "a", ["wmnobody"])["errcode"] == 41048
    assert add(corp, "nobody", [x])["errcode"] == 40003
    assert corp.post(EC + "get_groupmsg_task", {})["errcode"] == 41046
    assert corp.post(EC + "get_groupmsg_task", {"msgid": "msgnope"})["errcode"] == 41047
    assert corp.post(EC + "get_groupmsg_send_result", {"msgid": "msgnope"})["errcode"] == 41009


def test_list_v2_and_cursors(corp: Corp) -> None:
    add_member(corp, "a")
    exts = [customer_of(corp, "a") for _ in range(3)]
    made = [add(corp, "a", [e])["msgid"] for e in exts]
    now = int(corp.http.get("/sim/clock").json()["now"])
    query = {"chat_type": "single", "start_time": now - 60, "end_time": now + 60, "limit": 2}
    assert corp.post(EC + "get_groupmsg_list_v2", query)["errcode"] == 41063
    advance(corp, 2)
    first = corp.post(EC + "get_groupmsg_list_v2", query)
    assert first["errcode"] == 0 and len(first["group_msg_list"]) == 2 and first["next_cursor"]
    second = corp.post(EC + "get_groupmsg_list_v2", {**query, "cursor": first["next_cursor"]})
    assert second["next_cursor"] == ""
    listed = [m["msgid"] for m in first["group_msg_list"] + second["group_msg_list"]]
    assert listed == made
    assert first["group_msg_list"][0]["text"] == {"content": "新品上市"}
    wide = {**query, "start_time": now - 40 * DAY}
    assert corp.post(EC + "get_groupmsg_list_v2", wide)["errcode"] == 40058

    big = add(corp, "a", exts)["msgid"]
    advance(corp, 2)
    page = corp.post(EC + "get_groupmsg_send_result", {"msgid": big, "userid": "a", "limit": 2})
    assert len(page["send_list"]) == 2 and page["next_cursor"]
    rest = corp.post(
        EC + "get_groupmsg_send_result",
        {"msgid": big, "userid": "a", "limit": 2, "cursor": page["next_cursor"]},
    )
    assert len(rest["send_list"]) == 1 and rest["next_cursor"] == ""


def test_attachments_missing_required_fields_are_refused(corp: Corp) -> None:
    """What WeCom needs of each attachment: a media id (41006), a link's url (41010), the rest of
    a link's or mini program's fields (40058); nothing is created."""
    add_member(corp, "a")
    x = customer_of(corp, "a")
    cases = {
        41006: [{"msgtype": "image", "image": {}}, {"msgtype": "video", "video": {}}],
        41010: [{"msgtype": "link", "link": {"title": "目录"}}],
        40058: [
            {"msgtype": "link", "link": {"url": "https://example.com"}},
            {
                "msgtype": "miniprogram",
                "miniprogram": {"title": "小程序", "pic_media_id": "m", "page": "/index"},
            },
        ],
    }
    for errcode, attachments in cases.items():
        for attachment in attachments:
            assert add(corp, "a", [x], attachments=[attachment])["errcode"] == errcode, attachment
    assert corp.control("groupmsg", method="GET") == []  # nothing was created
    url_image = {"msgtype": "image", "image": {"pic_url": "https://example.com/a.png"}}
    assert add(corp, "a", [x], attachments=[url_image])["errcode"] == 0  # pic_url will do
