"""Console pages and the REST API of the lifecycle on the console's small corp: the board (drag =
an htmx POST; "move to" = a plain form), the list with the customer filters, the pipeline editor,
follow-ups, the funnel's numbers; roles, data scope, tenancy; bad input writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from qike.api import services as api_services
from qike.audit.models import AuditEntry
from qike.core import clock
from qike.customers.models import TimelineEntry, TimelineKind
from qike.lifecycle import queries, services
from qike.lifecycle.models import FollowUp, RelationStage, Stage, StageChange
from qike.org.access import access_for
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
HTMX = {"HTTP_HX_REQUEST": "true"}


def _stage(world, name: str) -> Stage:
    services.ensure_pipeline(world.corp)
    return Stage.objects.get(corp=world.corp, name=name, retired_at__isnull=True)


def _rel(world, customer: str, staff: str):
    return world.relations[(customer, staff)]


def _access(world, key: str):
    corp = world.other if key == "outsider" else world.corp
    return access_for(world.users[key], corp)


def _api(world, key: str, scopes: str = "read") -> Api:
    corp = world.other if key == "outsider" else world.corp
    admin_user = world.users["outsider" if key == "outsider" else "admin"]
    _token, secret = api_services.create_token(
        access=access_for(admin_user, corp), user=world.users[key], name="t", scopes=scopes
    )
    return Api(secret)


def _card_ids(page: str, stage: Stage) -> set[str]:
    column = page.split(f'id="stage-{stage.pk}"')[1].split("</section>")[0]
    return {part.split('"')[0] for part in column.split('id="card-')[1:]}


# --- the board ---------------------------------------------------------------------------------


def test_board_drag_and_move_to(client, world):
    client.force_login(world.users["ops"])
    page = client.get(reverse("console:lifecycle_board"), **ZH).content.decode()
    assert "客户看板" in page and "移动到" in page
    new, talk, keen = _stage(world, "新客户"), _stage(world, "初步沟通"), _stage(world, "意向客户")
    for name in ("新客户", "初步沟通", "意向客户", "付款客户", "续费客户", "无意向客户"):
        assert name in page
    active = {str(r.pk) for key, r in world.relations.items() if key != ("c4", "sales")}
    active -= {str(_rel(world, "cb", "other").pk)}
    assert _card_ids(page, new) == active  # the deleted relation is not on the board

    # Drag: an htmx POST, answered 204.
    c2 = _rel(world, "c2", "north")
    url = reverse("console:lifecycle_move", args=[c2.pk])
    answer = client.post(url, {"stage": keen.pk}, **HTMX)
    assert answer.status_code == 204
    change = StageChange.objects.get(relation=c2)
    assert (change.from_stage, change.to_stage, change.actor) == (new, keen, "ops1")
    entry = TimelineEntry.objects.get(customer=c2.customer, kind=TimelineKind.STAGE_CHANGED)
    assert entry.data == {"from": "新客户", "to": "意向客户"} and entry.actor == "ops1"
    audit = AuditEntry.objects.get(action="lifecycle.stage_move")
    assert audit.via == "console" and audit.after["stage"] == "意向客户"
    detail = client.get(reverse("console:customer_detail", args=["wmc2"]), **ZH).content.decode()
    assert "阶段变更" in detail and "新客户 → <strong>意向客户</strong>" in detail

    # "Move to": a plain form, back to where the user was.
    back = reverse("console:lifecycle_board") + "?q=%E5%90%B4"  # 吴
    answer = client.post(url, {"stage": talk.pk, "next": back})
    assert answer.status_code == 302 and answer["Location"] == back
    page = client.get(back, **ZH).content.decode()
    assert _card_ids(page, talk) == {str(c2.pk)} and _card_ids(page, new) == set()
    assert StageChange.objects.filter(relation=c2).count() == 2

    # Bad input writes nothing: an unknown stage, another corp's stage, no stage, a foreign URL.
    other_stage = services.first_stage(world.other)
    for body in ({"stage": 999999}, {"stage": other_stage.pk}, {"stage": "x"}, {}):
        answer = client.post(url, body, **HTMX)
        assert answer.status_code == 400, body
    answer = client.post(url, {"stage": 999999, "next": "https://evil.example/"})
    assert answer["Location"] == reverse("console:lifecycle_board")
    assert StageChange.objects.count() == 2 and AuditEntry.objects.count() == 2
    # A relation the customer ended cannot be moved.
    lost = _rel(world, "c4", "sales")
    answer = client.post(
        reverse("console:lifecycle_move", args=[lost.pk]), {"stage": keen.pk}, **HTMX
    )
    assert answer.status_code == 400 and not RelationStage.objects.filter(relation=lost).exists()


def test_board_scope_and_tenancy(client, world):
    new = _stage(world, "新客户")
    client.force_login(world.users["seller"])  # han.mei: her own customers only
    page = client.get(reverse("console:lifecycle_board")).content.decode()
    assert _card_ids(page, new) == {str(_rel(world, "c2", "north").pk)}
    c1 = _rel(world, "c1", "sales")
    answer = client.post(reverse("console:lifecycle_move", args=[c1.pk]), {"stage": new.pk})
    assert answer.status_code == 403

    client.force_login(world.users["manager"])  # li.lei: the sales department's subtree
    page = client.get(reverse("console:lifecycle_board")).content.decode()
    assert _card_ids(page, new) == {str(c1.pk), str(_rel(world, "c2", "north").pk)}

    client.force_login(world.users["outsider"])
    answer = client.post(reverse("console:lifecycle_move", args=[c1.pk]), {"stage": new.pk})
    assert answer.status_code == 404
    assert client.get(reverse("console:lifecycle_relation", args=[c1.pk])).status_code == 404
    assert not StageChange.objects.exists()


def test_list_uses_the_customer_filters(client, world):
    ops = _access(world, "ops")
    keen = _stage(world, "意向客户")
    services.move(access=ops, relation=_rel(world, "c1", "sales"), stage=keen)
    client.force_login(world.users["ops"])
    url = reverse("console:lifecycle_list")
    page = client.get(url, {"stage": keen.pk}).content.decode()
    assert (
        page.count('id="relation-') == 1
        and f'id="relation-{_rel(world, "c1", "sales").pk}"' in page
    )
    page = client.get(url, {"tags": ["etVIP"]}).content.decode()
    assert page.count('id="relation-') == 2  # c1 (sales) and c4 (service)
    page = client.get(
        url, {"tags": ["etVIP"], "stage": _stage(world, "新客户").pk}
    ).content.decode()
    assert page.count('id="relation-') == 1
    assert client.get(url, {"stage": 999999}).status_code == 400
    assert (
        client.get(url, {"added_from": "2030-01-02", "added_to": "2030-01-01"}).status_code == 400
    )


# --- the pipeline ------------------------------------------------------------------------------


def test_pipeline_editing(client, world):
    client.force_login(world.users["seller"])
    assert client.get(reverse("console:lifecycle_pipeline")).status_code == 403
    client.force_login(world.users["ops"])
    url = reverse("console:lifecycle_pipeline")
    assert "新客户" in client.get(url, **ZH).content.decode()

    answer = client.post(url, {"name": "样品试用", "stale_days": "3"})
    assert answer.status_code == 302
    trial = Stage.objects.get(corp=world.corp, name="样品试用")
    assert trial.stale_days == 3 and not trial.is_exit
    # Bad input writes nothing: a taken name, no name, days out of range.
    count = Stage.objects.count()
    for body in ({"name": "新客户"}, {"name": " "}, {"name": "x", "stale_days": "0"}):
        assert client.post(url, body).status_code == 400, body
    assert Stage.objects.count() == count

    act = lambda stage, action, **body: client.post(  # noqa: E731
        reverse("console:lifecycle_stage", args=[stage.pk, action]), body
    )
    new = _stage(world, "新客户")
    act(new, "save", name="新线索", stale_days="5")
    new.refresh_from_db()
    assert (new.name, new.stale_days) == ("新线索", 5)
    act(trial, "up")
    order = [s.name for s in services.stages(world.corp)]
    assert order.index("样品试用") == order.index("续费客户") - 1

    # A stage holding customers can be neither retired nor deleted; an unused one is deleted; a
    # used one only retired.
    act(new, "retire")
    act(new, "delete")
    assert Stage.objects.get(pk=new.pk).retired_at is None
    act(trial, "delete")
    assert not Stage.objects.filter(pk=trial.pk).exists()
    ops = _access(world, "ops")
    paid = _stage(world, "付款客户")
    c1 = _rel(world, "c1", "sales")
    services.move(access=ops, relation=c1, stage=paid)
    services.move(access=ops, relation=c1, stage=_stage(world, "续费客户"))
    act(paid, "delete")
    assert Stage.objects.filter(pk=paid.pk).exists()
    act(paid, "retire")
    paid.refresh_from_db()
    assert paid.retired_at is not None and paid.name not in [
        s.name for s in services.stages(world.corp)
    ]
    assert StageChange.objects.filter(to_stage=paid).exists()  # history stays readable
    actions = set(
        AuditEntry.objects.filter(action__startswith="lifecycle.stage_").values_list(
            "action", flat=True
        )
    )
    assert {
        "lifecycle.stage_create",
        "lifecycle.stage_update",
        "lifecycle.stage_delete",
        "lifecycle.stage_retire",
    } <= actions
    assert AuditEntry.objects.filter(action="lifecycle.pipeline_reorder").exists()


# --- follow-ups --------------------------------------------------------------------------------


def test_follow_ups_in_the_console(client, world):
    c2 = _rel(world, "c2", "north")
    url = reverse("console:lifecycle_relation", args=[c2.pk])
    client.force_login(world.users["seller"])
    tomorrow = (services.local_today() + dt.timedelta(days=1)).isoformat()
    answer = client.post(url, {"kind": "call", "content": "约了周五面谈", "next_on": tomorrow})
    assert answer.status_code == 302
    item = FollowUp.objects.get()
    assert (item.kind, item.author, item.next_on.isoformat()) == ("call", "han.mei", tomorrow)
    page = client.get(url, **ZH).content.decode()
    assert "约了周五面谈" in page and "新客户" in page
    detail = client.get(reverse("console:customer_detail", args=["wmc2"]), **ZH).content.decode()
    assert url in detail and "约了周五面谈" in detail  # the timeline and the stage summary

    # Bad input writes nothing.
    yesterday = (services.local_today() - dt.timedelta(days=1)).isoformat()
    for body in (
        {"kind": "call", "content": "  "},
        {"kind": "fax", "content": "x"},
        {"kind": "note", "content": "x", "next_on": yesterday},
        {"kind": "note", "content": "x" * 2001},
    ):
        assert client.post(url, body).status_code == 400, body
    assert FollowUp.objects.count() == 1

    edit = reverse("console:lifecycle_follow_up", args=[item.pk, "save"])
    client.post(edit, {"kind": "visit", "content": "改为上门", "next_on": ""})
    item.refresh_from_db()
    assert (item.kind, item.content, item.next_on) == ("visit", "改为上门", None)
    entry = TimelineEntry.objects.get(kind=TimelineKind.FOLLOW_UP)
    assert entry.data["text"] == "改为上门" and entry.data["kind"] == "visit"

    # Another member's follow-up: outside a seller's scope; the manager may edit it.
    client.force_login(world.users["manager"])
    client.post(edit, {"kind": "visit", "content": "经理补充", "next_on": ""})
    assert FollowUp.objects.get().content == "经理补充"
    client.force_login(world.users["outsider"])
    assert (
        client.post(reverse("console:lifecycle_follow_up", args=[item.pk, "delete"])).status_code
        == 404
    )
    client.force_login(world.users["seller"])
    client.post(reverse("console:lifecycle_follow_up", args=[item.pk, "delete"]))
    assert not FollowUp.objects.exists()
    assert not TimelineEntry.objects.filter(kind=TimelineKind.FOLLOW_UP).exists()
    actions = list(
        AuditEntry.objects.filter(action__startswith="lifecycle.follow_up").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == sorted(
        [
            "lifecycle.follow_up_create",
            "lifecycle.follow_up_update",
            "lifecycle.follow_up_update",
            "lifecycle.follow_up_delete",
        ]
    )


def test_staff_change_only_their_own_follow_ups(world):
    c1 = _rel(world, "c1", "sales")
    manager = _access(world, "manager")
    item = services.add_follow_up(access=manager, relation=c1, kind="note", content="经理记录")
    from django.contrib.auth.models import User

    from qike.org.models import Membership, Role

    other = User.objects.create_user("li.staff")
    Membership.objects.create(
        user=other, corp=world.corp, role=Role.STAFF, staff=world.staff["sales"]
    )
    with pytest.raises(Exception) as caught:
        services.delete_follow_up(access=access_for(other, world.corp), follow_up=item)
    assert "own" in str(caught.value)
    assert FollowUp.objects.filter(pk=item.pk).exists()


# --- the funnel --------------------------------------------------------------------------------


def test_funnel_numbers(world):
    ops = _access(world, "ops")
    names = ["新客户", "初步沟通", "意向客户", "付款客户"]
    stage = {n: _stage(world, n) for n in [*names, "无意向客户"]}
    c1, c2 = _rel(world, "c1", "sales"), _rel(world, "c2", "north")
    services.move(access=ops, relation=c1, stage=stage["初步沟通"])
    services.move(access=ops, relation=c2, stage=stage["初步沟通"])
    clock.advance(2 * 86400)
    services.move(access=ops, relation=c1, stage=stage["意向客户"])
    clock.advance(86400)
    services.move(access=ops, relation=c1, stage=stage["付款客户"])
    services.move(access=ops, relation=c2, stage=stage["无意向客户"])  # left after 3 days talking

    from qike.customers.queries import CustomerFilter

    data = queries.funnel(ops, CustomerFilter(status="active"))
    rows = {s.stage.name: s for s in data.stages}
    assert data.total == 4
    assert [rows[n].count for n in names] == [2, 0, 0, 1] and rows["无意向客户"].count == 1
    assert [rows[n].reached for n in names] == [4, 2, 1, 1]
    assert [rows[n].conversion for n in names] == [None, 50.0, 50.0, 100.0]
    assert rows["初步沟通"].avg_days == 2.5 and rows["初步沟通"].stays == 2  # 2 days and 3 days
    assert rows["意向客户"].avg_days == 1.0
    by_staff = {r.key: r for r in data.by_staff}
    assert (
        by_staff["zhang.san"].counts == {stage["新客户"].pk: 2}
        and by_staff["zhang.san"].label == "张三"
    )
    by_channel = {r.key: r for r in data.by_channel}
    assert by_channel["spring-fair"].counts == {stage["付款客户"].pk: 1}
    by_way = {r.key: r for r in data.by_add_way}
    assert by_way["16"].label == "acquisition link" and by_way["1"].total == 2

    # Scope: the seller's funnel counts only her own customer.
    seller = _access(world, "seller")
    mine = queries.funnel(seller, CustomerFilter())
    assert mine.total == 1 and {r.key for r in mine.by_staff} == {"han.mei"}


# --- the API -----------------------------------------------------------------------------------


def test_api_stage_board_funnel_and_follow_ups(world):
    api = _api(world, "ops", "write")
    stages = api.get("/lifecycle/stages").json()
    assert [s["name"] for s in stages][:2] == ["新客户", "初步沟通"] and stages[-1]["is_exit"]
    keen = next(s for s in stages if s["name"] == "意向客户")
    c1 = _rel(world, "c1", "sales")

    answer = api.get(f"/relations/{c1.pk}/stage").json()
    assert answer["stage"]["name"] == "新客户"
    answer = api.client.put(
        f"/api/v1/relations/{c1.pk}/stage",
        {"stage_id": keen["id"]},
        content_type="application/json",
        **api._headers(),
    )
    assert answer.status_code == 200 and answer.json()["stage"]["name"] == "意向客户"
    history = api.get(f"/relations/{c1.pk}/stage-history").json()
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [("新客户", "意向客户")]
    assert AuditEntry.objects.get(action="lifecycle.stage_move").via == "api"

    board = api.get("/lifecycle/board", cards=1).json()
    counts = {c["stage"]["name"]: c["count"] for c in board}
    assert counts["新客户"] == 3 and counts["意向客户"] == 1
    assert all(len(c["cards"]) <= 1 for c in board)
    listed = api.get("/lifecycle/relations", stage_id=keen["id"]).json()
    assert [i["relation_id"] for i in listed["items"]] == [c1.pk] and listed["total"] == 1
    funnel = api.get("/lifecycle/funnel", status="active").json()
    assert {s["stage"]["name"]: s["reached"] for s in funnel["stages"]}["意向客户"] == 1

    # Follow-ups CRUD.
    created = api.post(f"/relations/{c1.pk}/follow-ups", {"kind": "note", "content": "API 记录"})
    assert created.status_code == 201, created.content
    item = created.json()
    assert api.get(f"/relations/{c1.pk}/follow-ups").json()[0]["content"] == "API 记录"
    changed = api.client.put(
        f"/api/v1/follow-ups/{item['id']}",
        {
            "kind": "call",
            "content": "改过",
            "next_on": (services.local_today() + dt.timedelta(days=3)).isoformat(),
        },
        content_type="application/json",
        **api._headers(),
    )
    assert changed.status_code == 200 and changed.json()["kind"] == "call"
    assert api.delete(f"/follow-ups/{item['id']}").status_code == 204
    assert not FollowUp.objects.exists()

    # Stages through the API.
    made = api.post("/lifecycle/stages", {"name": "复购", "stale_days": 30})
    assert made.status_code == 201 and made.json()["stale_days"] == 30
    assert api.delete(f"/lifecycle/stages/{made.json()['id']}").status_code == 204


def test_api_bad_input_roles_and_tenancy(world):
    c1 = _rel(world, "c1", "sales")
    keen = _stage(world, "意向客户")
    writer = _api(world, "ops", "write")
    before = (StageChange.objects.count(), FollowUp.objects.count(), Stage.objects.count())
    bad = [
        writer.post(f"/relations/{c1.pk}/follow-ups", {"kind": "fax", "content": "x"}),
        writer.post(f"/relations/{c1.pk}/follow-ups", {"kind": "note", "content": ""}),
        writer.post(
            f"/relations/{c1.pk}/follow-ups",
            {"kind": "note", "content": "x", "next_on": "2000-01-01"},
        ),
        writer.post("/lifecycle/stages", {"name": "新客户"}),
        writer.post("/lifecycle/stages", {"name": "x", "stale_days": 0}),
        writer.client.put(
            f"/api/v1/relations/{c1.pk}/stage",
            {"stage_id": 999999},
            content_type="application/json",
            **writer._headers(),
        ),
        writer.client.put(
            "/api/v1/lifecycle/stage-order",
            {"stage_ids": [keen.pk]},
            content_type="application/json",
            **writer._headers(),
        ),
    ]
    assert [r.status_code for r in bad] == [422, 422, 400, 400, 422, 400, 400]
    assert bad[2].json()["code"] == "invalid"
    assert (StageChange.objects.count(), FollowUp.objects.count(), Stage.objects.count()) == before

    reader = _api(world, "ops")
    assert (
        reader.post(f"/relations/{c1.pk}/follow-ups", {"kind": "note", "content": "x"}).status_code
        == 403
    )
    seller = _api(world, "seller", "write")
    assert seller.get(f"/relations/{c1.pk}/stage").status_code == 403
    assert seller.post("/lifecycle/stages", {"name": "新阶段"}).status_code == 403
    assert seller.get("/lifecycle/board").json()[0]["count"] == 1
    outsider = _api(world, "outsider", "write")
    assert outsider.get(f"/relations/{c1.pk}/stage").status_code == 404
    assert outsider.get(f"/relations/{c1.pk}/follow-ups").status_code == 404
    assert outsider.delete(f"/lifecycle/stages/{keen.pk}").status_code == 404
    assert next(s["name"] for s in outsider.get("/lifecycle/stages").json()) == "新客户"  # own
    assert Stage.objects.filter(pk=keen.pk).exists()


def test_funnel_page(client, world):
    services.move(
        access=_access(world, "ops"),
        relation=_rel(world, "c1", "sales"),
        stage=_stage(world, "意向客户"),
    )
    client.force_login(world.users["manager"])
    page = client.get(reverse("console:lifecycle_funnel"), **ZH).content.decode()

    def row(name: str) -> str:
        return page.split(f'id="funnel-{_stage(world, name).pk}"')[1].split("</tr>")[0]

    # The manager's scope: c1 (moved on, skipping 初步沟通), c2, and c4's ended relation.
    assert 'data-count="now">1<' in row("意向客户") and 'data-count="reached">1<' in row("意向客户")
    assert 'data-count="conversion">33.3%<' in row("初步沟通")  # 1 of 3 got past 新客户
    assert 'id="funnel-staff"' in page and "李雷" in page and "张三" not in page  # scope
    assert client.get(reverse("console:lifecycle_funnel"), {"add_way": "x"}).status_code == 400


def test_a_refused_reminder_is_tried_again_a_few_times(world):
    """The small corp has no app agent: the reminder cannot go out; it is kept for the next runs,
    at most MAX_REMIND_ATTEMPTS times, and the reason is stored."""
    relation = _rel(world, "c3", "service")
    services.start(corp=world.corp, relation=relation)
    RelationStage.objects.filter(relation=relation).update(
        entered_at=clock.now() - dt.timedelta(days=10)
    )
    for _ in range(services.MAX_REMIND_ATTEMPTS + 2):
        assert services.remind_stale(corp=world.corp) == 0
    row = RelationStage.objects.get(relation=relation)
    assert row.reminded_at is None and row.remind_attempts == services.MAX_REMIND_ATTEMPTS
    assert row.remind_error == "The corp has no app agent id configured."
