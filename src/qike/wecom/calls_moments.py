"""Customer moments (客户朋友圈): add_moment_task, get_moment_task_result, get_moment_list/_task, comments, cancel.

A mixin of WeComClient (client.py): methods use self._post / self._get and the helpers there.
Do not import client.py at module level (it imports this module); answers are plain dicts."""

from __future__ import annotations


class MomentCalls:
    pass
