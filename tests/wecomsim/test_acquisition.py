"""Customer acquisition links: link APIs, clicks, quota and its events, statistics."""

from __future__ import annotations

import pytest

from wecomsim import acquisition

from .conftest import Corp, Receiver, add_member, wait

EC = "externalcontact/customer_acquisition/"


def create(corp: Corp, users: list[str], skip_verify: bool = True, **extra) -> str:
    body = {"link_name": "春季活动", "range": {"user_list": users}, "skip_verify": skip_verify}
    created = corp.post(EC + "create_link", {**body, **extra})
    assert created["errcode"] == 0, created
    return created["link"]["link_id"]


def click(corp: Corp, link_id: str, **body) -> dict:
    return corp.control(f"acquisition/{link_id}/click", body)


def test_link_crud_and_range_rules(corp: Corp, monkeypatch: pytest.MonkeyPatch) -> None:
    add_member(corp, "zhangsan")
    add_member(corp, "lisi")
    created = corp.post(
        EC + "create_link", {"link_name": "L", "range": {"user_list": ["zhangsan"]}}
    )
    link = created["link"]
    assert link["url"] == "https://work.weixin.qq.com/ca/" + link["link_id"]
    assert link["link_id"].startswith("caw") and link["create_time"] > 0
    got = corp.post(EC + "get", {"link_id": link["link_id"]})
    assert got["range"] == {"user_list": ["zhangsan"], "department_list": []}
    assert got["skip_verify"] is True and got["link"]["link_name"] == "L"
    update = {"link_id": link["link_id"], "link_name": "L2", "range": {"department_list": [1]}}
    assert corp.post(EC + "update_link", update)["errcode"] == 0
    got = corp.post(EC + "get", {"link_id": link["link_id"]})
    assert got["range"] == {"user_list": [], "department_list": [1]}  # replaced in full
    assert corp.post(EC + "list_link", {})["link_id_list"] == [link["link_id"]]
    too_many = {"link_name": "x", "range": {"user_list": [f"u{i}" for i in range(101)]}}
    assert corp.post(EC + "create_link", too_many)["errcode"] == 40058
    assert corp.post(EC + "create_link", {"link_name": "x", "range": {}})["errcode"] == 40058
    monkeypatch.setattr(acquisition, "LINK_LIMIT", 1)
    assert (
        corp.post(EC + "create_link", {"link_name": "x", "range": {"user_list": ["lisi"]}})[
            "errcode"
        ]
        == 41095
    )
    assert corp.post(EC + "delete_link", {"link_id": link["link_id"]})["errcode"] == 0
    assert corp.post(EC + "get", {"link_id": link["link_id"]})["errcode"] == 40058
    assert corp.post(EC + "list_link", {})["link_id_list"] == []


def test_click_with_skip_verify(corp: Corp, receiver: Receiver) -> None:
    add_member(corp, "zhangsan")
    link_id = create(corp, ["zhangsan"])
    clicked = click(corp, link_id, customer={"name": "王五"}, customer_channel="douyin")
    assert clicked["status"] == "half" and clicked["userid"] == "zhangsan"
    ext = clicked["external_userid"]
    accepted = corp.control("members/zhangsan/accept", {"external_userid": ext})
    wait(corp)
    events = [e for e in receiver.received if e["ChangeType"] != "create_user"]
    request, half, add = events
    assert request["Event"] == "customer_acquisition" and request["ChangeType"] == "friend_request"
    assert request["LinkId"] == link_id and request["State"] == "douyin"
    assert half["ChangeType"] == "add_half_external_contact" and half["State"] == "douyin"
    assert add["ChangeType"] == "add_external_contact"
    assert add["WelcomeCode"] == accepted["welcome_code"]
    follow = corp.get("externalcontact/get", external_userid=ext)["follow_user"][0]
    assert follow["add_way"] == 16 and follow["state"] == "douyin" and follow["oper_userid"] == ext
    listed = corp.post(EC + "customer", {"link_id": link_id})["customer_list"]
    assert listed == [
        {"external_userid": ext, "userid": "zhangsan", "chat_status": 0, "state": "douyin"}
    ]
    quota = corp.get("externalcontact/customer_acquisition_quota")
    assert (
        quota["balance"] == 49 and quota["total"] == 1 and quota["quota_list"][0]["balance"] == 49
    )
    # The first message from the customer: customer_start_chat, once.
    assert corp.control("acquisition/start_chat", {"external_userid": ext})["event_sent"] is True
    assert corp.control("acquisition/start_chat", {"external_userid": ext})["event_sent"] is False
    wait(corp)
    chat = receiver.received[-1]
    assert chat["ChangeType"] == "customer_start_chat" and chat["UserID"] == "zhangsan"
    assert chat["ExternalUserID"] == ext
    assert corp.post(EC + "customer", {"link_id": link_id})["customer_list"][0]["chat_status"] == 1


