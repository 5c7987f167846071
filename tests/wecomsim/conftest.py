"""Fixtures: a running simulator, a corp with a token, and a tiny callback receiver."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from qike.wecom.crypto import CallbackCrypto, generate_aes_key, generate_token
from wecomsim.server import SimServer


@pytest.fixture
def sim() -> Iterator[SimServer]:
    with SimServer(db=":memory:", host="127.0.0.1", port=0, retry_delay=0.05) as server:
        yield server


@pytest.fixture
def http(sim: SimServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url, timeout=10, trust_env=False) as client:
        yield client


@dataclass
class Corp:
    corpid: str
    secret: str
    agentid: int
    http: httpx.Client
    token: str = ""

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        params.setdefault("access_token", self.token)
        return self.http.get(f"/cgi-bin/{path}", params=params).json()

    def post(self, path: str, body: Any, **params: Any) -> dict[str, Any]:
        params.setdefault("access_token", self.token)
        return self.http.post(f"/cgi-bin/{path}", params=params, json=body).json()

    def control(self, path: str, body: Any | None = None, method: str = "POST") -> Any:
        url = f"/sim/corps/{self.corpid}/{path}"
        response = self.http.request(method, url, json=body if method != "GET" else None)
        assert response.status_code < 300, response.text
        return response.json()


def new_corp(http: httpx.Client, **body: Any) -> Corp:
    data = http.post("/sim/corps", json=body).json()
    corp = Corp(data["corpid"], data["secret"], data["agentid"], http)
    token = http.get(
        "/cgi-bin/gettoken", params={"corpid": corp.corpid, "corpsecret": corp.secret}
    ).json()
    corp.token = token["access_token"]
    return corp


@pytest.fixture
def corp(http: httpx.Client) -> Corp:
    return new_corp(http, name="测试企业")


def add_member(corp: Corp, userid: str, department: list[int] | None = None) -> None:
    corp.control("members", {"userid": userid, "name": userid, "department": department or [1]})


@dataclass
class Receiver:
    """Plays Qike's callback endpoint: decrypts, records, answers as told."""

    token: str = field(default_factory=generate_token)
    aes_key: str = field(default_factory=generate_aes_key)
    corpid: str = ""
    answers: list[tuple[int, bytes]] = field(default_factory=list)  # consumed first
    received: list[dict[str, str]] = field(default_factory=list)
    attempts: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        crypto = CallbackCrypto(self.token, self.aes_key, self.corpid)
        args = request.args
        if request.method == "GET":
            echo = crypto.verify_url(
                args["msg_signature"], args["timestamp"], args["nonce"], args["echostr"]
            )
            return Response(echo)(environ, start_response)
        outer = ET.fromstring(request.get_data())
        plain = crypto.decrypt_message(
            args["msg_signature"], args["timestamp"], args["nonce"], outer.findtext("Encrypt")
        )
        with self.lock:
            self.attempts += 1
            status, body = self.answers.pop(0) if self.answers else (200, b"success")
            if status == 200 and body in (b"", b"success"):
                event = {child.tag: (child.text or "") for child in ET.fromstring(plain)}
                event["_outer_to"] = outer.findtext("ToUserName") or ""
                self.received.append(event)
        return Response(body, status=status)(environ, start_response)


@pytest.fixture
def receiver(corp: Corp) -> Iterator[Receiver]:
    rec = Receiver(corpid=corp.corpid)
    server = make_server("127.0.0.1", 0, rec, threaded=True)
    rec.url = f"http://127.0.0.1:{server.server_port}/callback"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    corp.control("callback", {"url": rec.url, "token": rec.token, "aes_key": rec.aes_key})
    yield rec
    server.shutdown()
    server.server_close()


def wait(corp: Corp, timeout: float = 10) -> None:
    assert corp.control("deliveries/wait", {"timeout": timeout})["pending"] == 0
