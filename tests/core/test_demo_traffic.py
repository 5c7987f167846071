"""The demo's live traffic: actions the simulator refuses are logged with its reason, not lost."""

from __future__ import annotations

import logging
import random

import httpx

from qike.core.management.commands.demo import play_one
from wecomsim.server import SimServer


def test_refused_and_impossible_actions_are_logged_and_the_traffic_goes_on(caplog) -> None:
    with SimServer(db=":memory:", port=0) as sim, httpx.Client(base_url=sim.url) as http:
        corpid = http.post("/sim/corps", json={"name": "演示"}).json()["corpid"]
        corp = httpx.Client(base_url=f"{sim.url}/sim/corps/{corpid}")
        caplog.set_level(logging.INFO, logger="qike.demo")

        assert play_one(corp, random.Random(1)) is False  # nobody works there yet
        assert "demo.traffic skipped: IndexError" in caplog.text

        http.post(f"/sim/corps/{corpid}/members", json={"userid": "zhangsan", "name": "张三"})
        assert play_one(corp, random.Random(1)) is True  # a first customer adds zhangsan
        caplog.clear()
        gone = httpx.Client(base_url=f"{sim.url}/sim/corps/ww-no-such-corp")
        assert play_one(gone, random.Random(1)) is False
        assert "demo.traffic refused: GET /sim/corps/ww-no-such-corp/snapshot -> 404" in caplog.text
        gone.close()
        corp.close()
