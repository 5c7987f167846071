"""gettoken, token expiry on the sim clock, and WeCom-shaped errors."""

from __future__ import annotations

import httpx

from .conftest import Corp


def test_gettoken_errors(http: httpx.Client, corp: Corp) -> None:
    def get(**params: str) -> dict:
        return http.get("/cgi-bin/gettoken", params=params).json()

    assert get(corpid="wwnope", corpsecret="x")["errcode"] == 40013
    assert get(corpid=corp.corpid, corpsecret="wrong")["errcode"] == 40001
    assert get(corpsecret="x")["errcode"] == 41002
    ok = get(corpid=corp.corpid, corpsecret=corp.secret)
    assert ok["errcode"] == 0 and ok["errmsg"] == "ok"
    assert ok["access_token"] == corp.token  # same token while valid
    assert 0 < ok["expires_in"] <= 7200


def test_token_expires_on_sim_clock(http: httpx.Client, corp: Corp) -> None:
    assert corp.get("externalcontact/get_follow_user_list")["errcode"] == 0
    http.post("/sim/clock/advance", json={"seconds": 7201})
    assert corp.get("externalcontact/get_follow_user_list")["errcode"] == 42001
    fresh = http.get(
        "/cgi-bin/gettoken", params={"corpid": corp.corpid, "corpsecret": corp.secret}
    ).json()
    assert fresh["access_token"] != corp.token and fresh["expires_in"] == 7200
    corp.token = fresh["access_token"]
    assert corp.get("externalcontact/get_follow_user_list")["errcode"] == 0


def test_forced_expiry_and_bad_tokens(http: httpx.Client, corp: Corp) -> None:
    corp.control("tokens/expire")
    assert corp.get("user/get", userid="x")["errcode"] == 42001
    assert corp.get("user/get", userid="x", access_token="nonsense")["errcode"] == 40014
    assert http.get("/cgi-bin/user/get", params={"userid": "x"}).json()["errcode"] == 41001


def test_malformed_json_and_unknown_path(http: httpx.Client, corp: Corp) -> None:
    response = http.post(
        "/cgi-bin/externalcontact/remark", params={"access_token": corp.token}, content=b"{not json"
    )
    body = response.json()
    assert response.status_code == 200
    assert body["errcode"] == 47001 and "Warning: wrong json format." in body["errmsg"]
    missing = http.get("/cgi-bin/no/such/api", params={"access_token": corp.token})
    assert missing.status_code == 404 and missing.json()["errcode"] != 0


def test_departments(corp: Corp) -> None:
    made = corp.post("department/create", {"name": "销售部", "parentid": 1})
    assert made["errcode"] == 0 and made["errmsg"] == "created"
    assert corp.post("department/create", {"name": "销售部", "parentid": 1})["errcode"] == 60008
    assert corp.post("department/create", {"name": "x", "parentid": 999})["errcode"] == 60004
    parent = made["id"]
    for level in range(3, 16):  # root is level 1, 销售部 level 2; fill up to level 15
        parent = corp.post("department/create", {"name": f"L{level}", "parentid": parent})["id"]
    too_deep = corp.post("department/create", {"name": "L16", "parentid": parent})
    assert too_deep["errcode"] == 60002
    subtree = corp.get("department/list", id=made["id"])["department"]
    assert [d["name"] for d in subtree][:2] == ["销售部", "L3"] and len(subtree) == 14
    assert len(corp.get("department/list")["department"]) == 15


def test_members_and_user_lists(corp: Corp) -> None:
    dept = corp.post("department/create", {"name": "客服部", "parentid": 1})["id"]
    corp.control(
        "members",
        {
            "userid": "lisi",
            "name": "李四",
            "department": [dept],
            "mobile": "13800000000",
            "gender": "2",
        },
    )
    user = corp.get("user/get", userid="lisi")
    assert user["gender"] == "2" and user["status"] == 1 and user["main_department"] == dept
    assert user["department"] == [dept] and user["order"] == [0]
    assert corp.get("user/simplelist", department_id=1)["userlist"] == []
    children = corp.get("user/simplelist", department_id=1, fetch_child=1)["userlist"]
    assert children == [{"userid": "lisi", "name": "李四", "department": [dept]}]
    assert corp.get("user/list", department_id=dept)["userlist"][0]["mobile"] == "13800000000"
    corp.control("members/lisi/leave")
    assert corp.get("user/get", userid="lisi")["errcode"] == 60111


def test_moving_a_member_can_make_them_a_department_leader(corp: Corp) -> None:
    dept = corp.post("department/create", {"name": "销售部", "parentid": 1})["id"]
    corp.control("members", {"userid": "wangwu", "name": "王五", "department": [1]})
    corp.control("members/wangwu/move", {"department": [1, dept], "is_leader_in_dept": [0, 1]})
    user = corp.get("user/get", userid="wangwu")
    assert user["department"] == [1, dept] and user["is_leader_in_dept"] == [0, 1]
    assert corp.get("department/get", id=dept)["department"]["department_leader"] == ["wangwu"]

    url = f"/sim/corps/{corp.corpid}/members/wangwu/move"
    for bad in ([1], [0, 2], "1,0", ["x", 1]):
        answer = corp.http.post(url, json={"department": [1, dept], "is_leader_in_dept": bad})
        assert answer.status_code == 400 and "is_leader_in_dept" in answer.text
    assert corp.get("user/get", userid="wangwu")["is_leader_in_dept"] == [0, 1]  # unchanged
