"""Moments (客户朋友圈): add_moment_task rules, the asynchronous job, publish status, reach,
comments and likes through the control API, cursors, limits and errcodes, cancel."""

from __future__ import annotations

from typing import Any

from .conftest import Corp, add_member
from .test_media import MP4, PNG, upload

EC = "externalcontact/"


def advance(corp: Corp, seconds: float) -> None:
    assert corp.http.post("/sim/clock/advance", json={"seconds": seconds}).status_code == 200


def friend(corp: Corp, userid: str, name: str = "客户") -> str:
    answer = corp.control("customers/add", {"userid": userid, "customer": {"name": name}})
    return answer["external_userid"]


def add_tag(corp: Corp, name: str) -> str:
    group = corp.post(EC + "add_corp_tag", {"group_name": "兴趣", "tag": [{"name": name}]})
    return group["tag_group"]["tag"][0]["id"]


def mark(corp: Corp, userid: str, ext: str, tag_id: str) -> None:
    body = {"userid": userid, "external_userid": ext, "add_tag": [tag_id]}
    assert corp.post(EC + "mark_tag", body)["errcode"] == 0


def attachment(corp: Corp, data: bytes, media_type: str) -> str:
    answer = upload(corp, data, "media/upload_attachment", media_type=media_type, attachment_type=1)
    assert answer["errcode"] == 0, answer
    return answer["media_id"]


def create(corp: Corp, body: dict[str, Any]) -> str:
    answer = corp.post(EC + "add_moment_task", body)
    assert answer["errcode"] == 0, answer
    return answer["jobid"]


def finish(corp: Corp, jobid: str) -> dict[str, Any]:
    advance(corp, 6)
    answer = corp.get(EC + "get_moment_task_result", jobid=jobid)
    assert answer["status"] == 3, answer
    return answer["result"]


def world(corp: Corp) -> dict[str, Any]:
    for userid in ("alice", "bob", "carol"):
        add_member(corp, userid)
    vip = add_tag(corp, "VIP")
    a1, a2, b1, c1 = (friend(corp, u) for u in ("alice", "alice", "bob", "carol"))
    mark(corp, "alice", a1, vip)
    mark(corp, "bob", b1, vip)
    return {"vip": vip, "a1": a1, "a2": a2, "b1": b1, "c1": c1}


def test_job_runs_on_the_sim_clock_and_reports_invalid_senders_and_tags(corp: Corp) -> None:
    w = world(corp)
    body = {
        "text": {"content": "新品上市"},
        "visible_range": {
            "sender_list": {"user_list": ["alice", "bob", "ghost"], "department_list": [99]},
            "external_contact_list": {"tag_list": [w["vip"], "etNOPE"]},
        },
    }
    jobid = create(corp, body)
    started = corp.get(EC + "get_moment_task_result", jobid=jobid)
    assert started["status"] == 1 and started["type"] == "add_moment_task"
    advance(corp, 2)
    assert corp.get(EC + "get_moment_task_result", jobid=jobid)["status"] == 2
    result = finish(corp, jobid)
    assert result["errcode"] == 0 and result["moment_id"].startswith("mom")
    assert result["invalid_sender_list"] == {"user_list": ["ghost"], "department_list": [99]}
    assert result["invalid_external_contact_list"] == {"tag_list": ["etNOPE"]}
    moment_id = result["moment_id"]
    tasks = corp.post(EC + "get_moment_task", {"moment_id": moment_id})
    assert tasks["task_list"] == [
        {"userid": "alice", "publish_status": 0},
        {"userid": "bob", "publish_status": 0},
    ]
    chosen = corp.post(EC + "get_moment_customer_list", {"moment_id": moment_id, "userid": "alice"})
    assert chosen["customer_list"] == [{"userid": "alice", "external_userid": w["a1"]}]
    listed = corp.post(EC + "get_moment_list", {"start_time": 0, "end_time": 2_000_000_000})
    assert listed["errcode"] == 40058  # more than 30 days apart
    now = int(corp.http.get("/sim/clock").json()["now"])
    listed = corp.post(EC + "get_moment_list", {"start_time": now - 100, "end_time": now + 1})
    item = listed["moment_list"][0]
    assert item["moment_id"] == moment_id and item["visible_type"] == 0
    assert item["text"] == {"content": "新品上市"} and "creator" not in item
    assert corp.get(EC + "get_moment_task_result", jobid="nope")["errcode"] == 40088


def test_tags_only_goes_to_the_tagged_customers_followers(corp: Corp) -> None:
    w = world(corp)
    body = {
        "text": {"content": "hi"},
        "visible_range": {"external_contact_list": {"tag_list": [w["vip"]]}},
    }
    moment_id = finish(corp, create(corp, body))["moment_id"]
    tasks = corp.post(EC + "get_moment_task", {"moment_id": moment_id})["task_list"]
    assert [t["userid"] for t in tasks] == ["alice", "bob"]  # carol has no VIP customer
    public = finish(corp, create(corp, {"text": {"content": "all"}}))["moment_id"]
    tasks = corp.post(EC + "get_moment_task", {"moment_id": public})["task_list"]
    assert [t["userid"] for t in tasks] == ["alice", "bob", "carol"]


