"""Parse WeCom callback XML into typed, immutable events.

Callback bodies come from the internet, so XML is parsed with defusedxml and any DTD, entity
declaration or external reference is refused outright (XXE, billion laughs). Events we do not model
are kept as `UnknownEvent`, never dropped: the intake stores everything and can replay it later.

Field names follow API-FACTS §2, §5 and §8. WeCom pushes most member fields of `change_contact` only
when they changed, so those attributes are None when the element is absent.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

ROOT_TAG = "xml"
# WeCom nests at most 5 levels (xml/ExtAttr/Item/Text/Value); far deeper documents are hostile and
# would exhaust recursion in the dedupe canonicalisation.
MAX_DEPTH = 16


class EventParseError(ValueError):
    """The body is not a well-formed, safe WeCom callback XML document."""


@dataclass(frozen=True)
class Envelope:
    """The outer body of an encrypted POST callback (API-FACTS §4)."""

    to_user_name: str
    agent_id: str
    encrypt: str


@dataclass(frozen=True, kw_only=True)
class Event:
    """A decrypted callback. `fields` holds the text of every flat child element of <xml>."""

    to_user_name: str
    from_user_name: str
    create_time: int
    msg_type: str
    event: str
    change_type: str
    fields: dict[str, str]
    xml: bytes = field(repr=False)

    @property
    def kind(self) -> str:
        """The handler registry key: "Event/ChangeType", or just the Event (or the MsgType) when
        there is no ChangeType, e.g. "msgaudit_notify" or "text"."""
        name = self.event or self.msg_type
        return f"{name}/{self.change_type}" if self.change_type else name

    def dedupe_key(self) -> str:
        """A content hash that is equal for redeliveries of this event and differs otherwise.

        WeCom retries a delivery up to 3 times, each time encrypted afresh, and many events (tag and
        contact changes) carry no MsgId, so the key is derived from the decrypted content: every
        element, CreateTime included. Whitespace between elements and the order of top-level
        elements do not count, so a re-serialised copy of the same event (a replay) keeps its key.
        """
        return _content_hash(self.xml)


@dataclass(frozen=True, kw_only=True)
class ContactEvent(Event):
    """change_contact: a member, department (party) or tag of the address book changed."""

    # Members (create_user / update_user / delete_user).
    user_id: str = ""
    new_user_id: str = ""
    name: str | None = None  # also the department name on party events
    department: list[int] | None = None
    main_department: int | None = None
    is_leader_in_dept: list[int] | None = None
    direct_leader: list[str] | None = None
    mobile: str | None = None
    position: str | None = None
    gender: str | None = None
    email: str | None = None
    biz_mail: str | None = None
    status: int | None = None
    avatar: str | None = None
    alias: str | None = None
    telephone: str | None = None
    address: str | None = None
    # Departments (create_party / update_party / delete_party).
    id: str = ""
    parent_id: str | None = None
    order: int | None = None
    # Tags (update_tag).
    tag_id: str = ""
    add_user_items: list[str] = field(default_factory=list)
    del_user_items: list[str] = field(default_factory=list)
    add_party_items: list[int] = field(default_factory=list)
    del_party_items: list[int] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ExternalContactEvent(Event):
    """change_external_contact: add_external_contact, add_half_external_contact,
    edit_external_contact, del_external_contact, del_follow_user, transfer_fail,
    msg_audit_approved."""

    user_id: str = ""
    external_user_id: str = ""
    state: str = ""
    welcome_code: str = ""  # valid 20 s, single use; absent when the admin configured a welcome
    source: str = ""  # "DELETE_BY_TRANSFER" when a transfer removed the relation
    fail_reason: str = ""  # transfer_fail: customer_refused | customer_limit_exceed


@dataclass(frozen=True, kw_only=True)
class ExternalTagEvent(Event):
    """change_external_tag: create / update / delete / shuffle of a corp tag or tag group."""

    id: str = ""
    tag_type: str = ""  # "tag" | "tag_group"
    strategy_id: str = ""


@dataclass(frozen=True, kw_only=True)
class ExternalChatEvent(Event):
    """change_external_chat: create / update / dismiss of a customer group."""

    chat_id: str = ""
    update_detail: str = ""
    join_scene: int | None = (
        None  # 0 invited by a member (directly or by link), 3 scanned the QR code
    )
    quit_scene: int | None = None  # 0 left on their own, 1 removed by owner/admin
    mem_change_cnt: int | None = None
    mem_change_list: list[str] = field(default_factory=list)
    last_mem_ver: str = ""
    cur_mem_ver: str = ""


@dataclass(frozen=True, kw_only=True)
class CustomerAcquisitionEvent(Event):
    """customer_acquisition (获客助手): friend_request, customer_start_chat, delete_link,
    link_unavailable, balance_low, balance_exhausted, …"""

    link_id: str = ""
    state: str = ""
    user_id: str = ""
    external_user_id: str = ""


@dataclass(frozen=True, kw_only=True)
class UnknownEvent(Event):
    """Any other event or message; kept so that it is stored and can be handled later."""


def parse_envelope(body: bytes) -> Envelope:
    """The outer POST body: <xml><ToUserName/><AgentID/><Encrypt/></xml>."""
    root = _parse(body)
    fields = _flat_fields(root)
    encrypt = fields.get("Encrypt", "").strip()
    if not encrypt:
        raise EventParseError("envelope has no Encrypt element")
    return Envelope(
        to_user_name=fields.get("ToUserName", ""),
        agent_id=fields.get("AgentID", ""),
        encrypt=encrypt,
    )


def parse_event(xml: bytes) -> Event:
    """A decrypted callback as its typed event; `UnknownEvent` for anything not modelled."""
    root = _parse(xml)
    fields = _flat_fields(root)
    msg_type = fields.get("MsgType", "")
    if not msg_type:
        raise EventParseError("event has no MsgType")
    event_name = fields.get("Event", "")
    if msg_type == "event" and not event_name:
        raise EventParseError("event message has no Event")
    base = {
        "to_user_name": fields.get("ToUserName", ""),
        "from_user_name": fields.get("FromUserName", ""),
        "create_time": _int(fields, "CreateTime") or 0,
        "msg_type": msg_type,
        "event": event_name,
        "change_type": fields.get("ChangeType", ""),
        "fields": fields,
        "xml": bytes(xml),
    }
    typed = _TYPED.get(event_name) if msg_type == "event" else None
    if typed is None:
        return UnknownEvent(**base)
    cls, extract = typed
    return cls(**base, **extract(root, fields))


# --- parsing helpers -----------------------------------------------------------------------------


def _parse(body: bytes) -> Element:
    if not body or not body.strip():
        raise EventParseError("empty XML body")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise EventParseError(f"forbidden XML construct: {type(exc).__name__}") from exc
    except (ParseError, ValueError) as exc:
        raise EventParseError(f"malformed XML: {exc}") from exc
    if root.tag != ROOT_TAG:
        raise EventParseError(f"root element is <{root.tag}>, expected <{ROOT_TAG}>")
    if _depth(root) > MAX_DEPTH:
        raise EventParseError(f"XML nested deeper than {MAX_DEPTH} levels")
    return root


def _depth(root: Element) -> int:
    deepest = 0
    level = [root]
    while level:  # breadth-first, so a deep document cannot exhaust the stack here either
        deepest += 1
        level = [child for element in level for child in element]
    return deepest


def _flat_fields(root: Element) -> dict[str, str]:
    """Text of each child of <xml> that has no children of its own; the first wins on repeats."""
    fields: dict[str, str] = {}
    for child in root:
        if len(child) == 0 and child.tag not in fields:
            fields[child.tag] = child.text or ""
    return fields


def _int(fields: dict[str, str], name: str) -> int | None:
    value = fields.get(name)
    if value is None or not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError as exc:
        raise EventParseError(f"{name} is not an integer: {value[:40]!r}") from exc


def _str_or_none(fields: dict[str, str], name: str) -> str | None:
    return fields.get(name)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _str_list(fields: dict[str, str], name: str) -> list[str] | None:
    value = fields.get(name)
    return None if value is None else _split(value)


def _int_list(fields: dict[str, str], name: str) -> list[int] | None:
    value = fields.get(name)
    if value is None:
        return None
    try:
        return [int(part) for part in _split(value)]
    except ValueError as exc:
        raise EventParseError(f"{name} is not a list of integers: {value[:40]!r}") from exc


def _items(root: Element, name: str) -> list[str]:
    """A list element in either form WeCom has used: <Name><Item>a</Item>…</Name> (current) or a
    comma-separated string (before 2023)."""
    element = root.find(name)
    if element is None:
        return []
    if len(element):
        return [(item.text or "").strip() for item in element if (item.text or "").strip()]
    return _split(element.text or "")


# --- typed extraction per Event ------------------------------------------------------------------


def _contact(root: Element, f: dict[str, str]) -> dict:
    return {
        "user_id": f.get("UserID", ""),
        "new_user_id": f.get("NewUserID", ""),
        "name": _str_or_none(f, "Name"),
        "department": _int_list(f, "Department"),
        "main_department": _int(f, "MainDepartment"),
        "is_leader_in_dept": _int_list(f, "IsLeaderInDept"),
        "direct_leader": _str_list(f, "DirectLeader"),
        "mobile": _str_or_none(f, "Mobile"),
        "position": _str_or_none(f, "Position"),
        "gender": _str_or_none(f, "Gender"),
        "email": _str_or_none(f, "Email"),
        "biz_mail": _str_or_none(f, "BizMail"),
        "status": _int(f, "Status"),
        "avatar": _str_or_none(f, "Avatar"),
        "alias": _str_or_none(f, "Alias"),
        "telephone": _str_or_none(f, "Telephone"),
        "address": _str_or_none(f, "Address"),
        "id": f.get("Id", ""),
        "parent_id": _str_or_none(f, "ParentId"),
        "order": _int(f, "Order"),
        "tag_id": f.get("TagId", ""),
        "add_user_items": _str_list(f, "AddUserItems") or [],
        "del_user_items": _str_list(f, "DelUserItems") or [],
        "add_party_items": _int_list(f, "AddPartyItems") or [],
        "del_party_items": _int_list(f, "DelPartyItems") or [],
    }


def _external_contact(root: Element, f: dict[str, str]) -> dict:
    return {
        "user_id": f.get("UserID", ""),
        "external_user_id": f.get("ExternalUserID", ""),
        "state": f.get("State", ""),
        "welcome_code": f.get("WelcomeCode", ""),
        "source": f.get("Source", ""),
        "fail_reason": f.get("FailReason", ""),
    }


def _external_tag(root: Element, f: dict[str, str]) -> dict:
    return {
        "id": f.get("Id", ""),
        "tag_type": f.get("TagType", ""),
        "strategy_id": f.get("StrategyId", ""),
    }


def _external_chat(root: Element, f: dict[str, str]) -> dict:
    return {
        "chat_id": f.get("ChatId", ""),
        "update_detail": f.get("UpdateDetail", ""),
        "join_scene": _int(f, "JoinScene"),
        "quit_scene": _int(f, "QuitScene"),
        "mem_change_cnt": _int(f, "MemChangeCnt"),
        "mem_change_list": _items(root, "MemChangeList"),
        "last_mem_ver": f.get("LastMemVer", ""),
        "cur_mem_ver": f.get("CurMemVer", ""),
    }


def _customer_acquisition(root: Element, f: dict[str, str]) -> dict:
    return {
        "link_id": f.get("LinkId", ""),
        "state": f.get("State", ""),
        "user_id": f.get("UserID", ""),
        "external_user_id": f.get("ExternalUserID", ""),
    }


_TYPED = {
    "change_contact": (ContactEvent, _contact),
    "change_external_contact": (ExternalContactEvent, _external_contact),
    "change_external_tag": (ExternalTagEvent, _external_tag),
    "change_external_chat": (ExternalChatEvent, _external_chat),
    "customer_acquisition": (CustomerAcquisitionEvent, _customer_acquisition),
}


# --- dedupe ---------------------------------------------------------------------------------------


def _canonical(element: Element) -> list:
    """[tag, text, children] with insignificant whitespace removed. Leaf text is kept verbatim, so
    values that differ only in spaces still give different keys."""
    children = [_canonical(child) for child in element]
    text = element.text or ""
    if children and not text.strip():
        text = ""
    return [element.tag, text, children]


def _content_hash(xml: bytes) -> str:
    tag, text, children = _canonical(_parse(xml))
    # Top-level order carries no meaning in WeCom's flat events; nested lists (Items) keep theirs.
    canonical = [tag, text, sorted(children, key=lambda c: json.dumps(c, ensure_ascii=False))]
    payload = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
