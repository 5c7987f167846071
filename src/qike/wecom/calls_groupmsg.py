"""Mass messages (企业群发): add_msg_template, get_groupmsg_list_v2/_task/_send_result, remind, cancel.

A mixin of WeComClient (client.py): methods use self._post / self._get and the helpers there.
Do not import client.py at module level (it imports this module); answers are plain dicts."""

from __future__ import annotations


class GroupMessageCalls:
    pass