def test_publish_reach_comments_likes_and_who_may(corp: Corp) -> None:
    w = world(corp)
    body = {
        "text": {"content": "x"},
        "visible_range": {"sender_list": {"user_list": ["alice", "bob"]}},
    }
    moment_id = finish(corp, create(corp, body))["moment_id"]
    base = f"moments/{moment_id}"
    ask = {"moment_id": moment_id, "userid": "alice"}
    assert corp.post(EC + "get_moment_send_result", ask)["errcode"] == 41062
    assert corp.post(EC + "get_moment_comments", ask)["errcode"] == 41062
    other = {"moment_id": moment_id, "userid": "carol"}
    assert corp.post(EC + "get_moment_comments", other)["errcode"] == 41061
    assert corp.control(f"{base}/publish", {"userid": "alice"})["reached"] == 2
    corp.control(f"{base}/publish", {"userid": "alice"})  # twice: nothing changes
    reached = corp.post(EC + "get_moment_send_result", ask)["customer_list"]
    assert sorted(r["external_userid"] for r in reached) == sorted([w["a1"], w["a2"]])
    corp.control(f"{base}/comment", {"userid": "alice", "external_userid": w["a1"], "text": "赞"})
    corp.control(f"{base}/like", {"userid": "alice", "external_userid": w["a2"]})
    again = corp.control(f"{base}/like", {"userid": "alice", "external_userid": w["a2"]})
    assert again["created"] is False
    corp.control(f"{base}/like", {"userid": "alice", "member": "carol"})
    # bob's customer cannot see alice's moment; bob has not published.
    refused = corp.http.post(
        f"/sim/corps/{corp.corpid}/{base}/comment",
        json={"userid": "alice", "external_userid": w["b1"]},
    )
    assert refused.status_code == 409 and refused.json()["error"] == "cannot_see_moment"
    unpublished = corp.http.post(
        f"/sim/corps/{corp.corpid}/{base}/like", json={"userid": "bob", "external_userid": w["b1"]}
    )
    assert unpublished.status_code == 409
    got = corp.post(EC + "get_moment_comments", ask)
    assert [set(c) for c in got["comment_list"]] == [{"external_userid", "create_time"}]
    assert got["comment_list"][0]["external_userid"] == w["a1"]
    assert {like.get("external_userid") or like.get("userid") for like in got["like_list"]} == {
        w["a2"],
        "carol",
    }
    listing = corp.control("moments", method="GET")
    assert listing[0]["interactions"][0]["text"] == "赞"
    assert [s["publish_status"] for s in listing[0]["senders"]] == [1, 0]


def test_content_rules_and_media(corp: Corp) -> None:
    add_member(corp, "alice")
    image = attachment(corp, PNG, "image")
    video = attachment(corp, MP4, "video")
    temp = upload(corp, PNG, type="image")["media_id"]  # media/upload: not for moments

    def post(**body: Any) -> int:
        return corp.post(EC + "add_moment_task", body)["errcode"]

    def img(media_id: str = image) -> dict:
        return {"msgtype": "image", "image": {"media_id": media_id}}

    assert post() == 44004
    assert post(text={"content": "x" * 2001}) == 40058
    assert post(attachments=[img()] * 10) == 41064
    assert post(attachments=[img(), {"msgtype": "video", "video": {"media_id": video}}]) == 41065
    assert post(attachments=[{"msgtype": "file", "file": {"media_id": image}}]) == 41065
    assert post(attachments=[img(temp)]) == 40007
    assert post(attachments=[{"msgtype": "video", "video": {"media_id": image}}]) == 40007
    link = {"msgtype": "link", "link": {"title": "t", "media_id": image}}
    assert post(attachments=[link]) == 41010
    assert (
        post(
            attachments=[
                {**link, "link": {**link["link"], "url": "https://a.cn", "title": "长" * 30}}
            ]
        )
        == 40058
    )
    assert corp.control("moments", method="GET") == []
    assert post(text={"content": "x" * 2000}, attachments=[img()] * 9) == 0
    ok = {"msgtype": "link", "link": {"title": "t", "url": "https://a.cn", "media_id": image}}
    assert post(attachments=[ok]) == 0
    assert post(attachments=[{"msgtype": "video", "video": {"media_id": video}}]) == 0


def test_rate_limit_cursor_and_cancel(corp: Corp) -> None:
    for n in range(3):
        add_member(corp, f"m{n}")
    for _ in range(10):
        create(corp, {"text": {"content": "x"}})
    assert corp.post(EC + "add_moment_task", {"text": {"content": "x"}})["errcode"] == 45009
    advance(corp, 61)
    moment_id = finish(corp, create(corp, {"text": {"content": "x"}}))["moment_id"]
    first = corp.post(EC + "get_moment_task", {"moment_id": moment_id, "limit": 2})
    assert len(first["task_list"]) == 2 and first["next_cursor"]
    rest = corp.post(
        EC + "get_moment_task", {"moment_id": moment_id, "limit": 2, "cursor": first["next_cursor"]}
    )
    assert len(rest["task_list"]) == 1 and rest["next_cursor"] == ""
    corp.control(f"moments/{moment_id}/publish", {"userid": "m0"})
    assert corp.post(EC + "cancel_moment_task", {})["errcode"] == 41059
    assert corp.post(EC + "cancel_moment_task", {"moment_id": "momnope"})["errcode"] == 41060
    assert corp.post(EC + "cancel_moment_task", {"moment_id": moment_id})["errcode"] == 0
    late = corp.http.post(
        f"/sim/corps/{corp.corpid}/moments/{moment_id}/publish", json={"userid": "m1"}
    )
    assert late.status_code == 409 and late.json()["error"] == "moment_cancelled"
    tasks = corp.post(EC + "get_moment_task", {"moment_id": moment_id})["task_list"]
    assert [t["publish_status"] for t in tasks] == [1, 0, 0]