def test_click_needing_verification_round_robin_and_channel(corp: Corp, receiver: Receiver) -> None:
    add_member(corp, "a")
    add_member(corp, "b")
    link_id = create(corp, ["a", "b"], skip_verify=False)
    first = click(corp, link_id)
    second = click(corp, link_id, customer_channel="渠道" * 30)  # 180 bytes
    assert (first["userid"], second["userid"]) == ("a", "b")
    assert first["status"] == "pending_request"
    assert len(second["state"].encode()) <= 64 and second["state"].startswith("渠道")
    again = click(corp, link_id, external_userid=first["external_userid"])
    assert again["userid"] == "a" and again["status"] == "pending_request"  # the same member
    corp.control("members/a/accept", {"external_userid": first["external_userid"]})
    wait(corp)
    kinds = [e["ChangeType"] for e in receiver.received if e["ChangeType"] != "create_user"]
    # No State on the first click, so no friend_request for it (doc: only when State is set).
    assert kinds == ["friend_request", "add_external_contact"]
    assert corp.get("externalcontact/customer_acquisition_quota")["balance"] == 49


def test_quota_events_and_exhaustion(corp: Corp, receiver: Receiver) -> None:
    add_member(corp, "a")
    link_id = create(corp, ["a"])
    corp.control("acquisition/quota", {"balance": 21})
    for _ in range(3):
        click(corp, link_id, auto_accept=True)
    assert corp.get("externalcontact/customer_acquisition_quota")["balance"] == 18
    corp.control("acquisition/quota", {"balance": 1})
    assert click(corp, link_id, auto_accept=True)["status"] == "added"
    refused = click(corp, link_id)
    assert refused["status"] == "link_unavailable" and refused["reason"] == "quota_exhausted"
    corp.control("acquisition/quota", {"balance": 100})
    wait(corp)
    kinds = [e["ChangeType"] for e in receiver.received if e["Event"] == "customer_acquisition"]
    assert kinds == ["balance_low", "balance_exhausted", "balance_increased"]
    assert corp.get("externalcontact/customer_acquisition_quota")["total"] == 4
    now = int(corp.http.get("/sim/clock").json()["now"])
    stats = corp.post(EC + "statistic", {"link_id": link_id, "start_time": now, "end_time": now})
    assert stats["click_link_customer_cnt"] == 5 and stats["new_customer_cnt"] == 4
    tomorrow = {"link_id": link_id, "start_time": now + 86400, "end_time": now + 86400}
    assert corp.post(EC + "statistic", tomorrow)["new_customer_cnt"] == 0
    month = {"link_id": link_id, "start_time": now - 40 * 86400, "end_time": now}
    assert corp.post(EC + "statistic", month)["errcode"] == 40058


def test_link_unavailable_and_admin_delete(corp: Corp, receiver: Receiver) -> None:
    add_member(corp, "a")
    link_id = create(corp, ["a"])
    other = create(corp, ["a"])
    corp.control("members/a/leave")
    assert click(corp, link_id)["status"] == "link_unavailable"
    corp.control(f"acquisition/{other}/delete")
    wait(corp)
    events = [e for e in receiver.received if e["Event"] == "customer_acquisition"]
    assert [(e["ChangeType"], e["LinkId"]) for e in events] == [
        ("link_unavailable", link_id),
        ("link_unavailable", other),
        ("delete_link", other),
    ]
    snapshot = corp.control("snapshot", method="GET")["acquisition"]
    assert [link["status"] for link in snapshot["links"]] == ["unavailable", "deleted"]
    assert snapshot["quota"]["balance"] == 50
