"""Customer reads: batch/get_by_user pagination, get's follow_user cursor, 84061, remark, mark_tag."""

from __future__ import annotations

import json

import httpx

from wecomsim.server import SimServer

from .conftest import Corp, add_member, new_corp


def seeded(http: httpx.Client, **sizes: int) -> Corp:
    data = http.post("/sim/seed", json={"seed": 3, **sizes}).json()
    corp = Corp(data["corpid"], data["secret"], data["agentid"], http)
    corp.token = http.get(
        "/cgi-bin/gettoken", params={"corpid": corp.corpid, "corpsecret": corp.secret}
    ).json()["access_token"]
    return corp


def pull_all(corp: Corp, users: list[str], limit: int) -> list[tuple[str, str]]:
    seen, cursor, pages = [], "", 0
    while True:
        page = corp.post(
            "externalcontact/batch/get_by_user",
            {"userid_list": users, "cursor": cursor, "limit": limit},
        )
        assert page["errcode"] == 0, page
        assert len(page["external_contact_list"]) <= limit
        for entry in page["external_contact_list"]:
            assert set(entry["follow_info"]) >= {
                "userid",
                "remark",
                "createtime",
                "tag_id",
                "remark_mobiles",
                "oper_userid",
                "add_way",
            }
            seen.append(
                (entry["external_contact"]["external_userid"], entry["follow_info"]["userid"])
            )
        cursor, pages = page["next_cursor"], pages + 1
        if not cursor:
            return seen


def test_batch_get_by_user_pages_match_snapshot(http: httpx.Client) -> None:
    corp = seeded(http, departments=8, staff=12, customers=700)
    users = corp.get("externalcontact/get_follow_user_list")["follow_user"]
    got = pull_all(corp, users, limit=37)
    assert len(got) == len(set(got))  # no duplicates across pages
    snap = corp.control("snapshot", method="GET")
    expected = {
        (c["external_userid"], f["userid"]) for c in snap["customers"] for f in c["follow_users"]
    }
    assert set(got) == expected
    default_page = corp.post("externalcontact/batch/get_by_user", {"userid_list": users})
    assert len(default_page["external_contact_list"]) == 50  # default limit
    big = corp.post("externalcontact/batch/get_by_user", {"userid_list": users, "limit": 1000})
    assert len(big["external_contact_list"]) == 100  # capped at 100
    too_many = corp.post("externalcontact/batch/get_by_user", {"userid_list": ["u"] * 101})
    assert too_many["errcode"] == 40058
    unknown = corp.post("externalcontact/batch/get_by_user", {"userid_list": ["ghost"]})
    assert unknown["errcode"] == 40003


def test_list_84061_and_get_detail(corp: Corp) -> None:
    add_member(corp, "wangwu")
    assert corp.get("externalcontact/list", userid="wangwu")["errcode"] == 84061
    added = corp.control(
        "customers/add",
        {"userid": "wangwu", "customer": {"name": "客户乙"}, "add_way": 2, "state": "phone"},
    )
    ext = added["external_userid"]
    assert ext.startswith(("wm", "wo")) and len(ext) == 32
    assert corp.get("externalcontact/list", userid="wangwu")["external_userid"] == [ext]
    detail = corp.get("externalcontact/get", external_userid=ext)
    assert detail["external_contact"]["name"] == "客户乙"
    follow = detail["follow_user"][0]
    assert follow["userid"] == "wangwu" and follow["add_way"] == 2
    assert follow["oper_userid"] == "wangwu" and follow["state"] == "phone"
    assert detail["next_cursor"] == ""
    assert corp.get("externalcontact/get", external_userid="wmnope")["errcode"] == 40096


