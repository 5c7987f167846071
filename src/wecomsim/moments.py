"""Customer moments (客户朋友圈): add_moment_task, task results, publish status, comments and likes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import store

SCHEMA = """
"""
store.EXTRA_SCHEMAS.append(SCHEMA)

# path under /cgi-bin/ -> (method, fn(state, corpid, body, args)); plugged in by api.py
API_ROUTES: dict[str, tuple[str, Callable[..., dict[str, Any]]]] = {}
