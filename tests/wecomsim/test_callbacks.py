"""Encrypted callbacks: scans, accepts, edits, deletes; retries, ordering, drops."""

from __future__ import annotations

import time

from .conftest import Corp, Receiver, add_member, wait


def contact_way(corp: Corp, skip_verify: bool, state: str = "poster") -> str:
    way = corp.post(
        "externalcontact/add_contact_way",
        {"type": 1, "scene": 2, "user": ["zhangsan"], "state": state, "skip_verify": skip_verify},
    )
    assert way["errcode"] == 0, way
    return way["config_id"]


def test_scan_with_skip_verify_is_a_half_add(corp: Corp, receiver: Receiver) -> None:
    add_member(corp, "zhangsan")
    scanned = corp.control(
        "customers/scan",
        {"config_id": contact_way(corp, True), "customer": {"name": "客户甲", "unionid": "ou1"}},
    )
    assert scanned["status"] == "half" and scanned["userid"] == "zhangsan"
    ext = scanned["external_userid"]
    # Until the member adds back, the APIs answer 84061 (API-FACTS §8).
    assert corp.get("externalcontact/get", external_userid=ext)["errcode"] == 84061
    accepted = corp.control("members/zhangsan/accept", {"external_userid": ext})
    wait(corp)
    create_user, half, add = receiver.received
    assert create_user["ChangeType"] == "create_user" and create_user["UserID"] == "zhangsan"
    assert half["Event"] == "change_external_contact"
    assert half["ChangeType"] == "add_half_external_contact"
    assert half["ToUserName"] == corp.corpid == half["_outer_to"]
    assert half["FromUserName"] == "sys" and half["MsgType"] == "event"
    assert half["UserID"] == "zhangsan" and half["ExternalUserID"] == ext
    assert half["State"] == "poster" and half["WelcomeCode"] == scanned["welcome_code"]
    assert abs(int(half["CreateTime"]) - time.time()) < 60
    # No welcome message went out with the half code, so the add carries a fresh one.
    assert add["ChangeType"] == "add_external_contact"
    assert add["WelcomeCode"] == accepted["welcome_code"] != half["WelcomeCode"]
    follow = corp.get("externalcontact/get", external_userid=ext)["follow_user"][0]
    assert follow["add_way"] == 1 and follow["oper_userid"] == ext and follow["state"] == "poster"


def test_half_add_welcome_sent_means_no_second_code(corp: Corp, receiver: Receiver) -> None:
    add_member(corp, "zhangsan")
    scanned = corp.control("customers/scan", {"config_id": contact_way(corp, True)})
    sent = corp.post(
        "externalcontact/send_welcome_msg",
        {"welcome_code": scanned["welcome_code"], "text": {"content": "你好"}},
    )
    assert sent["errcode"] == 0
    corp.control("members/zhangsan/accept", {"external_userid": scanned["external_userid"]})
    wait(corp)
    add = receiver.received[-1]
    assert add["ChangeType"] == "add_external_contact" and "WelcomeCode" not in add


def test_scan_without_skip_verify_is_a_friend_request(corp: Corp, receiver: Receiver) -> None:
    add_member(corp, "zhangsan")
    scanned = corp.control("customers/scan", {"config_id": contact_way(corp, False)})
    assert scanned["status"] == "pending_request"
    wait(corp)
    assert [e["ChangeType"] for e in receiver.received] == ["create_user"]  # nothing yet
    corp.control("members/zhangsan/accept", {"external_userid": scanned["external_userid"]})
    wait(corp)
    add = receiver.received[-1]
    assert add["ChangeType"] == "add_external_contact" and add["WelcomeCode"]
    assert add["State"] == "poster"


def test_people_events(corp: Corp, receiver: Receiver) -> None:
    add_member(corp, "zhangsan")
    ext = corp.control("customers/add", {"userid": "zhangsan", "customer": {}})["external_userid"]
    tag = corp.control("admin/tags", {"group_name": "g", "tags": ["t"]})["tag_group"]["tag"][0]
    assert corp.control(
        "members/zhangsan/edit_customer",
        {"external_userid": ext, "remark_mobiles": ["13800000000"]},
    ) == {"event_sent": False}
    corp.control(
        "members/zhangsan/edit_customer",
        {"external_userid": ext, "remark": "新备注", "add_tag": [tag["id"]]},
    )
    corp.control(f"customers/{ext}/delete_member", {"userid": "zhangsan"})
    corp.control("members/zhangsan/delete_customer", {"external_userid": ext})
    dept = corp.control("departments", {"name": "新部门", "parentid": 1})["id"]
    corp.control("members/zhangsan/move", {"department": [dept]})
    corp.control("members/zhangsan/leave")
    wait(corp)
    kinds = [e["ChangeType"] for e in receiver.received]
    assert kinds == [
        "create_user",
        "add_external_contact",
        "create",
        "edit_external_contact",
        "del_follow_user",
        "del_external_contact",
        "create_party",
        "update_user",
        "delete_user",
    ]
    deleted = receiver.received[5]
    assert deleted["Source"] == "" and deleted["ExternalUserID"] == ext
    party = receiver.received[6]
    assert party["Id"] == str(dept) and party["Name"] == "新部门" and party["ParentId"] == "1"
    assert receiver.received[7]["Department"] == str(dept)


def test_retries_then_success_and_order(corp: Corp, receiver: Receiver) -> None:
    receiver.answers = [(500, b"oops"), (200, b"not success"), (200, b"success")]
    add_member(corp, "a")
    add_member(corp, "b")
    wait(corp)
    assert [e["UserID"] for e in receiver.received] == ["a", "b"]  # in order despite retries
    log = corp.control("deliveries", method="GET")
    assert [(d["status"], d["attempts"]) for d in log] == [("delivered", 3), ("delivered", 1)]


def test_gives_up_after_four_attempts(corp: Corp, receiver: Receiver) -> None:
    receiver.answers = [(500, b"no")] * 4
    add_member(corp, "a")
    add_member(corp, "b")
    wait(corp)
    assert receiver.attempts == 5
    failed = corp.control("deliveries?status=failed", method="GET")
    assert len(failed) == 1 and failed[0]["attempts"] == 4 and "HTTP 500" in failed[0]["last_error"]
    assert [e["UserID"] for e in receiver.received] == ["b"]


def test_dropped_callbacks(corp: Corp, receiver: Receiver) -> None:
    corp.control("callbacks/drop", {"count": 2})
    for userid in ("a", "b", "c"):
        add_member(corp, userid)
    wait(corp)
    assert [e["UserID"] for e in receiver.received] == ["c"]
    statuses = [d["status"] for d in corp.control("deliveries", method="GET")]
    assert statuses == ["dropped", "dropped", "delivered"]


def test_url_verification_on_register(corp: Corp, receiver: Receiver) -> None:
    result = corp.control(
        "callback",
        {"url": receiver.url, "token": receiver.token, "aes_key": receiver.aes_key, "verify": True},
    )
    assert result["verified"] is True
