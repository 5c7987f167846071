"""Segments in the console (list with live counts, editor with htmx count and preview, delete) and
the REST API (CRUD, ad-hoc count and preview): roles, data scope, tenancy, audit, bad input."""

from __future__ import annotations

import pytest
from django.urls import reverse

from qike.audit.models import AuditEntry
from qike.segments import services
from qike.segments.models import Segment
from tests.segments.conftest import access, api

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
HTMX = {"HTTP_HX_REQUEST": "true"}
VIP = {"tags_any": ["etVIP"]}


def _segment(world, name="VIP 客户", rules=None, owner=None) -> Segment:
    return services.create_segment(
        access=access(world, "ops"), name=name, rules=rules or VIP, owner_userid=owner
    )


# --- console -----------------------------------------------------------------------------------


def test_create_in_console_with_live_count(client, world):
    client.force_login(world.users["ops"])
    page = client.get(reverse("console:segment_new"), **ZH).content.decode()
    assert "新建分群" in page and "5 位客户" in page  # everyone active, before any rule

    post = {"name": "高价值", "owner": "li.lei", "tags_all": ["etVIP", "etNormal"]}
    preview = client.post(reverse("console:segment_preview"), post, **HTMX, **ZH)
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "2 位客户" in body and "赵六" in body and "吴晓" in body and "周杰" not in body

    answer = client.post(reverse("console:segment_new"), post, **ZH)
    segment = Segment.objects.get(corp=world.corp, name="高价值")
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "console:segment", args=[segment.pk]
    )
    assert segment.rules == {"tags_all": ["etVIP", "etNormal"]}
    assert segment.owner == world.staff["sales"]
    entry = AuditEntry.objects.get(action="segments.create")
    assert entry.via == "console" and entry.actor == "ops1" and entry.after["owner"] == "li.lei"

    listing = client.get(reverse("console:segments"), **ZH).content.decode()
    assert "高价值" in listing and reverse("console:segment_count", args=[segment.pk]) in listing
    count = client.get(reverse("console:segment_count", args=[segment.pk]), **ZH)
    assert "2 位客户" in count.content.decode()


def test_bad_rules_in_console_say_why_and_save_nothing(client, world):
    client.force_login(world.users["ops"])
    post = {"name": "坏分群", "tags_all": ["etVIP"], "tags_none": ["etVIP"]}
    answer = client.post(reverse("console:segment_new"), post)
    assert answer.status_code == 400
    assert "标签 etVIP 既被要求又被排除" in answer.content.decode()
    dates = {"name": "坏日期", "added_from": "2024-03-02", "added_to": "2024-03-01"}
    answer = client.post(reverse("console:segment_new"), dates)
    assert "结束日期早于开始日期。" in answer.content.decode()
    unnamed = client.post(reverse("console:segment_new"), {"tags_any": ["etVIP"]})
    assert unnamed.status_code == 400 and "请填写分群名称。" in unnamed.content.decode()
    preview = client.post(reverse("console:segment_preview"), {"added_within_days": "0"}, **HTMX)
    assert preview.status_code == 200 and 'role="alert"' in preview.content.decode()
    _segment(world, name="重复")
    taken = client.post(reverse("console:segment_new"), {"name": "重复"})
    assert "已有同名分群。" in taken.content.decode()
    assert Segment.objects.filter(corp=world.corp).count() == 1
    assert AuditEntry.objects.filter(action="segments.create").count() == 1


def test_edit_and_delete_in_console(client, world):
    segment = _segment(world)
    client.force_login(world.users["admin"])
    page = client.get(reverse("console:segment", args=[segment.pk]), **ZH).content.decode()
    assert "4 位客户" in page and 'value="etVIP" checked' in page
    answer = client.post(
        reverse("console:segment", args=[segment.pk]),
        {"name": "VIP 华北", "tags_any": ["etVIP"], "departments": ["2"]},
    )
    assert answer.status_code == 302
    segment.refresh_from_db()
    assert segment.name == "VIP 华北" and segment.rules == {
        "tags_any": ["etVIP"],
        "departments": [2],
    }
    change = AuditEntry.objects.get(action="segments.update")
    assert change.before == {"name": "VIP 客户", "rules": {"tags_any": ["etVIP"]}}
    assert change.after["rules"] == {"tags_any": ["etVIP"], "departments": [2]}
    client.post(reverse("console:segment_delete", args=[segment.pk]))
    assert not Segment.objects.filter(pk=segment.pk).exists()
    assert AuditEntry.objects.get(action="segments.delete").before["name"] == "VIP 华北"


