"""Callback event XML, as WeCom writes it after decryption (API-FACTS §2, §5, §8).

Envelope: ToUserName (corpid), FromUserName (`sys`), CreateTime, MsgType (`event`), Event, ChangeType,
then the event's own fields. Strings go in CDATA, integers bare, as in Tencent's samples.
"""

from __future__ import annotations

from collections.abc import Iterable

Field = tuple[str, str | int]


def _cdata(value: str) -> str:
    # "]]>" cannot appear inside one CDATA section; split it across two.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _element(name: str, value: str | int) -> str:
    body = str(value) if isinstance(value, int) else _cdata(value)
    return f"<{name}>{body}</{name}>"


def event_xml(
    corpid: str, create_time: int, event: str, change_type: str, fields: Iterable[Field]
) -> str:
    parts = [
        _element("ToUserName", corpid),
        _element("FromUserName", "sys"),
        _element("CreateTime", create_time),
        _element("MsgType", "event"),
        _element("Event", event),
        _element("ChangeType", change_type),
    ]
    parts.extend(_element(name, value) for name, value in fields)
    return "<xml>" + "".join(parts) + "</xml>"
