"""The WSGI application: /cgi-bin/ is WeCom's API, /sim/ is the control API."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from . import api, control
from .state import SimState


class SimApp:
    def __init__(self, state: SimState) -> None:
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith("/cgi-bin/"):
            response = api.dispatch(self.state, request)
        elif request.path.startswith("/sim/") or request.path == "/sim":
            response = control.dispatch(self.state, request)
        elif request.path in ("/", "/healthz"):
            response = Response(
                json.dumps({"wecomsim": True, "corps": self.state.corp_ids()}),
                content_type="application/json",
            )
        else:
            response = Response(
                json.dumps({"errcode": 404, "errmsg": f"not found: {request.path}"}),
                status=404,
                content_type="application/json",
            )
        return response(environ, start_response)


def make_app(state: SimState) -> SimApp:
    return SimApp(state)