def test_manager_sees_counts_in_scope_and_cannot_edit(client, world):
    segment = _segment(world)
    client.force_login(world.users["manager"])
    listing = client.get(reverse("console:segments"), **ZH).content.decode()
    assert "VIP 客户" in listing and "新建分群" not in listing
    count = client.get(reverse("console:segment_count", args=[segment.pk]), **ZH)
    assert "1 位客户" in count.content.decode()  # c1 only: c4 and c6 are outside 销售部
    page = client.get(reverse("console:segment", args=[segment.pk]), **ZH).content.decode()
    assert "周杰" in page and "钱多多" not in page and 'id="save-segment"' not in page
    assert (
        client.post(reverse("console:segment", args=[segment.pk]), {"name": "x"}).status_code == 403
    )
    assert client.post(reverse("console:segment_delete", args=[segment.pk])).status_code == 403
    assert client.post(reverse("console:segment_new"), {"name": "x"}).status_code == 403
    assert Segment.objects.get(pk=segment.pk).name == "VIP 客户"


def test_another_corps_segment_is_not_found(client, world):
    segment = _segment(world)
    client.force_login(world.users["outsider"])
    for name in ("console:segment", "console:segment_count"):
        assert client.get(reverse(name, args=[segment.pk])).status_code == 404
    assert client.post(reverse("console:segment_delete", args=[segment.pk])).status_code == 404
    assert "VIP 客户" not in client.get(reverse("console:segments")).content.decode()
    assert Segment.objects.filter(pk=segment.pk).exists()


# --- API ---------------------------------------------------------------------------------------


