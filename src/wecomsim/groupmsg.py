"""Mass messages (企业群发): add_msg_template, the staff confirmation flow, per-customer limits,\nget_groupmsg_list_v2 / _task / _send_result, remind and cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import store

SCHEMA = """
"""
store.EXTRA_SCHEMAS.append(SCHEMA)

# path under /cgi-bin/ -> (method, fn(state, corpid, body, args)); plugged in by api.py
API_ROUTES: dict[str, tuple[str, Callable[..., dict[str, Any]]]] = {}
