"""Console pages and the REST API of phone tasks: upload → preview (bad rows by row number) →
confirm or discard; progress per batch and per staff; masked phones in lists, full phones on a
member's own page; roles, data scope and tenancy."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from qike.api import services as api_services
from qike.org.access import access_for
from qike.phonetasks.models import Batch, ImportPreview, Task, TaskStatus
from tests.api.conftest import Api
from tests.phonetasks.conftest import import_list, phones, xlsx

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def _post_file(client, data: bytes, **fields):
    body = {
        "file": SimpleUploadedFile("名单.xlsx", data),
        "name": "五月名单",
        "assign_mode": "even",
        "daily_cap": 60,
        **fields,
    }
    return client.post(reverse("console:phone_task_import"), body, **ZH)


def test_upload_preview_confirm_in_the_console(client, world):
    client.force_login(world.users["ops"])
    assert "导入" in client.get(reverse("console:phone_task_import"), **ZH).content.decode()
    data = xlsx([["张三", "13812345678"], ["李四", "123"], ["王五", "13812345679"]])
    answer = _post_file(client, data, staff=["han.mei", "zhang.san"])
    assert answer.status_code == 302, answer.content.decode()
    preview = ImportPreview.objects.get()
    page = client.get(answer["Location"], **ZH).content.decode()
    row = page.split('id="row-3"')[1].split("</tr>")[0]
    assert "<td>3</td>" in row and "不是大陆手机号" in row
    assert 'id="valid-count">2<' in page and "138****5678" in page and "13812345678" not in page
    assert not Task.objects.exists()

    answer = client.post(reverse("console:phone_task_preview_confirm", args=[preview.pk]), **ZH)
    batch = Batch.objects.get()
    assert answer["Location"] == reverse("console:phone_task_batch", args=[batch.pk])
    page = client.get(answer["Location"], **ZH).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    assert 'id="staff-han.mei"' in page and 'id="staff-zhang.san"' in page

    listing = client.get(reverse("console:phone_tasks"), **ZH).content.decode()
    row = listing.split(f'id="batch-{batch.pk}"')[1].split("</tr>")[0]
    assert 'data-count="total">2<' in row and 'data-count="open">2<' in row

    filtered = client.get(
        reverse("console:phone_task_batch", args=[batch.pk]), {"staff": "han.mei"}
    ).content.decode()
    assert filtered.count('id="task-') == 1

    client.post(reverse("console:phone_task_batch_cancel", args=[batch.pk]))
    assert set(Task.objects.values_list("status", flat=True)) == {TaskStatus.CANCELLED}


def test_bad_files_and_discard_keep_nothing(client, world):
    client.force_login(world.users["admin"])
    answer = _post_file(client, b"not excel", staff=["boss"])
    assert answer.status_code == 400 and "xlsx" in answer.content.decode()
    answer = _post_file(client, xlsx([["x", "y"]], header=["地址", "备注"]), staff=["boss"])
    assert answer.status_code == 400 and 'id="problem"' in answer.content.decode()
    assert not ImportPreview.objects.exists()

    _post_file(client, xlsx(phones(2)), staff=["boss"])
    preview = ImportPreview.objects.get()
    client.post(reverse("console:phone_task_preview_discard", args=[preview.pk]))
    assert not ImportPreview.objects.exists() and not Task.objects.exists()
    assert client.get(reverse("console:phone_task_preview", args=[preview.pk])).status_code == 404


def test_staff_see_their_own_tasks_with_full_phones(client, world):
    ops = access_for(world.users["ops"], world.corp)
    done = import_list(ops, xlsx(phones(4)), userids=("han.mei", "zhang.san"))
    client.force_login(world.users["seller"])  # han.mei
    answer = client.get(reverse("console:phone_tasks"))
    assert answer["Location"] == reverse("console:phone_tasks_mine")
    page = client.get(answer["Location"], **ZH).content.decode()
    mine = Task.objects.filter(staff__userid="han.mei")
    theirs = Task.objects.filter(staff__userid="zhang.san")
    assert all(t.phone in page for t in mine) and not any(t.phone in page for t in theirs)
    assert page.count('id="task-') == 2
    assert client.post(reverse("console:phone_task_import")).status_code == 403
    assert client.post(reverse("console:phone_tasks_send_now")).status_code == 403
    batch_page = client.get(reverse("console:phone_task_batch", args=[done.batch.pk]))
    assert batch_page.content.decode().count('id="task-') == 2  # only their own, masked
    assert mine[0].phone not in batch_page.content.decode()

    client.force_login(world.users["manager"])  # 销售部: han.mei, not zhang.san
    listing = client.get(reverse("console:phone_tasks")).content.decode()
    assert f'id="batch-{done.batch.pk}"' in listing
    assert 'data-count="total">2<' in listing
    assert (
        client.post(reverse("console:phone_task_batch_cancel", args=[done.batch.pk])).status_code
        == 403
    )

    other_batch = import_list(ops, xlsx(phones(1, start=9)), userids=("boss",)).batch
    assert client.get(reverse("console:phone_task_batch", args=[other_batch.pk])).status_code == 403

    client.force_login(world.users["outsider"])
    assert client.get(reverse("console:phone_task_batch", args=[done.batch.pk])).status_code == 404
    assert (
        f'id="batch-{done.batch.pk}"'
        not in client.get(reverse("console:phone_tasks")).content.decode()
    )


def _api(world, key: str) -> Api:
    corp = world.other if key == "outsider" else world.corp
    admin_user = world.users["outsider" if key == "outsider" else "admin"]
    _token, secret = api_services.create_token(
        access=access_for(admin_user, corp), user=world.users[key], name="t", scopes="read"
    )
    return Api(secret)


def test_api(world):
    ops = access_for(world.users["ops"], world.corp)
    done = import_list(ops, xlsx(phones(3)), userids=("han.mei", "zhang.san"), tag_ids=("etVIP",))
    api = _api(world, "ops")
    [batch] = api.get("/phone-task-batches").json()
    assert batch["id"] == done.batch.pk and batch["tags"] == ["etVIP"]
    assert batch["progress"] == {
        "total": 3,
        "added": 0,
        "already": 0,
        "open": 3,
        "overdue": 0,
        "cancelled": 0,
    }
    detail = api.get(f"/phone-task-batches/{done.batch.pk}").json()
    assert {(s["staff"], s["total"]) for s in detail["by_staff"]} == {
        ("han.mei", 2),
        ("zhang.san", 1),
    }
    page = api.get("/phone-tasks", batch=done.batch.pk, status="open").json()
    assert page["total"] == 3 and all("****" in t["phone"] for t in page["items"])
    assert api.get("/phone-tasks", staff="zhang.san").json()["total"] == 1
    today = page["items"][0]["scheduled_on"]
    assert api.get("/phone-tasks", day=today).json()["total"] == 3
    assert api.get("/phone-tasks", status="nope").status_code == 400
    assert api.get("/phone-tasks", day="yesterday").status_code == 400
    assert api.get("/phone-task-batches/999999").status_code == 404

    seller = _api(world, "seller")
    assert seller.get("/phone-tasks").json()["total"] == 2  # han.mei's own
    [mine] = seller.get("/phone-task-batches").json()  # progress over their own tasks
    assert mine["progress"]["total"] == 2
    detail = seller.get(f"/phone-task-batches/{done.batch.pk}").json()
    assert [s["staff"] for s in detail["by_staff"]] == ["han.mei"]
    other = import_list(ops, xlsx(phones(1, start=7)), userids=("boss",)).batch
    assert seller.get(f"/phone-task-batches/{other.pk}").status_code == 403

    outsider = _api(world, "outsider")
    assert outsider.get(f"/phone-task-batches/{done.batch.pk}").status_code == 404
    assert outsider.get("/phone-tasks").json()["total"] == 0
