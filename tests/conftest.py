"""Shared fixtures: a real wecomsim on a local port, and Qike connected to it over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from qike.core import clock


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Iterator[None]:
    """Services called directly by tests speak English (the source language); pages and API calls
    still choose their language per request, as LocaleMiddleware does in production."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def sim() -> Iterator:
    from wecomsim.server import SimServer

    with SimServer(db=":memory:", host="127.0.0.1", port=0, retry_delay=0.2) as server:
        yield server


@dataclass
class SimCorp:
    """One seeded wecomsim corp and a client for its control API."""

    corpid: str
    secret: str
    agentid: int | None
    control: httpx.Client

    def post(self, path: str, **body) -> dict:
        answer = self.control.post(f"/sim/corps/{self.corpid}{path}", json=body)
        assert answer.status_code < 400, answer.text
        return answer.json()

    def get(self, path: str, **params) -> dict:
        answer = self.control.get(f"/sim/corps/{self.corpid}{path}", params=params)
        assert answer.status_code < 400, answer.text
        return answer.json()

    def wait_for_callbacks(self, timeout: float = 20) -> None:
        left = self.post("/deliveries/wait", timeout=timeout)
        assert left.get("pending", 0) == 0, left

    def snapshot(self) -> dict:
        return self.get("/snapshot")


def seed_sim_corp(sim, **sizes) -> SimCorp:
    control = httpx.Client(base_url=sim.url, timeout=60)
    body = {"seed": 7, "departments": 3, "staff": 5, "customers": 20, **sizes}
    answer = control.post("/sim/seed", json=body)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    return SimCorp(data["corpid"], data["secret"], data.get("agentid"), control)


@pytest.fixture
def sim_corp(sim) -> Iterator[SimCorp]:
    corp = seed_sim_corp(sim)
    yield corp
    corp.control.close()


def connect(sim, sim_corp: SimCorp, live_server, settings):
    """Create the corp in Qike and register Qike's callback URL in wecomsim, as an admin would."""
    from qike.core import services

    settings.QIKE_PUBLIC_URL = live_server.url
    corp = services.create_corp(
        corpid=sim_corp.corpid,
        secret=sim_corp.secret,
        api_base_url=sim.url,
        agent_id=sim_corp.agentid,
    )
    cb = services.callback_settings(corp)
    sim_corp.post("/callback", url=cb.callback_url, token=cb.token, aes_key=cb.encoding_aes_key)
    return corp


@pytest.fixture
def qike_corp(sim, sim_corp, live_server, settings):
    return connect(sim, sim_corp, live_server, settings)


def pytest_report_header(config) -> str:
    from django.conf import settings

    return f"qike database: {settings.DATABASES['default']['ENGINE']}"
