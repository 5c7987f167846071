"""「联系我」 rules (API-FACTS §3.2)."""

from __future__ import annotations

import httpx

from .conftest import Corp, add_member


def test_contact_way_rules(http: httpx.Client, corp: Corp) -> None:
    add_member(corp, "a")
    add_member(corp, "b")
    add = "externalcontact/add_contact_way"
    assert corp.post(add, {"scene": 2, "user": ["a"]})["errcode"] == 41037
    assert corp.post(add, {"type": 1, "user": ["a"]})["errcode"] == 41038
    assert corp.post(add, {"type": 3, "scene": 2, "user": ["a"]})["errcode"] == 41039
    assert corp.post(add, {"type": 1, "scene": 2, "user": ["a", "b"]})["errcode"] == 40058
    assert corp.post(add, {"type": 1, "scene": 2, "user": ["ghost"]})["errcode"] == 40003
    assert (
        corp.post(add, {"type": 2, "scene": 2, "user": ["a"], "state": "s" * 31})["errcode"]
        == 40058
    )
    mini = corp.post(add, {"type": 1, "scene": 1, "user": ["a"]})
    assert mini["errcode"] == 0 and "qr_code" not in mini and len(mini["config_id"]) == 32
    qr = corp.post(
        add, {"type": 2, "scene": 2, "user": ["a"], "party": [1], "state": "ch1", "remark": "门店"}
    )
    assert qr["qr_code"].startswith(http.base_url.__str__().rstrip("/") + "/sim/qr/")
    assert http.get(qr["qr_code"]).status_code == 200
    way = corp.post("externalcontact/get_contact_way", {"config_id": qr["config_id"]})
    assert way["contact_way"]["state"] == "ch1" and way["contact_way"]["skip_verify"] is True
    assert (
        corp.post(
            "externalcontact/update_contact_way",
            {"config_id": qr["config_id"], "user": ["b"], "party": []},
        )["errcode"]
        == 0
    )
    way = corp.post("externalcontact/get_contact_way", {"config_id": qr["config_id"]})
    assert way["contact_way"]["user"] == ["b"] and way["contact_way"]["party"] == []
    listed = corp.post("externalcontact/list_contact_way", {"limit": 1})
    assert len(listed["contact_way"]) == 1 and listed["next_cursor"]
    rest = corp.post("externalcontact/list_contact_way", {"cursor": listed["next_cursor"]})
    assert {w["config_id"] for w in listed["contact_way"] + rest["contact_way"]} == {
        mini["config_id"],
        qr["config_id"],
    }
    assert (
        corp.post("externalcontact/del_contact_way", {"config_id": qr["config_id"]})["errcode"] == 0
    )
    gone = corp.post("externalcontact/get_contact_way", {"config_id": qr["config_id"]})
    assert gone["errcode"] == 41044
    assert corp.post("externalcontact/get_contact_way", {})["errcode"] == 41043


def test_at_most_100_members_after_expansion(corp: Corp) -> None:
    dept = corp.post("department/create", {"name": "大部门", "parentid": 1})["id"]
    for i in range(101):
        add_member(corp, f"m{i}", [dept])
    too_many = corp.post(
        "externalcontact/add_contact_way", {"type": 2, "scene": 2, "party": [dept]}
    )
    assert too_many["errcode"] == 41041
