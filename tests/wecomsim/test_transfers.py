"""Transfers: on-job and resigned hand-over, the 24-hour takeover, refusals, limits, results."""

from __future__ import annotations

from .conftest import Corp, Receiver, add_member, wait

EC = "externalcontact/"
DAY = 86400


def customer_of(corp: Corp, userid: str, **extra) -> str:
    return corp.control("customers/add", {"userid": userid, "customer": {}, **extra})[
        "external_userid"
    ]


def advance(corp: Corp, seconds: float) -> None:
    corp.http.post("/sim/clock/advance", json={"seconds": seconds})
    token = corp.http.get(
        "/cgi-bin/gettoken", params={"corpid": corp.corpid, "corpsecret": corp.secret}
    ).json()
    corp.token = token["access_token"]  # a day later the old token has expired


def transfer(corp: Corp, exts: list[str], handover: str = "a", takeover: str = "b", **extra):
    body = {"handover_userid": handover, "takeover_userid": takeover, "external_userid": exts}
    return corp.post(EC + "transfer_customer", {**body, **extra})


def result(corp: Corp, path: str = "transfer_result") -> list[dict]:
    answer = corp.post(EC + path, {"handover_userid": "a", "takeover_userid": "b"})
    assert answer["errcode"] == 0, answer
    return answer["customer"]


def test_onjob_transfer_completes_after_24_hours(corp: Corp, receiver: Receiver) -> None:
    add_member(corp, "a")
    add_member(corp, "b")
    tag = corp.control("admin/tags", {"group_name": "g", "tags": ["t"]})["tag_group"]["tag"][0]
    ext = customer_of(corp, "a", remark="老客户")
    corp.post(EC + "mark_tag", {"userid": "a", "external_userid": ext, "add_tag": [tag["id"]]})
    started = transfer(corp, [ext], transfer_success_msg="您好，接下来由我为您服务")
    assert started["customer"] == [{"external_userid": ext, "errcode": 0}]
    (waiting,) = result(corp)
    assert waiting["status"] == 2 and waiting["takeover_time"] > 0
    # Until the takeover the customer is still a's.
    assert corp.get(EC + "get", external_userid=ext)["follow_user"][0]["userid"] == "a"
    advance(corp, DAY + 1)
    (done,) = result(corp)
    assert done == {"external_userid": ext, "status": 1, "takeover_time": waiting["takeover_time"]}
    (follow,) = corp.get(EC + "get", external_userid=ext)["follow_user"]
    assert follow["userid"] == "b" and follow["add_way"] == 202 and follow["oper_userid"] == "a"
    assert follow["remark"] == "" and follow["tags"] == []  # a fresh relation
    assert corp.get(EC + "list", userid="a")["errcode"] == 84061
    wait(corp)
    deleted, added = receiver.received[-2:]
    assert deleted["ChangeType"] == "del_external_contact" and deleted["UserID"] == "a"
    assert deleted["Source"] == "DELETE_BY_TRANSFER" and deleted["ExternalUserID"] == ext
    assert added["ChangeType"] == "add_external_contact" and added["UserID"] == "b"
    assert "WelcomeCode" not in added


def test_onjob_per_customer_errors(corp: Corp) -> None:
    for userid in ("a", "b", "c"):
        add_member(corp, userid)
    mine, theirs, other = customer_of(corp, "a"), customer_of(corp, "c"), customer_of(corp, "a")
    corp.control("customers/add", {"userid": "c", "external_userid": other})
    assert transfer(corp, [mine], takeover="a")["customer"][0]["errcode"] == 40130
    answer = transfer(corp, [mine, theirs, "wmnobody"])["customer"]
    assert [c["errcode"] for c in answer] == [0, 40131, 40096]
    assert transfer(corp, [mine])["customer"][0]["errcode"] == 40129
    assert transfer(corp, [other])["customer"][0]["errcode"] == 0
    started_from_c = transfer(corp, [other], handover="c", takeover="b")["customer"][0]
    assert started_from_c["errcode"] == 40100  # the same customer is already being transferred
    assert transfer(corp, [f"wm{i}" for i in range(101)])["errcode"] == 40058
    assert transfer(corp, [mine], transfer_success_msg="长" * 201)["errcode"] == 40058
    assert transfer(corp, [mine], takeover="ghost")["errcode"] == 40003


