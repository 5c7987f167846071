"""Running the simulator: `SimServer` (a context manager for tests) and `serve()` (the CLI)."""

from __future__ import annotations

import logging
import os
import threading
from types import TracebackType

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import make_app
from .state import SimState

log = logging.getLogger(__name__)


class QuietHandler(WSGIRequestHandler):
    """Logs method and path only: query strings carry access_tokens and corp secrets."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s %s", self.command, self.path.split("?", 1)[0], code)


class SimServer:
    """A threaded werkzeug server on a background thread.

    with SimServer(db=":memory:", port=0, retry_delay=0.2) as sim:
        sim.url, sim.state
    """

    def __init__(
        self,
        db: str = ":memory:",
        host: str = "127.0.0.1",
        port: int = 0,
        retry_delay: float = 1.0,
        delivery_workers: int = 1,
    ) -> None:
        self.host = host
        self.state = SimState(db, retry_delay=retry_delay, delivery_workers=delivery_workers)
        self._server = make_server(
            host, port, make_app(self.state), threaded=True, request_handler=QuietHandler
        )
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self.state.base_url = self.url
        self._thread: threading.Thread | None = None

    def start(self) -> SimServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll interval
            name="wecomsim-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.state.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    host: str = "127.0.0.1",
    port: int = 8800,
    db: str = "./var/wecomsim.sqlite3",
    delivery_workers: int = 1,
) -> None:
    """Blocking: serve until interrupted."""
    if db != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(db)), exist_ok=True)
    server = SimServer(db=db, host=host, port=port, delivery_workers=delivery_workers)
    print(f"wecomsim listening on {server.url}  (db: {db})", flush=True)
    try:
        server._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()
        server.state.close()
