"""Callback XML parsing: each event type from WeCom-shaped samples, hostile XML, and dedupe keys."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qike.wecom import crypto
from qike.wecom.events import (
    ContactEvent,
    CustomerAcquisitionEvent,
    Envelope,
    Event,
    EventParseError,
    ExternalChatEvent,
    ExternalContactEvent,
    ExternalTagEvent,
    UnknownEvent,
    parse_envelope,
    parse_event,
)

CORPID = "ww4a7c2d1e9b3f0a1c"


def event_xml(
    event: str, change_type: str | None = None, body: str = "", create_time: int = 1403610513
) -> bytes:
    change = f"<ChangeType><![CDATA[{change_type}]]></ChangeType>\n" if change_type else ""
    return (
        "<xml>\n"
        f"<ToUserName><![CDATA[{CORPID}]]></ToUserName>\n"
        "<FromUserName><![CDATA[sys]]></FromUserName>\n"
        f"<CreateTime>{create_time}</CreateTime>\n"
        "<MsgType><![CDATA[event]]></MsgType>\n"
        f"<Event><![CDATA[{event}]]></Event>\n"
        f"{change}{body}</xml>"
    ).encode()


# --- change_external_contact --------------------------------------------------------------------


def test_add_external_contact():
    xml = event_xml(
        "change_external_contact",
        "add_external_contact",
        "<UserID><![CDATA[zhangsan]]></UserID>\n"
        "<ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA]]></ExternalUserID>\n"
        "<State><![CDATA[channel_42]]></State>\n"
        "<WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>\n",
    )
    event = parse_event(xml)
    assert isinstance(event, ExternalContactEvent)
    assert event.kind == "change_external_contact/add_external_contact"
    assert event.to_user_name == CORPID
    assert event.from_user_name == "sys"
    assert event.create_time == 1403610513
    assert event.msg_type == "event"
    assert event.user_id == "zhangsan"
    assert event.external_user_id == "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA"
    assert event.state == "channel_42"
    assert event.welcome_code == "WELCOMECODE"
    assert event.fields["WelcomeCode"] == "WELCOMECODE"
    assert event.xml == xml


@pytest.mark.parametrize(
    ("change_type", "extra", "attribute", "value"),
    [
        (
            "add_half_external_contact",
            "<WelcomeCode><![CDATA[W1]]></WelcomeCode>",
            "welcome_code",
            "W1",
        ),
        ("edit_external_contact", "", "state", ""),
        (
            "del_external_contact",
            "<Source><![CDATA[DELETE_BY_TRANSFER]]></Source>",
            "source",
            "DELETE_BY_TRANSFER",
        ),
        ("del_follow_user", "", "source", ""),
        (
            "transfer_fail",
            "<FailReason><![CDATA[customer_refused]]></FailReason>",
            "fail_reason",
            "customer_refused",
        ),
        ("msg_audit_approved", "<WelcomeCode><![CDATA[W2]]></WelcomeCode>", "welcome_code", "W2"),
    ],
)
def test_external_contact_change_types(change_type, extra, attribute, value):
    body = (
        "<UserID><![CDATA[lisi]]></UserID><ExternalUserID><![CDATA[wmX]]></ExternalUserID>" + extra
    )
    event = parse_event(event_xml("change_external_contact", change_type, body))
    assert isinstance(event, ExternalContactEvent)
    assert event.change_type == change_type
    assert (event.user_id, event.external_user_id) == ("lisi", "wmX")
    assert getattr(event, attribute) == value


def test_welcome_code_absent_is_empty():
    body = "<UserID>u</UserID><ExternalUserID>wm1</ExternalUserID>"
    event = parse_event(event_xml("change_external_contact", "add_external_contact", body))
    assert event.welcome_code == ""
    assert "WelcomeCode" not in event.fields


# --- change_contact -----------------------------------------------------------------------------


def test_update_user_carries_only_changed_fields():
    body = (
        "<UserID><![CDATA[zhangsan]]></UserID>\n"
        "<NewUserID><![CDATA[zhangsan001]]></NewUserID>\n"
        "<Name><![CDATA[张三]]></Name>\n"
        "<Department><![CDATA[1,2,3]]></Department>\n"
        "<MainDepartment>1</MainDepartment>\n"
        "<IsLeaderInDept><![CDATA[1,0,0]]></IsLeaderInDept>\n"
        "<DirectLeader><![CDATA[lisi,wangwu]]></DirectLeader>\n"
        "<Position><![CDATA[产品经理]]></Position>\n"
        "<Mobile>13800000000</Mobile>\n"
        "<Gender>1</Gender>\n"
        "<Email><![CDATA[zhangsan@gzdev.com]]></Email>\n"
        "<BizMail><![CDATA[zhangsan@qyycs2.wecom.work]]></BizMail>\n"
        "<Status>1</Status>\n"
        "<Avatar><![CDATA[http://wx.qlogo.cn/mmopen/ajNVdqHZLLA3WJ6DSZUfiakYe37PKnQhBIeOQBO4czqrnZDS79FH5Wm5m4X69TBicnHFlhiafvDwklOpZeXYQQ2icg/0]]></Avatar>\n"
        "<Alias><![CDATA[zhangsan]]></Alias>\n"
        "<Telephone><![CDATA[020-123456]]></Telephone>\n"
        "<Address><![CDATA[广州市]]></Address>\n"
        "<ExtAttr><Item><Name><![CDATA[爱好]]></Name><Type>0</Type><Text><Value><![CDATA[旅游]]></Value></Text></Item></ExtAttr>\n"
    )
    event = parse_event(event_xml("change_contact", "update_user", body))
    assert isinstance(event, ContactEvent)
    assert event.kind == "change_contact/update_user"
    assert (event.user_id, event.new_user_id, event.name) == ("zhangsan", "zhangsan001", "张三")
    assert event.department == [1, 2, 3]
    assert event.main_department == 1
    assert event.is_leader_in_dept == [1, 0, 0]
    assert event.direct_leader == ["lisi", "wangwu"]
    assert (event.position, event.mobile, event.gender) == ("产品经理", "13800000000", "1")
    assert (event.email, event.biz_mail, event.status) == (
        "zhangsan@gzdev.com",
        "zhangsan@qyycs2.wecom.work",
        1,
    )
    assert event.avatar.startswith("http://wx.qlogo.cn/")
    assert (event.alias, event.telephone, event.address) == ("zhangsan", "020-123456", "广州市")
    assert "ExtAttr" not in event.fields  # nested: read it from event.xml


def test_absent_member_fields_are_none():
    body = "<UserID><![CDATA[zhangsan]]></UserID><Department><![CDATA[]]></Department>"
    event = parse_event(event_xml("change_contact", "update_user", body))
    assert event.department == []  # present but empty: the member is in no department now
    assert event.name is None
    assert event.main_department is None
    assert event.mobile is None
    assert event.status is None
    assert event.new_user_id == ""


def test_delete_user():
    event = parse_event(event_xml("change_contact", "delete_user", "<UserID>zhangsan</UserID>"))
    assert event.kind == "change_contact/delete_user"
    assert event.user_id == "zhangsan"
    assert event.department is None


def test_create_party():
    body = (
        "<Id>2</Id>\n<Name><![CDATA[张三]]></Name>\n<ParentId><![CDATA[1]]></ParentId>\n"
        "<Order>1</Order>\n"
    )
    event = parse_event(event_xml("change_contact", "create_party", body))
    assert isinstance(event, ContactEvent)
    assert (event.id, event.name, event.parent_id, event.order) == ("2", "张三", "1", 1)


def test_update_tag():
    body = (
        "<TagId>1</TagId>\n"
        "<AddUserItems><![CDATA[zhangsan,lisi]]></AddUserItems>\n"
        "<DelUserItems><![CDATA[zhangsan1,lisi1]]></DelUserItems>\n"
        "<AddPartyItems><![CDATA[1,2]]></AddPartyItems>\n"
        "<DelPartyItems><![CDATA[3,4]]></DelPartyItems>\n"
    )
    event = parse_event(event_xml("change_contact", "update_tag", body))
    assert event.tag_id == "1"
    assert event.add_user_items == ["zhangsan", "lisi"]
    assert event.del_user_items == ["zhangsan1", "lisi1"]
    assert event.add_party_items == [1, 2]
    assert event.del_party_items == [3, 4]


def test_bad_integer_list_is_rejected():
    body = "<UserID>u</UserID><Department><![CDATA[1,x]]></Department>"
    with pytest.raises(EventParseError, match="Department"):
        parse_event(event_xml("change_contact", "update_user", body))


# --- change_external_tag ------------------------------------------------------------------------


def test_external_tag():
    body = (
        "<Id><![CDATA[etAJ2GCAAAXtWyujaWJHDDGi0mACHAAA]]></Id>\n"
        "<TagType><![CDATA[tag_group]]></TagType>\n"
        "<StrategyId>1</StrategyId>\n"
    )
    event = parse_event(event_xml("change_external_tag", "create", body))
    assert isinstance(event, ExternalTagEvent)
    assert event.kind == "change_external_tag/create"
    assert event.id == "etAJ2GCAAAXtWyujaWJHDDGi0mACHAAA"
    assert event.tag_type == "tag_group"
    assert event.strategy_id == "1"


def test_external_tag_shuffle_without_strategy():
    event = parse_event(event_xml("change_external_tag", "shuffle", "<Id>etG</Id>"))
    assert event.kind == "change_external_tag/shuffle"
    assert event.strategy_id == ""


# --- change_external_chat -----------------------------------------------------------------------

CHAT_HEAD = (
    "<ChatId><![CDATA[wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA]]></ChatId>\n"
    "<UpdateDetail><![CDATA[add_member]]></UpdateDetail>\n"
    "<JoinScene>3</JoinScene>\n"
    "<MemChangeCnt>2</MemChangeCnt>\n"
)
CHAT_TAIL = (
    "<LastMemVer>9c3f97c2ada667dfb5f6d03308d963e1</LastMemVer>\n"
    "<CurMemVer>71217227bbd112ecfe3a49c482195cb4</CurMemVer>\n"
)


@pytest.mark.parametrize(
    "member_list",
    [
        "<MemChangeList><Item><![CDATA[wmEAlECwAAHxxxx]]></Item><Item>zhangsan</Item></MemChangeList>",
        "<MemChangeList><![CDATA[wmEAlECwAAHxxxx,zhangsan]]></MemChangeList>",
        "<MemChangeList>\n  <Item>wmEAlECwAAHxxxx</Item>\n  <Item>zhangsan</Item>\n"
        "</MemChangeList>",
    ],
    ids=["items", "legacy-comma", "items-indented"],
)
def test_external_chat_member_change_both_forms(member_list):
    xml = event_xml("change_external_chat", "update", CHAT_HEAD + member_list + "\n" + CHAT_TAIL)
    event = parse_event(xml)
    assert isinstance(event, ExternalChatEvent)
    assert event.kind == "change_external_chat/update"
    assert event.chat_id == "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"
    assert event.update_detail == "add_member"
    assert event.join_scene == 3
    assert event.quit_scene is None
    assert event.mem_change_cnt == 2
    assert event.mem_change_list == ["wmEAlECwAAHxxxx", "zhangsan"]
    assert event.last_mem_ver == "9c3f97c2ada667dfb5f6d03308d963e1"
    assert event.cur_mem_ver == "71217227bbd112ecfe3a49c482195cb4"


def test_external_chat_quit_and_create():
    quit_body = (
        "<ChatId>wr1</ChatId><UpdateDetail>del_member</UpdateDetail><QuitScene>1</QuitScene>"
    )
    event = parse_event(event_xml("change_external_chat", "update", quit_body))
    assert (event.quit_scene, event.join_scene, event.mem_change_list) == (1, None, [])
    created = parse_event(event_xml("change_external_chat", "create", "<ChatId>wr2</ChatId>"))
    assert created.kind == "change_external_chat/create"
    assert created.chat_id == "wr2"


# --- customer_acquisition -----------------------------------------------------------------------


def test_acquisition_friend_request():
    body = "<LinkId><![CDATA[cawcdeXXXXXX]]></LinkId>\n<State><![CDATA[STATE]]></State>\n"
    event = parse_event(event_xml("customer_acquisition", "friend_request", body))
    assert isinstance(event, CustomerAcquisitionEvent)
    assert event.kind == "customer_acquisition/friend_request"
    assert (event.link_id, event.state) == ("cawcdeXXXXXX", "STATE")


def test_acquisition_customer_start_chat():
    body = "<UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[wmX]]></ExternalUserID>"
    event = parse_event(event_xml("customer_acquisition", "customer_start_chat", body))
    assert (event.user_id, event.external_user_id, event.link_id) == ("zhangsan", "wmX", "")


def test_acquisition_balance_low_has_no_fields():
    event = parse_event(event_xml("customer_acquisition", "balance_low"))
    assert isinstance(event, CustomerAcquisitionEvent)
    assert event.kind == "customer_acquisition/balance_low"


# --- unknown events and messages ----------------------------------------------------------------


def test_unknown_event_is_kept():
    body = "<BatchJob><JobId>jid</JobId><JobType>sync_user</JobType><ErrCode>0</ErrCode></BatchJob>"
    event = parse_event(event_xml("batch_job_result", None, body))
    assert type(event) is UnknownEvent
    assert event.kind == "batch_job_result"
    assert event.change_type == ""
    assert b"<JobId>jid</JobId>" in event.xml


def test_event_without_change_type_uses_event_name():
    event = parse_event(event_xml("msgaudit_notify", None, "<AgentID>1000002</AgentID>"))
    assert type(event) is UnknownEvent
    assert event.kind == "msgaudit_notify"
    assert event.fields["AgentID"] == "1000002"


def test_text_message_is_kept_as_unknown():
    # The plaintext of Tencent's official POST vector (API-FACTS §4).
    plaintext = (
        b"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n"
        b"<FromUserName><![CDATA[mycreate]]></FromUserName>\n"
        b"<CreateTime>1409659813</CreateTime>\n"
        b"<MsgType><![CDATA[text]]></MsgType>\n"
        b"<Content><![CDATA[hello]]></Content>\n"
        b"<MsgId>4561255354251345929</MsgId>\n"
        b"<AgentID>218</AgentID>\n"
        b"</xml>"
    )
    event = parse_event(plaintext)
    assert type(event) is UnknownEvent
    assert (event.msg_type, event.event, event.kind) == ("text", "", "text")
    assert event.fields["Content"] == "hello"
    assert event.create_time == 1409659813


def test_unknown_change_type_of_known_event_stays_typed():
    body = "<UserID>u</UserID><ExternalUserID>wm</ExternalUserID>"
    event = parse_event(event_xml("change_external_contact", "something_new", body))
    assert isinstance(event, ExternalContactEvent)
    assert event.kind == "change_external_contact/something_new"


# --- hostile and malformed XML ------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><MsgType>event</MsgType><Event>&xxe;</Event></xml>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml><MsgType>event</MsgType><Event>&lol3;</Event></xml>"""