def test_two_transfers_in_90_days(corp: Corp) -> None:
    for userid in ("a", "b"):
        add_member(corp, userid)
    ext = customer_of(corp, "a")
    assert transfer(corp, [ext])["customer"][0]["errcode"] == 0
    advance(corp, DAY + 1)
    assert transfer(corp, [ext], handover="b", takeover="a")["customer"][0]["errcode"] == 0
    advance(corp, DAY + 1)
    assert transfer(corp, [ext])["customer"][0]["errcode"] == 40128
    advance(corp, 89 * DAY)
    assert transfer(corp, [ext])["customer"][0]["errcode"] == 0


def test_refusal_and_customer_limit(corp: Corp, receiver: Receiver) -> None:
    for userid in ("a", "b"):
        add_member(corp, userid)
    first, second = customer_of(corp, "a"), customer_of(corp, "a")
    customer_of(corp, "b")
    corp.control("members/b/customer_limit", {"limit": 1})
    transfer(corp, [first, second])
    corp.control("transfers/refuse", {"external_userid": first, "handover_userid": "a"})
    advance(corp, DAY + 1)
    statuses = {c["external_userid"]: (c["status"], c["takeover_time"]) for c in result(corp)}
    assert statuses[first] == (3, 0)
    assert statuses[second][0] == 4
    # Both customers stay with a.
    assert sorted(corp.get(EC + "list", userid="a")["external_userid"]) == sorted([first, second])
    wait(corp)
    fails = [e for e in receiver.received if e["ChangeType"] == "transfer_fail"]
    assert [(e["ExternalUserID"], e["FailReason"], e["UserID"]) for e in fails] == [
        (first, "customer_refused", "b"),
        (second, "customer_limit_exceed", "b"),
    ]


def test_resigned_transfer(corp: Corp, receiver: Receiver) -> None:
    for userid in ("a", "b"):
        add_member(corp, userid)
    first, second = customer_of(corp, "a"), customer_of(corp, "a")
    body = {"handover_userid": "a", "takeover_userid": "b", "external_userid": [first]}
    assert corp.post(EC + "resigned/transfer_customer", body)["errcode"] == 40097
    corp.control("members/a/leave")
    left_at = int(corp.http.get("/sim/clock").json()["now"])
    unassigned = corp.post(EC + "get_unassigned_list", {"page_size": 1})
    assert unassigned["info"][0]["handover_userid"] == "a" and not unassigned["is_last"]
    assert abs(unassigned["info"][0]["dimission_time"] - left_at) <= 1
    rest = corp.post(
        EC + "get_unassigned_list", {"page_size": 1, "cursor": unassigned["next_cursor"]}
    )
    assert rest["is_last"] and rest["next_cursor"] == ""
    started = corp.post(EC + "resigned/transfer_customer", body)
    assert started["customer"] == [{"external_userid": first, "errcode": 0}]
    pending = corp.post(EC + "get_unassigned_list", {})["info"]
    assert [i["external_userid"] for i in pending] == [second]
    assert result(corp, "resigned/transfer_result")[0]["status"] == 2
    advance(corp, DAY + 1)
    assert result(corp, "resigned/transfer_result")[0]["status"] == 1
    assert corp.get(EC + "get", external_userid=first)["follow_user"][0]["userid"] == "b"
    wait(corp)
    last = receiver.received[-1]
    assert last["ChangeType"] == "add_external_contact" and last["UserID"] == "b"
    assert not [e for e in receiver.received if e.get("Source") == "DELETE_BY_TRANSFER"]
    (record,) = corp.control("snapshot", method="GET")["transfers"]
    assert record["kind"] == "resigned" and record["status"] == 1
