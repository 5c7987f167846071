"""Moments end to end through wecomsim: created through Qike (console and API), the job polled,
two staff publish and one does not, customers comment and like, Qike shows each staff member's
status and the comments and likes, timeline entries once each; cancel; bad input saving nothing;
roles and tenancy."""

from __future__ import annotations

import pytest
from django.test import Client

from qike.audit.models import AuditEntry
from qike.core.models import Corp
from qike.customers.models import TimelineEntry, TimelineKind
from qike.engagement.models import ContentItem
from qike.moments import services
from qike.moments.models import Moment, MomentInteraction, MomentStatus
from qike.moments.tasks import refresh_moments_job
from qike.org.access import access_for
from qike.org.models import Role
from tests.api.conftest import Api, make_token
from tests.moments.conftest import JOB_SECONDS, advance, publish, react, tagged_customer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def console(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def timeline(ext: str) -> list[dict]:
    return [
        e.data
        for e in TimelineEntry.objects.filter(
            customer__external_userid=ext, kind=TimelineKind.MOMENT
        )
    ]


def test_moment_with_comments_and_likes(corp, sim_corp, users, userids, vip):
    a, b, c = userids[:3]
    fan = tagged_customer(sim_corp, corp, a, "评论的客户", vip)
    liker = tagged_customer(sim_corp, corp, a, "点赞的客户", vip)
    other = tagged_customer(sim_corp, corp, b, "乙的客户", vip)
    page = console(users[Role.OPERATIONS])
    body = {"text": "秋季新品上市", "staff": [a, b, c], "tags": [vip.wecom_id]}
    created = page.post("/moments/new/", body)
    moment = Moment.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/moments/{moment.pk}/"
    assert moment.status == MomentStatus.CREATING and moment.jobid  # WeCom's job still runs
    assert moment.created_by == "u-operations" and moment.tag_ids == [vip.wecom_id]
    detail = page.get(created["Location"]).content.decode()
    assert "正在创建" in detail and vip.name in detail and vip.wecom_id not in detail
    assert AuditEntry.objects.filter(action="moments.create", target_id=str(moment.pk)).exists()

    advance(sim_corp, JOB_SECONDS)
    refresh_moments_job()
    moment.refresh_from_db()
    assert moment.status == MomentStatus.ACTIVE and moment.moment_id.startswith("mom")
    assert sorted(moment.senders.values_list("userid", flat=True)) == sorted([a, b, c])

    publish(sim_corp, moment.moment_id, a)
    publish(sim_corp, moment.moment_id, b)  # c never publishes
    react(sim_corp, moment.moment_id, "comment", a, fan, "很好看")
    react(sim_corp, moment.moment_id, "like", a, liker)
    react(sim_corp, moment.moment_id, "like", b, other)
    advance(sim_corp, 5 * 60)  # the job's next check of a moment younger than an hour
    refresh_moments_job()
    services.refresh(corp=corp, moment=moment)  # asking again records nothing twice

    html = page.get(f"/moments/{moment.pk}/").content.decode()
    rows = {u: html.split(f'id="sender-{u}"')[1].split("</tr>")[0] for u in (a, b, c)}
    assert "已发表" in rows[a] and "已发表" in rows[b] and "未发表" in rows[c]
    comments = html.split('id="comments"')[1].split("</ul>")[0]
    likes = html.split('id="likes"')[1].split("</ul>")[0]
    assert "评论的客户" in comments and "点赞的客户" not in comments
    assert "点赞的客户" in likes and "乙的客户" in likes
    assert MomentInteraction.objects.count() == 3
    assert timeline(fan) == [
        {"moment_id": moment.moment_id, "moment": moment.pk, "event": "comment"}
    ]
    assert [d["event"] for d in timeline(liker)] == ["like"]
    assert [d["event"] for d in timeline(other)] == ["like"]
    reached = {s.userid: s.reached for s in moment.senders.all()}
    assert reached[a] >= 2 and reached[b] >= 1 and reached[c] == 0

    api = Api(make_token(corp, users[Role.OPERATIONS]))
    detail = api.get(f"/moments/{moment.pk}").json()
    assert detail["counts"]["published"] == 2 and detail["counts"]["senders"] == 3
    assert detail["counts"]["comments"] == 1 and detail["counts"]["likes"] == 2
    assert {i["customer_name"] for i in detail["interactions"]} == {
        "评论的客户",
        "点赞的客户",
        "乙的客户",
    }
    listing = page.get("/moments/").content.decode()
    assert f'id="moment-{moment.pk}"' in listing and "2 / 3" in listing


def test_cancel_stops_staff_who_have_not_published(corp, sim_corp, users, userids):
    a, b = userids[:2]
    api = Api(make_token(corp, users[Role.CORP_ADMIN]))
    created = api.post("/moments", {"text": "限时活动", "userids": [a, b]})
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["status"] == "creating"
    advance(sim_corp, JOB_SECONDS)
    moment = Moment.objects.get(pk=pk)
    publish(sim_corp, api.post(f"/moments/{pk}/refresh").json()["moment_id"], a)
    stopped = api.post(f"/moments/{pk}/cancel")
    assert stopped.status_code == 200 and stopped.json()["status"] == "cancelled"
    moment.refresh_from_db()
    assert moment.cancelled_at is not None
    assert sim_corp.get("/moments")[0]["cancelled"] is True
    late = sim_corp.control.post(
        f"/sim/corps/{sim_corp.corpid}/moments/{moment.moment_id}/publish", json={"userid": b}
    )
    assert late.status_code == 409  # b can no longer publish it
    again = api.post(f"/moments/{pk}/cancel")
    assert again.status_code == 400
    assert AuditEntry.objects.filter(action="moments.cancel", target_id=str(pk)).count() == 1

    # Everyone published: nothing left to stop, said clearly.
    done = api.post("/moments", {"text": "全员已发", "userids": [a]}).json()
    advance(sim_corp, JOB_SECONDS)
    publish(sim_corp, api.post(f"/moments/{done['id']}/refresh").json()["moment_id"], a)
    refused = api.post(f"/moments/{done['id']}/cancel")
    assert refused.status_code == 400 and "nothing left to stop" in refused.json()["message"]
    assert Moment.objects.get(pk=done["id"]).status == MomentStatus.ACTIVE


def test_bad_input_gives_clear_errors_and_saves_nothing(corp, sim_corp, users, userids, vip):
    api = Api(make_token(corp, users[Role.OPERATIONS]))
    images = [
        ContentItem.objects.create(corp=corp, kind="image", title=f"图{n}") for n in range(10)
    ]
    video = ContentItem.objects.create(corp=corp, kind="video", title="视频")
    cases = {
        "no content": ({"userids": userids[:1]}, "Write a text"),
        "ten images": ({"item_ids": [i.pk for i in images]}, "At most 9 images"),
        "image and video": ({"item_ids": [images[0].pk, video.pk]}, "cannot be mixed"),
        "unknown tag": ({"text": "x", "tag_ids": ["etNOPE"]}, "No corp tags"),
        "unknown staff": ({"text": "x", "userids": ["ghost"]}, "No staff members"),
        "unknown item": ({"item_ids": [999999]}, "999999"),
        "too long": ({"text": "字" * 2001}, "2000"),
    }
    for name, (body, message) in cases.items():
        answer = api.post("/moments", body)
        assert answer.status_code in (400, 422), name
        assert message in answer.json()["message"], (name, answer.json())
    page = console(users[Role.OPERATIONS])
    bad = page.post("/moments/new/", {"text": "", "staff": [userids[0]]})
    assert bad.status_code == 400 and 'role="alert"' in bad.content.decode()
    assert Moment.objects.count() == 0 and sim_corp.get("/moments") == []
    assert not AuditEntry.objects.filter(action="moments.create").exists()


def test_roles_and_tenancy(corp, sim_corp, users, userids):
    staff, manager = console(users[Role.STAFF]), console(users[Role.MANAGER])
    for client in (staff, manager):
        assert client.get("/moments/").status_code == 403
        assert client.post("/moments/new/", {"text": "x"}).status_code == 403
    assert Api(make_token(corp, users[Role.STAFF])).get("/moments").status_code == 403
    reader = Api(make_token(corp, users[Role.OPERATIONS], scopes="read"))
    assert reader.get("/moments").status_code == 200
    assert reader.post("/moments", {"text": "x"}).status_code == 403
    assert Moment.objects.count() == 0

    other = Corp.objects.create(corpid="wwOther", name="别家", secret="s")
    theirs = Moment.objects.create(
        corp=other, text="别家的", status=MomentStatus.ACTIVE, created_at=corp.created_at
    )
    ops = Api(make_token(corp, users[Role.OPERATIONS]))
    assert ops.get(f"/moments/{theirs.pk}").status_code == 404
    assert ops.post(f"/moments/{theirs.pk}/cancel").status_code == 404
    assert console(users[Role.OPERATIONS]).get(f"/moments/{theirs.pk}/").status_code == 404
    assert ops.get("/moments").json()["total"] == 0
    assert services.moments_in_scope(access_for(users[Role.CORP_ADMIN], corp)).count() == 0


PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def test_images_and_a_link_from_the_content_library(corp, sim_corp, users, userids):
    from django.core.files.base import ContentFile

    def image(title: str) -> ContentItem:
        item = ContentItem(corp=corp, kind="image", title=title, filename="pic.png")
        item.file.save("pic.png", ContentFile(PNG), save=True)
        return item

    first, second = image("图一"), image("图二")
    note = ContentItem.objects.create(corp=corp, kind="text", title="文案", text="欢迎咨询")
    api = Api(make_token(corp, users[Role.OPERATIONS]))
    body = {"text": "新品", "item_ids": [first.pk, second.pk, note.pk], "userids": userids[:1]}
    created = api.post("/moments", body)
    assert created.status_code == 201, created.json()
    assert created.json()["content_kind"] == "image"
    sent = sim_corp.get("/moments")[0]
    assert [a["msgtype"] for a in sent["attachments"]] == ["image", "image"]
    assert sent["text"]["content"] == "新品\n欢迎咨询"  # the text item joins the text

    link = ContentItem(corp=corp, kind="link", title="活动页", url="https://example.com/a")
    link.cover.save("cover.png", ContentFile(PNG), save=True)
    created = api.post("/moments", {"item_ids": [link.pk], "userids": userids[:1]})
    assert created.status_code == 201, created.json()
    sent = sim_corp.get("/moments")[1]
    assert sent["link"]["title"] == "活动页" and sent["visible_type"] == 1
    assert [m.content_kind for m in Moment.objects.order_by("pk")] == ["image", "link"]


def test_the_job_asks_less_often_as_a_moment_ages(corp, sim_corp, users, userids):
    """Every five minutes in the first hour, then every 30 minutes, 3 hours, 12 hours; not at all
    after 14 days: a moment of many staff must not spend the corp's API allowance."""
    a = userids[0]
    page = console(users[Role.OPERATIONS])
    assert page.post("/moments/new/", {"text": "新品", "staff": [a]}).status_code == 302
    moment = Moment.objects.get()

    def checked_after(seconds: float) -> bool:
        advance(sim_corp, seconds)
        before = Moment.objects.get(pk=moment.pk).checked_at
        refresh_moments_job()
        return Moment.objects.get(pk=moment.pk).checked_at != before

    assert checked_after(JOB_SECONDS)  # the job's result
    assert not checked_after(60) and checked_after(4 * 60)  # young: every 5 minutes
    advance(sim_corp, 3600)
    assert checked_after(0)
    assert not checked_after(10 * 60) and checked_after(20 * 60)  # a day: every 30 minutes
    advance(sim_corp, 3 * 86400)
    assert checked_after(0)
    assert not checked_after(3600) and checked_after(11 * 3600)  # older: every 12 hours
    advance(sim_corp, 14 * 86400)
    assert not checked_after(0)  # followed for 14 days only
