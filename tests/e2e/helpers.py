"""Comparing Qike's stored state with wecomsim's, and hand-built callbacks for delivery tests."""

from __future__ import annotations

import time

import httpx

from qike.core.models import Corp
from qike.customers.models import Customer, FollowRelation, RelationStatus
from qike.org.models import Department, Staff, StaffStatus
from qike.tags.models import Tag, TagAssignment
from qike.wecom.crypto import CallbackCrypto


def qike_state(corp: Corp) -> dict:
    tags: dict[int, set[str]] = {}
    for relation_id, wecom_id in TagAssignment.objects.filter(corp=corp).values_list(
        "relation_id", "tag__wecom_id"
    ):
        tags.setdefault(relation_id, set()).add(wecom_id)
    relations = {}
    for r in FollowRelation.objects.filter(corp=corp, status=RelationStatus.ACTIVE).select_related(
        "customer", "staff"
    ):
        relations[(r.customer.external_userid, r.staff.userid)] = {
            "remark": r.remark,
            "description": r.description,
            "add_way": r.add_way,
            "state": r.state,
            "remark_mobiles": list(r.remark_mobiles),
            "createtime": int(r.added_at.timestamp()) if r.added_at else 0,
            "tag_ids": tags.get(r.pk, set()),
        }
    live = {ext for ext, _ in relations}
    return {
        "customers": {
            c.external_userid: {
                "name": c.name,
                "type": c.type,
                "gender": c.gender,
                "unionid": c.unionid,
            }
            for c in Customer.objects.filter(corp=corp, external_userid__in=live)
        },
        "relations": relations,
        "staff": set(
            Staff.objects.filter(corp=corp)
            .exclude(status=StaffStatus.LEFT)
            .values_list("userid", flat=True)
        ),
        "departments": set(Department.objects.filter(corp=corp).values_list("wecom_id", flat=True)),
        "tags": set(Tag.objects.filter(corp=corp, type=1).values_list("wecom_id", flat=True)),
    }


def sim_state(snapshot: dict) -> dict:
    relations = {}
    customers = {}
    for c in snapshot["customers"]:
        customers[c["external_userid"]] = {
            "name": c.get("name", ""),
            "type": int(c.get("type") or 1),
            "gender": int(c.get("gender") or 0),
            "unionid": c.get("unionid", "") or "",
        }
        for f in c["follow_users"]:
            relations[(c["external_userid"], f["userid"])] = {
                "remark": f.get("remark", ""),
                "description": f.get("description", ""),
                "add_way": int(f.get("add_way") or 0),
                "state": f.get("state", "") or "",
                "remark_mobiles": [m for m in f.get("remark_mobiles") or [] if m],
                "createtime": int(f.get("createtime") or 0),
                "tag_ids": set(f.get("tag_ids") or []),
            }
    return {
        "customers": customers,
        "relations": relations,
        "staff": {u["userid"] for u in snapshot["users"] if int(u.get("status", 1)) != 5},
        "departments": {int(d["id"]) for d in snapshot["departments"]},
        "tags": {t["id"] for g in snapshot["tag_groups"] for t in g["tags"]},
    }


def assert_same_state(corp: Corp, snapshot: dict) -> None:
    ours, theirs = qike_state(corp), sim_state(snapshot)
    for key in ("departments", "staff", "tags"):
        assert ours[key] == theirs[key], key
    assert ours["customers"].keys() == theirs["customers"].keys()
    assert ours["relations"].keys() == theirs["relations"].keys()
    for ext, data in theirs["customers"].items():
        assert ours["customers"][ext] == data, ext
    for pair, data in theirs["relations"].items():
        assert ours["relations"][pair] == data, pair


def deliver(
    url: str, corp: Corp, xml: str, *, timestamp: int | None = None, nonce: str = "4242"
) -> httpx.Response:
    """POST an event exactly as WeCom does: encrypted with the corp's callback credentials."""
    box = CallbackCrypto(corp.callback_token, corp.encoding_aes_key, corp.corpid)
    ts = str(timestamp or int(time.time()))
    body, signature = box.callback_body(xml.encode("utf-8"), ts, nonce)
    return httpx.post(
        url,
        params={"msg_signature": signature, "timestamp": ts, "nonce": nonce},
        content=body,
        timeout=30,
    )


def contact_event(
    corp: Corp, change_type: str, userid: str, external_userid: str, at: int, **extra: str
) -> str:
    fields = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in extra.items())
    return (
        f"<xml><ToUserName><![CDATA[{corp.corpid}]]></ToUserName>"
        "<FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_contact]]></Event>"
        f"<ChangeType><![CDATA[{change_type}]]></ChangeType>"
        f"<UserID><![CDATA[{userid}]]></UserID>"
        f"<ExternalUserID><![CDATA[{external_userid}]]></ExternalUserID>{fields}</xml>"
    )
