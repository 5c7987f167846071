"""Corp tag rules (API-FACTS §3.3) and change_external_tag for admin edits only."""

from __future__ import annotations

from wecomsim.server import SimServer

from .conftest import Corp, Receiver, wait


def test_add_reuses_group_and_collapses_duplicates(corp: Corp) -> None:
    first = corp.post(
        "externalcontact/add_corp_tag",
        {"group_name": "来源", "order": 5, "tag": [{"name": "官网"}, {"name": "官网"}]},
    )
    assert first["errcode"] == 0
    group = first["tag_group"]
    assert group["group_id"].startswith("et") and len(group["tag"]) == 1
    again = corp.post(
        "externalcontact/add_corp_tag",
        {"group_name": "来源", "tag": [{"name": "官网"}, {"name": "展会"}]},
    )
    assert again["tag_group"]["group_id"] == group["group_id"]
    names = {t["name"]: t["id"] for t in again["tag_group"]["tag"]}
    assert set(names) == {"官网", "展会"} and names["官网"] == group["tag"][0]["id"]
    by_id = corp.post(
        "externalcontact/add_corp_tag",
        {"group_id": group["group_id"], "group_name": "ignored", "tag": [{"name": "抖音"}]},
    )
    assert by_id["tag_group"]["group_name"] == "来源"
    assert (
        corp.post("externalcontact/add_corp_tag", {"group_name": "空", "tag": []})["errcode"]
        == 40058
    )
    library = corp.post("externalcontact/get_corp_tag_list", {})["tag_group"]
    assert len(library) == 1 and len(library[0]["tag"]) == 3
    only = corp.post("externalcontact/get_corp_tag_list", {"tag_id": [group["tag"][0]["id"]]})
    assert [t["name"] for t in only["tag_group"][0]["tag"]] == ["官网"]


def test_edit_and_delete_rules(corp: Corp) -> None:
    group = corp.post(
        "externalcontact/add_corp_tag",
        {"group_name": "等级", "tag": [{"name": "A"}, {"name": "B"}]},
    )["tag_group"]
    ids = {t["name"]: t["id"] for t in group["tag"]}
    a, b = ids["A"], ids["B"]
    assert corp.post("externalcontact/edit_corp_tag", {"id": a, "name": "B"})["errcode"] == 40071
    assert corp.post("externalcontact/edit_corp_tag", {"id": a, "name": "A+"})["errcode"] == 0
    assert (
        corp.post("externalcontact/edit_corp_tag", {"id": "etnope", "name": "x"})["errcode"]
        == 40068
    )
    assert corp.post("externalcontact/del_corp_tag", {})["errcode"] == 40058
    assert corp.post("externalcontact/del_corp_tag", {"tag_id": [a]})["errcode"] == 0
    assert corp.post("externalcontact/del_corp_tag", {"tag_id": [b]})["errcode"] == 0
    # The group went with its last tag.
    assert corp.post("externalcontact/get_corp_tag_list", {})["tag_group"] == []


def test_apps_edit_only_their_own_tags(corp: Corp) -> None:
    admin = corp.control("admin/tags", {"group_name": "行业", "tags": ["教育"]})["tag_group"]
    tag_id = admin["tag"][0]["id"]
    assert (
        corp.post("externalcontact/edit_corp_tag", {"id": tag_id, "name": "x"})["errcode"] == 301002
    )
    assert corp.post("externalcontact/del_corp_tag", {"tag_id": [tag_id]})["errcode"] == 301002


def test_tag_limit(sim: SimServer, corp: Corp) -> None:
    tags = [{"name": f"t{i}"} for i in range(3000)]
    assert (
        corp.post("externalcontact/add_corp_tag", {"group_name": "多", "tag": tags})["errcode"] == 0
    )
    over = corp.post("externalcontact/add_corp_tag", {"group_name": "再", "tag": [{"name": "x"}]})
    assert over["errcode"] == 40126


def test_admin_edits_call_back_api_edits_do_not(corp: Corp, receiver: Receiver) -> None:
    corp.post("externalcontact/add_corp_tag", {"group_name": "API组", "tag": [{"name": "a"}]})
    group = corp.control("admin/tags", {"group_name": "后台组", "tags": ["x", "y"]})["tag_group"]
    corp.control("admin/tags", {"group_name": "后台组", "tags": ["z"]})
    library = corp.post("externalcontact/get_corp_tag_list", {"group_id": [group["group_id"]]})
    ids = {t["name"]: t["id"] for t in library["tag_group"][0]["tag"]}
    x, y, z = ids["x"], ids["y"], ids["z"]
    corp.control(f"admin/tags/{x}/rename", {"name": "x2"})
    corp.control(f"admin/tags/{group['group_id']}/delete")
    wait(corp)
    got = [(e["ChangeType"], e["TagType"], e["Id"]) for e in receiver.received]
    assert got == [
        ("create", "tag_group", group["group_id"]),
        ("create", "tag", z),
        ("update", "tag", x),
        ("delete", "tag_group", group["group_id"]),
    ]
    assert all(e["Event"] == "change_external_tag" for e in receiver.received)
    assert y