def test_api_crud_and_counts(world):
    ops = api(world, "ops", "read write")
    made = ops.post(
        "/segments",
        {"name": "近期 VIP", "owner": "zhang.san", "rules": {**VIP, "added_within_days": 30}},
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["rules"] == {"tags_any": ["etVIP"], "added_within_days": 30}
    pk = body["id"]
    got = ops.get(f"/segments/{pk}").json()
    assert got["count"] == 2 and got["owner"] == "zhang.san"  # c1 (3 days), c4 (10 days)
    preview = ops.get(f"/segments/{pk}/preview", limit=1).json()
    assert preview["count"] == 2 and [m["external_userid"] for m in preview["members"]] == ["wmc1"]
    assert [s["name"] for s in ops.get("/segments").json()] == ["近期 VIP"]

    counted = ops.post("/segments/count", {"rules": {"tags_all": ["etVIP", "etNormal"]}})
    assert counted.json() == {"count": 2}
    previewed = ops.post("/segments/preview", {"rules": {"states": ["lc-9"]}}).json()
    assert previewed["count"] == 1 and previewed["members"][0]["staff"] == "boss"

    changed = ops.put(
        f"/segments/{pk}", {"name": "全部 VIP", "rules": VIP, "description": "所有 VIP"}
    )
    assert changed.status_code == 200 and changed.json()["owner"] == ""
    assert ops.get(f"/segments/{pk}").json()["count"] == 4
    assert ops.delete(f"/segments/{pk}").status_code == 204
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", "via"))
    assert [a for a, _via in actions if a.startswith("segments.")] == [
        "segments.create",
        "segments.update",
        "segments.delete",
    ]
    assert {via for a, via in actions if a.startswith("segments.")} == {"api"}


def test_api_bad_rules(world):
    ops = api(world, "ops", "read write")
    answer = ops.post("/segments/count", {"rules": {"tags_any": ["etForeign"], "colour": 1}})
    assert answer.status_code == 400
    fields = answer.json()["details"]["fields"]
    assert "Unknown rule colour" in fields["rules"][0]
    bad = ops.post("/segments", {"name": "x", "rules": {"tags_any": ["etNope"]}})
    assert bad.status_code == 400 and bad.json()["details"]["fields"]["tags_any"] == [
        "Unknown: etNope."
    ]
    owner = ops.post("/segments", {"name": "x", "owner": "bob"})
    assert owner.status_code == 400 and "Unknown member bob" in owner.json()["message"]
    assert ops.post("/segments", {"name": ""}).status_code == 422
    assert not Segment.objects.exists()


def test_api_roles_scope_and_tenancy(world):
    segment = _segment(world)
    manager = api(world, "manager", "read write")
    assert manager.get(f"/segments/{segment.pk}").json()["count"] == 1
    assert manager.post("/segments/count", {"rules": {}}).json() == {"count": 2}
    assert manager.post("/segments", {"name": "mine"}).status_code == 403
    assert manager.delete(f"/segments/{segment.pk}").status_code == 403
    seller = api(world, "seller")
    assert seller.post("/segments/count", {"rules": {}}).json() == {"count": 1}
    reader = api(world, "ops")  # read scope only
    assert reader.post("/segments", {"name": "x"}).status_code == 403
    outsider = api(world, "outsider", "read write")
    assert outsider.get(f"/segments/{segment.pk}").status_code == 404
    assert outsider.get(f"/segments/{segment.pk}/preview").status_code == 404
    assert outsider.put(f"/segments/{segment.pk}", {"name": "taken"}).status_code == 404
    assert outsider.delete(f"/segments/{segment.pk}").status_code == 404
    assert outsider.get("/segments").json() == []
    assert Segment.objects.get(pk=segment.pk).name == "VIP 客户"


def _as_browser_posts(page: str) -> dict[str, list[str]]:
    """What submitting the editor as shown sends: the name and every checked box."""
    import html
    import re

    posted: dict[str, list[str]] = {}
    for tag in re.findall(r"<input [^>]*>", page):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        checked = " checked" in tag
        if (attrs.get("type") == "checkbox" and checked) or attrs.get("name") == "name":
            posted.setdefault(attrs["name"], []).append(html.unescape(attrs.get("value", "")))
    return posted


def test_a_personal_tag_in_the_rules_is_shown_and_kept_on_save(client, world):
    """The lists offer corp tags; a rule on a personal tag (saved through the API) must survive
    the console editor: shown checked under its own name, and saved again as it was."""
    rules = {"tags_any": ["etVIP", "etLost"]}
    segment = _segment(world, rules=rules)
    client.force_login(world.users["admin"])
    page = client.get(reverse("console:segment", args=[segment.pk]), **ZH).content.decode()
    assert "流失风险" in page  # the personal tag's name, not its id
    assert 'name="tags_any" value="etLost" checked' in page
    assert "etForeign" not in page and "别家" not in page  # another corp's tag is never offered

    posted = _as_browser_posts(page)
    assert posted["tags_any"] == ["etVIP", "etLost"]
    answer = client.post(reverse("console:segment", args=[segment.pk]), posted)
    assert answer.status_code == 302
    segment.refresh_from_db()
    assert segment.rules == {"tags_any": ["etVIP", "etLost"]}

    # The live preview posts the same boxes without the segment: the personal tag counts.
    preview = client.post(reverse("console:segment_preview"), posted, **ZH, **HTMX)
    assert preview.status_code == 200 and "error" not in preview.content.decode()
    only_lost = client.post(
        reverse("console:segment_preview"), {"tags_any": ["etLost"]}, **ZH, **HTMX
    ).content.decode()
    assert "1 位客户" in only_lost  # c3, through the personal tag

    # Unchecking it is how a user removes the rule.
    answer = client.post(
        reverse("console:segment", args=[segment.pk]), {"name": "VIP", "tags_any": ["etVIP"]}
    )
    segment.refresh_from_db()
    assert segment.rules == {"tags_any": ["etVIP"]}
    # Another corp's tag posted by hand is refused, and nothing is saved.
    answer = client.post(
        reverse("console:segment", args=[segment.pk]),
        {"name": "VIP", "tags_any": ["etVIP", "etForeign"]},
    )
    assert answer.status_code == 400
    segment.refresh_from_db()
    assert segment.rules == {"tags_any": ["etVIP"]}
