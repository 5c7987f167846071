"""Customer moments (客户朋友圈): add_moment_task, get_moment_task_result, get_moment_list/_task, comments, cancel.

A mixin of WeComClient (client.py): methods use self._post / self._get and the helpers there.
Do not import client.py at module level (it imports this module); answers are plain dicts.

Doc 95094 (创建发表任务, 获取任务创建结果), 93333 (发表记录), 97612 (停止发表); see wecomsim/moments.py for
the rules WeCom applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

MOMENT_TASK_PAGE = 1000  # get_moment_task: limit ≤ 1000
MOMENT_CUSTOMER_PAGE = 1000  # get_moment_customer_list: limit ≤ 1000
MOMENT_SEND_RESULT_PAGE = 5000  # get_moment_send_result: limit ≤ 5000
MOMENT_LIST_PAGE = 20  # get_moment_list: limit ≤ 20

JOB_STARTED, JOB_RUNNING, JOB_DONE = 1, 2, 3


class MomentCalls:
    _post: Any
    _get: Any

    def add_moment_task(
        self,
        *,
        text: str = "",
        attachments: Iterable[dict] = (),
        userids: Iterable[str] = (),
        department_ids: Iterable[int] = (),
        tag_ids: Iterable[str] = (),
    ) -> str:
        """Create a moment task (asynchronous): the jobid to poll with get_moment_task_result.
        With no userids/departments the task goes to every member in the app's range; with tags
        only to the followers of customers with those tags."""
        body: dict[str, Any] = {}
        if text:
            body["text"] = {"content": text}
        items = list(attachments)
        if items:
            body["attachments"] = items
        senders: dict[str, Any] = {}
        if users := list(userids):
            senders["user_list"] = users
        if departments := [int(d) for d in department_ids]:
            senders["department_list"] = departments
        visible: dict[str, Any] = {}
        if senders:
            visible["sender_list"] = senders
        if tags := list(tag_ids):
            visible["external_contact_list"] = {"tag_list": tags}
        if visible:
            body["visible_range"] = visible
        return str(self._post("externalcontact/add_moment_task", body).get("jobid") or "")

    def get_moment_task_result(self, jobid: str) -> dict:
        """{status (1 started, 2 creating, 3 done), type, result{errcode, errmsg, moment_id,
        invalid_sender_list{user_list, department_list}, invalid_external_contact_list{tag_list}}}
        (result only once status is 3)."""
        answer = self._get("externalcontact/get_moment_task_result", jobid=jobid)
        return {k: v for k, v in answer.items() if k not in ("errcode", "errmsg")}

    def cancel_moment_task(self, moment_id: str) -> None:
        """Stop the task for members who have not published; what was published stays."""
        self._post("externalcontact/cancel_moment_task", {"moment_id": moment_id})

    def get_moment_list(
        self,
        *,
        start_time: int,
        end_time: int,
        filter_type: int = 2,
        creator: str = "",
        cursor: str = "",
        limit: int = MOMENT_LIST_PAGE,
    ) -> tuple[list[dict], str]:
        """One page of the corp's moments in (start_time, end_time) (≤ 30 days apart)."""
        body: dict[str, Any] = {
            "start_time": start_time,
            "end_time": end_time,
            "filter_type": filter_type,
            "limit": limit,
        }
        if creator:
            body["creator"] = creator
        if cursor:
            body["cursor"] = cursor
        answer = self._post("externalcontact/get_moment_list", body)
        return answer.get("moment_list", []) or [], answer.get("next_cursor", "") or ""

    def _moment_page(self, path: str, body: dict, key: str) -> tuple[list[dict], str]:
        answer = self._post(path, {k: v for k, v in body.items() if v not in ("", None)})
        return answer.get(key, []) or [], answer.get("next_cursor", "") or ""

    def get_moment_task(self, moment_id: str, *, cursor: str = "") -> tuple[list[dict], str]:
        """One page of [{userid, publish_status (0 not yet, 1 published)}]."""
        body = {"moment_id": moment_id, "cursor": cursor, "limit": MOMENT_TASK_PAGE}
        return self._moment_page("externalcontact/get_moment_task", body, "task_list")

    def get_moment_customer_list(
        self, moment_id: str, userid: str, *, cursor: str = ""
    ) -> tuple[list[dict], str]:
        """One page of the customers chosen for a member at creation: [{userid, external_userid}]."""
        body = {
            "moment_id": moment_id,
            "userid": userid,
            "cursor": cursor,
            "limit": MOMENT_CUSTOMER_PAGE,
        }
        return self._moment_page("externalcontact/get_moment_customer_list", body, "customer_list")

    def get_moment_send_result(
        self, moment_id: str, userid: str, *, cursor: str = ""
    ) -> tuple[list[dict], str]:
        """One page of the customers a member's published moment reached: [{external_userid}]
        (41062 while the member has not published)."""
        body = {
            "moment_id": moment_id,
            "userid": userid,
            "cursor": cursor,
            "limit": MOMENT_SEND_RESULT_PAGE,
        }
        return self._moment_page("externalcontact/get_moment_send_result", body, "customer_list")

    def get_moment_comments(self, moment_id: str, userid: str) -> dict:
        """{comment_list, like_list}: each {external_userid | userid, create_time} (no text)."""
        answer = self._post(
            "externalcontact/get_moment_comments", {"moment_id": moment_id, "userid": userid}
        )
        return {
            "comment_list": answer.get("comment_list", []) or [],
            "like_list": answer.get("like_list", []) or [],
        }

    def iter_moment_task(self, moment_id: str) -> Iterator[list[dict]]:
        from qike.wecom.client import iter_cursor

        return iter_cursor(lambda cursor: self.get_moment_task(moment_id, cursor=cursor))

    def iter_moment_send_result(self, moment_id: str, userid: str) -> Iterator[list[dict]]:
        from qike.wecom.client import iter_cursor

        return iter_cursor(
            lambda cursor: self.get_moment_send_result(moment_id, userid, cursor=cursor)
        )
