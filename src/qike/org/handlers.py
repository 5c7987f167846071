"""change_contact events: keep departments and staff current."""

from __future__ import annotations

from qike.core.models import Corp
from qike.core.services import client_for
from qike.intake.registry import handles
from qike.org import services
from qike.wecom.errors import WeComError
from qike.wecom.events import ContactEvent

USER_GONE = 60111  # WeCom: userid not found


@handles("change_contact/create_user", "change_contact/update_user")
def member_changed(*, corp: Corp, event: ContactEvent) -> None:
    userid = event.new_user_id or event.user_id
    if event.new_user_id and event.new_user_id != event.user_id:
        services.rename_staff(corp=corp, userid=event.user_id, new_userid=event.new_user_id)
    try:
        user = client_for(corp).user_get(userid)
    except WeComError as exc:
        if exc.errcode != USER_GONE:
            raise
        services.mark_staff_left(corp=corp, userid=userid)
        return
    services.staff_from_wecom(corp=corp, user=user)


@handles("change_contact/delete_user")
def member_left(*, corp: Corp, event: ContactEvent) -> None:
    services.mark_staff_left(corp=corp, userid=event.user_id)


@handles("change_contact/create_party", "change_contact/update_party")
def department_changed(*, corp: Corp, event: ContactEvent) -> None:
    # Update events carry only what changed, so read the department as WeCom has it now.
    listed = [
        d for d in client_for(corp).department_list(int(event.id)) if int(d["id"]) == int(event.id)
    ]
    if not listed:
        services.delete_department(corp=corp, wecom_id=int(event.id))
        return
    data = listed[0]
    services.upsert_department(
        corp=corp,
        wecom_id=int(data["id"]),
        name=data.get("name", ""),
        name_en=data.get("name_en", "") or "",
        parent_wecom_id=int(data.get("parentid") or 0),
        order=int(data.get("order") or 0),
    )


@handles("change_contact/delete_party")
def department_deleted(*, corp: Corp, event: ContactEvent) -> None:
    services.delete_department(corp=corp, wecom_id=int(event.id))
