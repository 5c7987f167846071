"""WeComClient against a mocked WeCom (respx): tokens, retries, back-off, cursors, typed methods.

These are unit tests of the adapter's HTTP behaviour; Qike's WeCom behaviour end to end is tested
against wecomsim over HTTP.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
import respx

from qike.wecom import errors
from qike.wecom.client import DEFAULT_BASE_URL, WeComClient, iter_cursor
from qike.wecom.errors import WeComError, WeComTransportError
from qike.wecom.tokens import MemoryTokenStore, token_key

CORPID = "ww4a7c2d1e9b3f0a1c"
SECRET = "s3cr3t-CORP-secret-value-0123456789abcdefXYZ"
API = f"{DEFAULT_BASE_URL}/cgi-bin"


def ok(**fields) -> httpx.Response:
    return httpx.Response(200, json={"errcode": 0, "errmsg": "ok", **fields})


def fail(errcode: int, errmsg: str = "failed") -> httpx.Response:
    return httpx.Response(200, json={"errcode": errcode, "errmsg": errmsg})


def token_answer(token: str, expires_in: int = 7200) -> httpx.Response:
    return ok(access_token=token, expires_in=expires_in)


def body_of(call) -> dict:
    return json.loads(call.request.content)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


@pytest.fixture
def gettoken(mock) -> respx.Route:
    return mock.get("/gettoken").mock(return_value=token_answer("TOKEN-1"))


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps) -> Iterator[WeComClient]:
    with WeComClient(CORPID, SECRET, sleep=sleeps.append) as wecom:
        yield wecom


# --- tokens -------------------------------------------------------------------------------------


def test_token_fetched_with_corpid_and_secret(client, gettoken, mock):
    mock.get("/externalcontact/get_follow_user_list").mock(return_value=ok(follow_user=["a"]))
    assert client.get_follow_user_list() == ["a"]
    params = gettoken.calls[0].request.url.params
    assert (params["corpid"], params["corpsecret"]) == (CORPID, SECRET)


def test_token_cached_and_shared_through_the_store(gettoken, mock):
    api = mock.get("/externalcontact/get_follow_user_list").mock(return_value=ok(follow_user=[]))
    store = MemoryTokenStore()
    with WeComClient(CORPID, SECRET, token_store=store) as first:
        first.get_follow_user_list()
        first.get_follow_user_list()
    with WeComClient(CORPID, SECRET, token_store=store) as second:
        second.get_follow_user_list()
    assert gettoken.call_count == 1
    assert api.call_count == 3
    assert {c.request.url.params["access_token"] for c in api.calls} == {"TOKEN-1"}
    assert store.get(token_key(CORPID, SECRET)) == "TOKEN-1"


def test_token_stored_with_safety_margin(gettoken):
    now = [1000.0]
    store = MemoryTokenStore(clock=lambda: now[0])
    client = WeComClient(CORPID, SECRET, token_store=store)
    assert client.get_token() == "TOKEN-1"
    key = token_key(CORPID, SECRET)
    now[0] += 7200 - 301
    assert store.get(key) == "TOKEN-1"
    now[0] += 2  # inside the last 5 minutes: treated as expired
    assert store.get(key) is None


def test_short_lived_token_keeps_most_of_its_life(mock):
    mock.get("/gettoken").mock(return_value=token_answer("SHORT", expires_in=60))
    now = [0.0]
    store = MemoryTokenStore(clock=lambda: now[0])
    WeComClient(CORPID, SECRET, token_store=store).get_token()
    now[0] = 53
    assert store.get(token_key(CORPID, SECRET)) == "SHORT"


def test_force_fetches_a_new_token(client, mock):
    route = mock.get("/gettoken").mock(side_effect=[token_answer("T1"), token_answer("T2")])
    assert client.get_token() == "T1"
    assert client.get_token() == "T1"
    assert client.get_token(force=True) == "T2"
    assert route.call_count == 2


@pytest.mark.parametrize(
    "errcode", [errors.TOKEN_INVALID, errors.TOKEN_EXPIRED, errors.TOKEN_MISMATCH]
)
def test_refresh_on_token_error_then_retry_once(errcode, mock):
    gettoken = mock.get("/gettoken").mock(side_effect=[token_answer("OLD"), token_answer("NEW")])
    api = mock.get("/externalcontact/get_follow_user_list").mock(
        side_effect=[fail(errcode, "invalid access_token"), ok(follow_user=["u1"])]
    )
    store = MemoryTokenStore()
    client = WeComClient(CORPID, SECRET, token_store=store)
    assert client.get_follow_user_list() == ["u1"]
    assert gettoken.call_count == 2
    assert [c.request.url.params["access_token"] for c in api.calls] == ["OLD", "NEW"]
    assert store.get(token_key(CORPID, SECRET)) == "NEW"


def test_token_refreshed_by_another_process_is_reused(mock):
    gettoken = mock.get("/gettoken").mock(return_value=token_answer("MINE"))
    api = mock.get("/externalcontact/get_follow_user_list").mock(
        side_effect=[fail(errors.TOKEN_EXPIRED), ok(follow_user=[])]
    )
    store = MemoryTokenStore()
    client = WeComClient(CORPID, SECRET, token_store=store)
    client.get_token()
    original_invalidate = store.invalidate

    def invalidate_after_other_process(key: str, token: str) -> None:
        store.set(key, "THEIRS", 3600)  # another process stored a fresh token meanwhile
        original_invalidate(key, token)

    store.invalidate = invalidate_after_other_process  # type: ignore[method-assign]
    client.get_follow_user_list()
    assert gettoken.call_count == 1
    assert api.calls[-1].request.url.params["access_token"] == "THEIRS"


def test_token_error_after_refresh_is_raised(client, mock):
    mock.get("/gettoken").mock(side_effect=[token_answer("A"), token_answer("B")])
    api = mock.get("/externalcontact/get_follow_user_list").mock(
        return_value=fail(errors.TOKEN_INVALID, "invalid access_token")
    )
    with pytest.raises(WeComError) as caught:
        client.get_follow_user_list()
    assert caught.value.errcode == errors.TOKEN_INVALID
    assert api.call_count == 2


def test_gettoken_failure_raises_with_path(client, mock):
    mock.get("/gettoken").mock(return_value=fail(errors.INVALID_SECRET, "invalid credential"))
    with pytest.raises(WeComError) as caught:
        client.get_token()
    assert (caught.value.errcode, caught.value.path) == (errors.INVALID_SECRET, "gettoken")


# --- busy and rate limits -----------------------------------------------------------------------


def test_system_busy_retried_then_succeeds(client, gettoken, mock, sleeps):
    api = mock.get("/externalcontact/get_follow_user_list").mock(
        side_effect=[fail(-1, "system busy"), fail(-1, "system busy"), ok(follow_user=["x"])]
    )
    assert client.get_follow_user_list() == ["x"]
    assert api.call_count == 3
    assert len(sleeps) == 2


def test_system_busy_retried_three_times_then_raised(client, gettoken, mock, sleeps):
    api = mock.post("/externalcontact/get_corp_tag_list").mock(return_value=fail(-1, "system busy"))
    with pytest.raises(WeComError) as caught:
        client.get_corp_tag_list()
    assert caught.value.errcode == errors.SYSTEM_BUSY
    assert api.call_count == 4  # the call and 3 retries
    assert len(sleeps) == 3
    assert all(0 < s < 2 for s in sleeps)  # short back-off


def test_rate_limit_backs_off_exponentially(client, gettoken, mock, sleeps):
    mock.get("/externalcontact/get_follow_user_list").mock(
        side_effect=[fail(45009), fail(45009), ok(follow_user=[])]
    )
    assert client.get_follow_user_list() == []
    assert len(sleeps) == 2
    assert sleeps[1] > sleeps[0] > 0


def test_rate_limit_gives_up_after_max_waits(gettoken, mock, sleeps):
    api = mock.get("/externalcontact/get_follow_user_list").mock(
        return_value=fail(45009, "api freq out of limit")
    )
    client = WeComClient(CORPID, SECRET, sleep=sleeps.append, max_rate_limit_waits=5)
    with pytest.raises(WeComError) as caught:
        client.get_follow_user_list()
    assert caught.value.errcode == errors.RATE_LIMITED
    assert api.call_count == 6
    assert len(sleeps) == 5
    assert sleeps == sorted(sleeps)
    assert max(sleeps) <= 60  # bounded


def test_no_retry_on_other_errors(client, gettoken, mock, sleeps):
    api = mock.post("/externalcontact/send_welcome_msg").mock(
        return_value=fail(errors.WELCOME_CODE_USED, "externaluser has started chatting")
    )
    with pytest.raises(WeComError) as caught:
        client.send_welcome_msg(welcome_code="CODE", text="你好")
    assert caught.value.errcode == errors.WELCOME_CODE_USED
    assert api.call_count == 1
    assert sleeps == []


# --- transport ----------------------------------------------------------------------------------


def test_get_retried_on_timeout_then_raised(client, gettoken, mock, sleeps):
    api = mock.get("/user/get").mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(WeComTransportError) as caught:
        client.user_get("zhangsan")
    assert caught.value.errcode == errors.TRANSPORT_ERROR
    assert caught.value.path == "user/get"
    assert api.call_count == 3
    assert len(sleeps) == 2


def test_get_recovers_after_transport_error(client, gettoken, mock):
    mock.get("/user/get").mock(
        side_effect=[httpx.ConnectError("refused"), ok(userid="zhangsan", name="张三")]
    )
    assert client.user_get("zhangsan") == {"userid": "zhangsan", "name": "张三"}


def test_post_not_repeated_after_it_may_have_arrived(client, gettoken, mock):
    api = mock.post("/externalcontact/send_welcome_msg").mock(
        side_effect=httpx.ReadTimeout("timed out")
    )
    with pytest.raises(WeComTransportError):
        client.send_welcome_msg(welcome_code="CODE", text="hi")
    assert api.call_count == 1


def test_post_repeated_when_connection_was_refused(client, gettoken, mock):
    api = mock.post("/externalcontact/mark_tag").mock(
        side_effect=[httpx.ConnectError("refused"), ok()]
    )
    client.mark_tag(userid="u", external_userid="wm", add_tag=["et1"])
    assert api.call_count == 2


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>bad gateway</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(502, text="Bad Gateway"),
    ],
    ids=["html", "json-array", "http-502"],
)
def test_non_json_answer_is_transport_error(client, gettoken, mock, response):
    mock.post("/externalcontact/get_corp_tag_list").mock(return_value=response)
    with pytest.raises(WeComTransportError) as caught:
        client.get_corp_tag_list()
    assert caught.value.errcode == errors.BAD_RESPONSE
    assert caught.value.path == "externalcontact/get_corp_tag_list"


# --- errors and secrets -------------------------------------------------------------------------


def test_error_carries_code_message_and_path(client, gettoken, mock):
    mock.get("/externalcontact/get").mock(
        return_value=fail(40096, "invalid external userid, hint: [1699]")
    )
    with pytest.raises(WeComError) as caught:
        client.get_external_contact("wmBAD")
    exc = caught.value
    assert (exc.errcode, exc.errmsg, exc.path) == (
        40096,
        "invalid external userid, hint: [1699]",
        "externalcontact/get",
    )
    assert str(exc) == "WeCom 40096 invalid external userid, hint: [1699] (externalcontact/get)"


def test_error_str_format():
    exc = WeComError(errors.TOKEN_INVALID, "invalid access_token", "externalcontact/get")
    assert str(exc) == "WeCom 40014 invalid access_token (externalcontact/get)"
    assert isinstance(WeComTransportError(errors.TRANSPORT_ERROR, "x", "y"), WeComError)


def test_secret_never_in_error_text(client, mock):
    # A hostile or buggy server echoing the request must not leak the secret into errors.
    mock.get("/gettoken").mock(
        return_value=fail(40001, f"invalid credential, corpsecret={SECRET}, raw {SECRET}")
    )
    with pytest.raises(WeComError) as caught:
        client.get_token()
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value.args)


def test_secret_never_in_transport_error(client, mock):
    mock.get("/gettoken").mock(
        side_effect=httpx.ConnectError(f"cannot reach {API}/gettoken?corpsecret={SECRET}")
    )
    with pytest.raises(WeComTransportError) as caught:
        client.get_token()
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None


def test_secret_and_token_never_logged(client, gettoken, mock, caplog):
    mock.get("/externalcontact/get_follow_user_list").mock(
        side_effect=[fail(-1), ok(follow_user=[])]
    )
    with caplog.at_level(logging.DEBUG):
        client.get_follow_user_list()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "gettoken" in text  # httpx logged the requests, redacted
    assert SECRET not in text
    assert "TOKEN-1" not in text
    assert SECRET not in repr(client)


def test_token_key_hides_the_secret():
    key = token_key(CORPID, SECRET)
    assert SECRET not in key
    assert key == token_key(CORPID, SECRET)
    assert key != token_key(CORPID, SECRET + "x")
    assert key != token_key("ww0000", SECRET)
    assert len(key) <= 128  # fits Qike's AccessToken.key column


def test_memory_store_invalidates_only_the_same_token():
    store = MemoryTokenStore()
    store.set("k", "fresh", 100)
    store.invalidate("k", "stale")
    assert store.get("k") == "fresh"
    store.invalidate("k", "fresh")
    assert store.get("k") is None


# --- cursors ------------------------------------------------------------------------------------


def test_iter_cursor_follows_next_cursor():
    pages = {"": ([1, 2], "c1"), "c1": ([], "c2"), "c2": ([3], "")}
    seen: list[str] = []

    def fetch(cursor: str):
        seen.append(cursor)
        return pages[cursor]

    assert list(iter_cursor(fetch)) == [[1, 2], [3]]
    assert seen == ["", "c1", "c2"]


def test_iter_cursor_refuses_to_loop():
    pages = {"": ([1], "c1"), "c1": ([2], "c1")}
    with pytest.raises(WeComError, match="cursor"):
        list(iter_cursor(lambda cursor: pages[cursor]))


def test_iter_batch_get_by_user_follows_cursor_and_chunks(client, gettoken, mock):
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        first = body["userid_list"][0]
        if body["cursor"] == "":
            return ok(external_contact_list=[{"from": first, "page": 1}], next_cursor="NEXT")
        return ok(external_contact_list=[{"from": first, "page": 2}], next_cursor="")

    route = mock.post("/externalcontact/batch/get_by_user").mock(side_effect=answer)
    userids = [f"user{i:03d}" for i in range(250)]
    pages = list(client.iter_batch_get_by_user(userids, limit=50))
    assert [p[0]["from"] for p in pages] == [
        "user000",
        "user000",
        "user100",
        "user100",
        "user200",
        "user200",
    ]
    sent = [body_of(c) for c in route.calls]
    assert [len(b["userid_list"]) for b in sent] == [100, 100, 100, 100, 50, 50]
    assert [b["cursor"] for b in sent] == ["", "NEXT"] * 3
    assert {b["limit"] for b in sent} == {50}


def test_batch_get_by_user_one_page(client, gettoken, mock):
    mock.post("/externalcontact/batch/get_by_user").mock(
        return_value=ok(
            external_contact_list=[{"external_contact": {"external_userid": "wm1"}}],
            next_cursor="X",
        )
    )
    contacts, cursor = client.batch_get_by_user(["zhangsan"], cursor="", limit=100)
    assert contacts[0]["external_contact"]["external_userid"] == "wm1"
    assert cursor == "X"
    with pytest.raises(ValueError):
        client.batch_get_by_user([f"u{i}" for i in range(101)])


def test_list_contact_way_page(client, gettoken, mock):
    route = mock.post("/externalcontact/list_contact_way").mock(
        return_value=ok(contact_way=[{"config_id": "c1"}, {"config_id": "c2"}], next_cursor="N")
    )
    ids, cursor = client.list_contact_way(start_time=1622476800, limit=2)
    assert (ids, cursor) == (["c1", "c2"], "N")
    assert body_of(route.calls[0]) == {"start_time": 1622476800, "cursor": "", "limit": 2}


# --- customers ----------------------------------------------------------------------------------


def test_list_external_contacts_84061_is_empty(client, gettoken, mock):
    mock.get("/externalcontact/list").mock(return_value=fail(84061, "not external contact"))
    assert client.list_external_contacts("lonely") == []


def test_list_external_contacts(client, gettoken, mock):
    route = mock.get("/externalcontact/list").mock(return_value=ok(external_userid=["wm1", "wm2"]))
    assert client.list_external_contacts("zhangsan") == ["wm1", "wm2"]
    assert route.calls[0].request.url.params["userid"] == "zhangsan"


def test_get_external_contact_merges_follow_user_pages(client, gettoken, mock):
    contact = {"external_userid": "wm1", "name": "李四", "type": 1}
    route = mock.get("/externalcontact/get").mock(
        side_effect=[
            ok(
                external_contact=contact,
                follow_user=[{"userid": "a"}, {"userid": "b"}],
                next_cursor="P2",
            ),
            ok(external_contact=contact, follow_user=[{"userid": "c"}], next_cursor=""),
        ]
    )
    answer = client.get_external_contact("wm1")
    assert answer == {
        "external_contact": contact,
        "follow_user": [{"userid": "a"}, {"userid": "b"}, {"userid": "c"}],
    }
    assert [c.request.url.params.get("cursor") for c in route.calls] == ["", "P2"]
    assert {c.request.url.params["external_userid"] for c in route.calls} == {"wm1"}


def test_remark_sends_only_given_fields(client, gettoken, mock):
    route = mock.post("/externalcontact/remark").mock(return_value=ok())
    client.remark(userid="u", external_userid="wm", description="老客户", remark_mobiles=[""])
    assert body_of(route.calls[0]) == {
        "userid": "u",
        "external_userid": "wm",
        "description": "老客户",
        "remark_mobiles": [""],
    }
    assert "老客户".encode() in route.calls[0].request.content  # UTF-8, not \\u escapes
    with pytest.raises(ValueError):
        client.remark(userid="u", external_userid="wm")


def test_send_welcome_msg_body(client, gettoken, mock):
    route = mock.post("/externalcontact/send_welcome_msg").mock(return_value=ok())
    attachment = {"msgtype": "link", "link": {"title": "t", "url": "https://example.com"}}
    client.send_welcome_msg(welcome_code="CODE", text="欢迎", attachments=[attachment])
    assert body_of(route.calls[0]) == {
        "welcome_code": "CODE",
        "text": {"content": "欢迎"},
        "attachments": [attachment],
    }
    with pytest.raises(ValueError):
        client.send_welcome_msg(welcome_code="CODE")


# --- contacts, tags, contact ways ---------------------------------------------------------------


def test_contacts_methods(client, gettoken, mock):
    departments = mock.get("/department/list").mock(
        return_value=ok(department=[{"id": 2, "name": "广州研发中心", "parentid": 1, "order": 10}])
    )
    created = mock.post("/department/create").mock(
        return_value=httpx.Response(200, json={"errcode": 0, "errmsg": "created", "id": 7})
    )
    simple = mock.get("/user/simplelist").mock(return_value=ok(userlist=[{"userid": "zhangsan"}]))
    detailed = mock.get("/user/list").mock(
        return_value=ok(userlist=[{"userid": "zhangsan", "gender": "1"}])
    )
    assert client.department_list(2)[0]["name"] == "广州研发中心"
    assert departments.calls[0].request.url.params["id"] == "2"
    client.department_list()
    assert "id" not in departments.calls[1].request.url.params
    assert client.department_create(name="销售部", parentid=1) == 7
    assert body_of(created.calls[0]) == {"name": "销售部", "parentid": 1}
    assert client.user_simplelist(1, fetch_child=True) == [{"userid": "zhangsan"}]
    assert simple.calls[0].request.url.params["fetch_child"] == "1"
    assert client.user_list(1)[0]["gender"] == "1"
    assert detailed.calls[0].request.url.params["fetch_child"] == "0"


def test_tag_methods(client, gettoken, mock):
    group = {"group_id": "etG", "group_name": "客户等级", "tag": [{"id": "et1", "name": "VIP"}]}
    listed = mock.post("/externalcontact/get_corp_tag_list").mock(
        return_value=ok(tag_group=[group])
    )
    added = mock.post("/externalcontact/add_corp_tag").mock(return_value=ok(tag_group=group))
    edited = mock.post("/externalcontact/edit_corp_tag").mock(return_value=ok())
    deleted = mock.post("/externalcontact/del_corp_tag").mock(return_value=ok())
    marked = mock.post("/externalcontact/mark_tag").mock(return_value=ok())

    assert client.get_corp_tag_list() == [group]
    assert body_of(listed.calls[0]) == {}
    client.get_corp_tag_list(tag_ids=["et1"])
    assert body_of(listed.calls[1]) == {"tag_id": ["et1"]}
    assert client.add_corp_tag(tags=[{"name": "VIP"}], group_name="客户等级", order=1) == group
    assert body_of(added.calls[0]) == {
        "group_name": "客户等级",
        "order": 1,
        "tag": [{"name": "VIP"}],
    }
    client.edit_corp_tag(id="et1", name="SVIP")
    assert body_of(edited.calls[0]) == {"id": "et1", "name": "SVIP"}
    client.del_corp_tag(group_ids=["etG"])
    assert body_of(deleted.calls[0]) == {"group_id": ["etG"]}
    client.mark_tag(userid="u", external_userid="wm", remove_tag=["et1"])
    assert body_of(marked.calls[0]) == {
        "userid": "u",
        "external_userid": "wm",
        "add_tag": [],
        "remove_tag": ["et1"],
    }
    with pytest.raises(ValueError):
        client.del_corp_tag()
    with pytest.raises(ValueError):
        client.mark_tag(userid="u", external_userid="wm")


def test_contact_way_methods(client, gettoken, mock):
    added = mock.post("/externalcontact/add_contact_way").mock(
        return_value=ok(config_id="cfg1", qr_code="https://p.qpic.cn/wwhead/x")
    )
    got = mock.post("/externalcontact/get_contact_way").mock(
        return_value=ok(contact_way={"config_id": "cfg1", "type": 1, "scene": 2})
    )
    updated = mock.post("/externalcontact/update_contact_way").mock(return_value=ok())
    removed = mock.post("/externalcontact/del_contact_way").mock(return_value=ok())

    way = client.add_contact_way(type=1, scene=2, user=["zhangsan"], state="ch1", remark=None)
    assert way == {"config_id": "cfg1", "qr_code": "https://p.qpic.cn/wwhead/x"}
    assert body_of(added.calls[0]) == {"type": 1, "scene": 2, "user": ["zhangsan"], "state": "ch1"}
    assert client.get_contact_way("cfg1")["scene"] == 2
    assert body_of(got.calls[0]) == {"config_id": "cfg1"}
    client.update_contact_way("cfg1", remark="门店", user=["lisi"])
    assert body_of(updated.calls[0]) == {"config_id": "cfg1", "remark": "门店", "user": ["lisi"]}
    client.del_contact_way("cfg1")
    assert body_of(removed.calls[0]) == {"config_id": "cfg1"}


# --- construction -------------------------------------------------------------------------------


def test_base_url_and_injected_http_client(gettoken):
    with respx.mock(base_url="http://sim.local:8000/cgi-bin") as sim:
        sim.get("/gettoken").mock(return_value=token_answer("SIM"))
        http = httpx.Client()
        with WeComClient(CORPID, SECRET, base_url="http://sim.local:8000/", http=http) as client:
            assert client.get_token() == "SIM"
        assert not http.is_closed  # the caller owns it
        http.close()
    assert gettoken.call_count == 0


def test_close_closes_own_http_client():
    client = WeComClient(CORPID, SECRET)
    client.close()
    assert client._http.is_closed


# --- welcome messages: media/upload ---------------------------------------------------------------


def test_upload_media_sends_multipart_and_reads_string_created_at(client, gettoken, mock):
    route = mock.post("/media/upload").mock(
        return_value=ok(type="image", media_id="MEDIA-1", created_at="1700000000")
    )
    answer = client.upload_media(media_type="image", filename="cover.png", content=b"\x89PNG-data")
    assert answer == {"type": "image", "media_id": "MEDIA-1", "created_at": 1700000000}
    request = route.calls[0].request
    assert request.url.params["type"] == "image"
    assert request.url.params["access_token"] == "TOKEN-1"
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert b'name="media"; filename="cover.png"' in request.content
    assert b"\x89PNG-data" in request.content


def test_upload_media_refreshes_a_bad_token_and_raises_wecom_errors(client, mock):
    mock.get("/gettoken").mock(side_effect=[token_answer("OLD"), token_answer("NEW")])
    route = mock.post("/media/upload").mock(
        side_effect=[fail(errors.TOKEN_EXPIRED), ok(media_id="M2", created_at=1700000001)]
    )
    assert (
        client.upload_media(media_type="file", filename="a.pdf", content=b"%PDF-1")["created_at"]
        == 1700000001
    )
    assert route.calls[1].request.url.params["access_token"] == "NEW"

    mock.post("/media/upload").mock(return_value=fail(45001, "file too big"))
    with pytest.raises(WeComError) as caught:
        client.upload_media(media_type="video", filename="v.mp4", content=b"x" * 10)
    assert (caught.value.errcode, caught.value.path) == (45001, "media/upload")


# --- acquisition links ----------------------------------------------------------------------------


def test_acquisition_link_methods_send_wecoms_shapes(client, gettoken, mock):
    create = mock.post("/externalcontact/customer_acquisition/create_link").mock(
        return_value=ok(link={"link_id": "cawc1", "url": "https://work.weixin.qq.com/ca/cawc1"})
    )
    link = client.create_acquisition_link(
        link_name="抖音", user_list=["zhangsan"], department_list=[2], skip_verify=False
    )
    assert link["link_id"] == "cawc1"
    assert json.loads(create.calls[0].request.content) == {
        "link_name": "抖音",
        "range": {"user_list": ["zhangsan"], "department_list": [2]},
        "skip_verify": False,
    }
    update = mock.post("/externalcontact/customer_acquisition/update_link").mock(return_value=ok())
    client.update_acquisition_link("cawc1", link_name="新名")
    assert json.loads(update.calls[0].request.content) == {"link_id": "cawc1", "link_name": "新名"}
    mock.post("/externalcontact/customer_acquisition/customer").mock(
        return_value=ok(customer_list=[{"external_userid": "wm1", "userid": "a"}], next_cursor="2")
    )
    rows, cursor = client.acquisition_link_customers("cawc1")
    assert rows[0]["external_userid"] == "wm1" and cursor == "2"
    mock.get("/externalcontact/customer_acquisition_quota").mock(
        return_value=ok(total=3, balance=47, quota_list=[])
    )
    assert client.acquisition_quota()["balance"] == 47
    mock.post("/externalcontact/customer_acquisition/delete_link").mock(
        return_value=fail(40058, "invalid link_id")
    )
    with pytest.raises(WeComError) as caught:
        client.delete_acquisition_link("gone")
    assert caught.value.errcode == 40058


def test_send_app_message_joins_recipients(client, gettoken, mock):
    route = mock.post("/message/send").mock(return_value=ok(invaliduser="ghost", msgid="m1"))
    answer = client.send_app_message(agentid=1000002, touser=["a", "ghost"], content="余额不足")
    assert answer["invaliduser"] == "ghost"
    assert json.loads(route.calls[0].request.content) == {
        "touser": "a|ghost",
        "msgtype": "text",
        "agentid": 1000002,
        "text": {"content": "余额不足"},
    }