def test_get_follow_user_cursor_past_500(sim: SimServer, http: httpx.Client) -> None:
    corp = new_corp(http)
    # 520 members following one customer: built directly in the store for speed.
    now = sim.state.now()
    with sim.state.tx() as db:
        db.execute(
            "INSERT INTO customers (corpid, external_userid, name, created_at) VALUES (?, ?, ?, ?)",
            (corp.corpid, "wm" + "x" * 30, "大客户", now),
        )
        for i in range(520):
            db.execute(
                "INSERT INTO users (corpid, userid, name, departments, orders, is_leader, "
                "main_department, created_at) VALUES (?, ?, ?, '[1]', '[0]', '[0]', 1, ?)",
                (corp.corpid, f"u{i:03d}", f"成员{i}", now + i),
            )
            db.execute(
                "INSERT INTO follows (corpid, userid, external_userid, status, createtime) "
                "VALUES (?, ?, ?, 'active', ?)",
                (corp.corpid, f"u{i:03d}", "wm" + "x" * 30, now),
            )
    ext = "wm" + "x" * 30
    first = corp.get("externalcontact/get", external_userid=ext)
    assert len(first["follow_user"]) == 500 and first["next_cursor"]
    second = corp.get("externalcontact/get", external_userid=ext, cursor=first["next_cursor"])
    assert len(second["follow_user"]) == 20 and second["next_cursor"] == ""
    users = {f["userid"] for f in first["follow_user"] + second["follow_user"]}
    assert len(users) == 520


def test_remark_and_mark_tag(corp: Corp) -> None:
    add_member(corp, "zhao")
    ext = corp.control("customers/add", {"userid": "zhao", "customer": {}})["external_userid"]
    base = {"userid": "zhao", "external_userid": ext}
    assert corp.post("externalcontact/remark", base)["errcode"] == 40058  # nothing to change
    assert corp.post("externalcontact/remark", {**base, "remark": "x" * 21})["errcode"] == 40058
    ok = corp.post(
        "externalcontact/remark", {**base, "remark": "老客户", "remark_mobiles": ["13900000000"]}
    )
    assert ok["errcode"] == 0
    group = corp.post(
        "externalcontact/add_corp_tag", {"group_name": "等级", "tag": [{"name": "A"}]}
    )["tag_group"]
    tag_id = group["tag"][0]["id"]
    assert corp.post("externalcontact/mark_tag", base)["errcode"] == 40058
    assert (
        corp.post("externalcontact/mark_tag", {**base, "add_tag": ["etnope"]})["errcode"] == 40068
    )
    assert corp.post("externalcontact/mark_tag", {**base, "add_tag": [tag_id]})["errcode"] == 0
    follow = corp.get("externalcontact/get", external_userid=ext)["follow_user"][0]
    assert follow["remark"] == "老客户" and follow["remark_mobiles"] == ["13900000000"]
    assert follow["tags"] == [{"group_name": "等级", "tag_name": "A", "tag_id": tag_id, "type": 1}]
    corp.post("externalcontact/remark", {**base, "remark_mobiles": [""]})
    follow = corp.get("externalcontact/get", external_userid=ext)["follow_user"][0]
    assert follow["remark_mobiles"] == []
    # API changes send no callbacks (doc 96361); only the add did (no URL: logged as dropped).
    events = corp.control("deliveries", method="GET")
    assert [e["change_type"] for e in events] == ["create_user", "add_external_contact"]
    assert json.dumps(events)  # serialisable


def test_member_deleted_vs_customer_deleted(corp: Corp) -> None:
    add_member(corp, "qian")
    ext = corp.control("customers/add", {"userid": "qian", "customer": {}})["external_userid"]
    corp.control(f"customers/{ext}/delete_member", {"userid": "qian"})
    # One-way: the member still has the customer, the APIs keep working.
    assert corp.get("externalcontact/list", userid="qian")["external_userid"] == [ext]
    corp.control("members/qian/delete_customer", {"external_userid": ext})
    assert corp.get("externalcontact/list", userid="qian")["errcode"] == 84061
    assert corp.get("externalcontact/get", external_userid=ext)["errcode"] == 84061
