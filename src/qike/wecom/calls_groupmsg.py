"""Mass messages (企业群发): add_msg_template, get_groupmsg_list_v2/_task/_send_result, remind, cancel.

A mixin of WeComClient (client.py): methods use self._post / self._get and the helpers there.
Do not import client.py at module level (it imports this module); answers are plain dicts.

Limits (API-FACTS §3.6, §8): ≤ 10,000 external_userids and ≤ 9 attachments per add_msg_template;
get_groupmsg_list_v2 pages hold ≤ 100 (default 50); task and send-result pages ≤ 1000 (default 500).
Error codes Qike branches on: 41063 still dispatching (ask again later), 41093 cancelled,
41094 remind limit (3 per 24 h).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

MAX_RECIPIENTS = 10_000
MAX_ATTACHMENTS = 9
LIST_PAGE = 100
RESULT_PAGE = 1000

STILL_DISPATCHING = 41063
TASK_CANCELLED = 41093
REMIND_LIMIT = 41094


class GroupMessageCalls:
    _post: Any  # provided by WeComClient

    def add_msg_template(
        self,
        *,
        sender: str,
        external_userids: Sequence[str],
        text: str = "",
        attachments: Sequence[dict] = (),
        allow_select: bool = False,
    ) -> dict:
        """A single-chat corp mass message from `sender` to the customers: {msgid, fail_list}.
        Nothing is sent until the member confirms it in the WeCom client."""
        if len(external_userids) > MAX_RECIPIENTS:
            raise ValueError(f"add_msg_template takes at most {MAX_RECIPIENTS} external_userids")
        if len(attachments) > MAX_ATTACHMENTS:
            raise ValueError(f"add_msg_template takes at most {MAX_ATTACHMENTS} attachments")
        body: dict[str, Any] = {
            "chat_type": "single",
            "sender": sender,
            "external_userid": list(external_userids),
            "allow_select": allow_select,
        }
        if text:
            body["text"] = {"content": text}
        if attachments:
            body["attachments"] = list(attachments)
        answer = self._post("externalcontact/add_msg_template", body)
        return {"msgid": answer.get("msgid", ""), "fail_list": answer.get("fail_list") or []}

    def get_groupmsg_list_v2(
        self,
        *,
        start_time: int,
        end_time: int,
        chat_type: str = "single",
        filter_type: int = 2,
        creator: str | None = None,
        cursor: str = "",
        limit: int = LIST_PAGE,
    ) -> tuple[list[dict], str]:
        body: dict[str, Any] = {
            "chat_type": chat_type,
            "start_time": start_time,
            "end_time": end_time,
            "filter_type": filter_type,
            "limit": limit,
            "cursor": cursor,
        }
        if creator:
            body["creator"] = creator
        answer = self._post("externalcontact/get_groupmsg_list_v2", body)
        return answer.get("group_msg_list") or [], answer.get("next_cursor") or ""

    def iter_groupmsg_list_v2(self, **query: Any) -> Iterator[list[dict]]:
        from qike.wecom.client import iter_cursor

        return iter_cursor(lambda cursor: self.get_groupmsg_list_v2(cursor=cursor, **query))

    def get_groupmsg_task(
        self, msgid: str, *, cursor: str = "", limit: int = RESULT_PAGE
    ) -> tuple[list[dict], str]:
        body = {"msgid": msgid, "limit": limit, "cursor": cursor}
        answer = self._post("externalcontact/get_groupmsg_task", body)
        return answer.get("task_list") or [], answer.get("next_cursor") or ""

    def iter_groupmsg_task(self, msgid: str) -> Iterator[list[dict]]:
        from qike.wecom.client import iter_cursor

        return iter_cursor(lambda cursor: self.get_groupmsg_task(msgid, cursor=cursor))

    def get_groupmsg_send_result(
        self, msgid: str, userid: str, *, cursor: str = "", limit: int = RESULT_PAGE
    ) -> tuple[list[dict], str]:
        body = {"msgid": msgid, "userid": userid, "limit": limit, "cursor": cursor}
        answer = self._post("externalcontact/get_groupmsg_send_result", body)
        return answer.get("send_list") or [], answer.get("next_cursor") or ""

    def iter_groupmsg_send_result(self, msgid: str, userid: str) -> Iterator[list[dict]]:
        from qike.wecom.client import iter_cursor

        return iter_cursor(
            lambda cursor: self.get_groupmsg_send_result(msgid, userid, cursor=cursor)
        )

    def remind_groupmsg_send(self, msgid: str) -> None:
        """Remind the members who have not sent yet (WeCom: at most 3 times in 24 hours)."""
        self._post("externalcontact/remind_groupmsg_send", {"msgid": msgid})

    def cancel_groupmsg_send(self, msgid: str) -> None:
        """Stop the deliveries not sent yet; those already sent stay sent."""
        self._post("externalcontact/cancel_groupmsg_send", {"msgid": msgid})