PLAIN_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE xml SYSTEM "http://example.com/evil.dtd">
<xml><MsgType>event</MsgType><Event>change_external_tag</Event></xml>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://example.com/x.dtd"> %remote;]>
<xml><MsgType>event</MsgType><Event>x</Event></xml>"""


@pytest.mark.parametrize(
    "body",
    [XXE, BILLION_LAUGHS, PLAIN_DTD, PARAMETER_ENTITY],
    ids=["xxe", "billion-laughs", "external-dtd", "parameter-entity"],
)
def test_hostile_xml_rejected(body):
    with pytest.raises(EventParseError):
        parse_event(body)
    envelope = body.replace(b"<MsgType>event</MsgType>", b"<Encrypt>abc</Encrypt>")
    with pytest.raises(EventParseError):
        parse_envelope(envelope)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"not xml",
        b"<xml><MsgType>event</MsgType>",
        b"<xml><MsgType>event</MsgType><Event>x</Event></xml><xml/>",
        b"<notxml><MsgType>event</MsgType><Event>x</Event></notxml>",
        b"\xff\xfe<xml/>",
    ],
    ids=["empty", "blank", "text", "unclosed", "two-roots", "wrong-root", "bad-bytes"],
)
def test_malformed_xml_rejected(body):
    with pytest.raises(EventParseError):
        parse_event(body)


def test_deeply_nested_xml_rejected():
    deep = b"<a>" * 5000 + b"</a>" * 5000
    with pytest.raises(EventParseError, match="deeper"):
        parse_event(b"<xml><MsgType>event</MsgType><Event>x</Event>" + deep + b"</xml>")


def test_missing_msg_type_rejected():
    with pytest.raises(EventParseError, match="MsgType"):
        parse_event(b"<xml><Event>change_external_contact</Event><CreateTime>1</CreateTime></xml>")


def test_missing_event_rejected():
    with pytest.raises(EventParseError, match="Event"):
        parse_event(b"<xml><MsgType>event</MsgType><CreateTime>1</CreateTime></xml>")


def test_non_integer_create_time_rejected():
    with pytest.raises(EventParseError, match="CreateTime"):
        parse_event(event_xml("change_external_tag", "create").replace(b"1403610513", b"soon"))


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_as_other_errors(body):
    with contextlib.suppress(EventParseError):
        parse_event(body)


# --- the encrypted envelope ---------------------------------------------------------------------


def test_envelope_from_official_sample_shape():
    body = (
        b"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n"
        b"<Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWf==]]></Encrypt>\n"
        b"<AgentID><![CDATA[218]]></AgentID>\n"
        b"</xml>"
    )
    assert parse_envelope(body) == Envelope(
        to_user_name="wx5823bf96d3bd56c7",
        agent_id="218",
        encrypt="RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWf==",
    )


def test_envelope_round_trip_with_crypto():
    box = crypto.CallbackCrypto(crypto.generate_token(), crypto.generate_aes_key(), CORPID)
    plain = event_xml("change_external_tag", "delete", "<Id>et1</Id><TagType>tag</TagType>")
    body, signature = box.callback_body(plain, "1409659813", "nonce", agent_id="1000002")
    envelope = parse_envelope(body)
    assert (envelope.to_user_name, envelope.agent_id) == (CORPID, "1000002")
    decrypted = box.decrypt_message(signature, "1409659813", "nonce", envelope.encrypt)
    assert parse_event(decrypted).kind == "change_external_tag/delete"


def test_envelope_without_encrypt_rejected():
    with pytest.raises(EventParseError, match="Encrypt"):
        parse_envelope(b"<xml><ToUserName>ww1</ToUserName><AgentID>1</AgentID></xml>")


def test_envelope_without_agent_id():
    envelope = parse_envelope(b"<xml><ToUserName>ww1</ToUserName><Encrypt>abc=</Encrypt></xml>")
    assert envelope.agent_id == ""


# --- dedupe keys --------------------------------------------------------------------------------

TAG_BODY = "<Id><![CDATA[etX]]></Id><TagType><![CDATA[tag]]></TagType>"


def test_dedupe_key_is_stable_across_reencryption():
    box = crypto.CallbackCrypto(crypto.generate_token(), crypto.generate_aes_key(), CORPID)
    plain = event_xml("change_external_tag", "update", TAG_BODY)
    first, _ = box.encrypt_message(plain, "1", "a")
    second, _ = box.encrypt_message(plain, "2", "b")
    assert first != second
    keys = {
        parse_event(crypto.decrypt(box.key, enc).message).dedupe_key() for enc in (first, second)
    }
    assert len(keys) == 1
    (key,) = keys
    assert len(key) == 64
    assert key == parse_event(plain).dedupe_key()


def test_dedupe_key_ignores_layout_but_not_content():
    compact = event_xml("change_external_tag", "update", TAG_BODY).replace(b"\n", b"")
    spaced_body = "<Id><![CDATA[etX]]></Id>\n    <TagType><![CDATA[tag]]></TagType>\n"
    spaced = event_xml("change_external_tag", "update", spaced_body).replace(b"\n", b"\n    ")
    assert parse_event(compact).dedupe_key() == parse_event(spaced).dedupe_key()
    stored = parse_event(compact)
    replayed = parse_event(stored.xml.decode("utf-8").encode("utf-8"))
    assert replayed.dedupe_key() == stored.dedupe_key()


def test_dedupe_key_differs_by_create_time_and_fields():
    base = parse_event(event_xml("change_external_tag", "update", TAG_BODY)).dedupe_key()
    later = event_xml("change_external_tag", "update", TAG_BODY, create_time=1403610514)
    other_tag = event_xml("change_external_tag", "update", TAG_BODY.replace("etX", "etY"))
    other_type = event_xml("change_external_tag", "delete", TAG_BODY)
    extra = event_xml("change_external_tag", "update", TAG_BODY + "<StrategyId>1</StrategyId>")
    keys = [parse_event(x).dedupe_key() for x in (later, other_tag, other_type, extra)]
    assert len({base, *keys}) == 5


def test_dedupe_key_sees_member_list_order_and_content():
    def chat(items: str) -> str:
        xml = event_xml(
            "change_external_chat",
            "update",
            f"<ChatId>wr1</ChatId><MemChangeList>{items}</MemChangeList>",
        )
        return parse_event(xml).dedupe_key()

    assert chat("<Item>a</Item><Item>b</Item>") != chat("<Item>a</Item><Item>c</Item>")
    assert chat("<Item>a</Item><Item>b</Item>") != chat("<Item>a</Item>")


@given(
    user=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.@", min_size=1, max_size=20),
    other=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.@", min_size=1, max_size=20),
    create_time=st.integers(min_value=0, max_value=2**31),
)
def test_dedupe_key_unique_per_content(user, other, create_time):
    def key(userid: str) -> str:
        body = f"<UserID><![CDATA[{userid}]]></UserID><ExternalUserID>wm1</ExternalUserID>"
        return parse_event(
            event_xml("change_external_contact", "del_follow_user", body, create_time)
        ).dedupe_key()

    assert key(user) == key(user)
    assert (key(user) == key(other)) == (user == other)


def test_events_are_frozen():
    event = parse_event(event_xml("change_external_tag", "update", TAG_BODY))
    assert isinstance(event, Event)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.change_type = "delete"  # type: ignore[misc]
