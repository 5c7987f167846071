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


def test_staff_send_mass_messages_publish_moments_and_customers_react() -> None:
    """The demo's staff do in the WeCom client what Qike asks of them, so campaigns and moments
    made in the demo get results."""
    from qike.core.management.commands.demo import _engagement_action, act_on_a_moment

    with SimServer(db=":memory:", port=0) as sim, httpx.Client(base_url=sim.url) as http:
        made = http.post("/sim/corps", json={"name": "演示"}).json()
        corp = httpx.Client(base_url=f"{sim.url}/sim/corps/{made['corpid']}")
        corp.post("/members", json={"userid": "zhangsan", "name": "张三"}).raise_for_status()
        added = corp.post("/customers/add", json={"userid": "zhangsan", "customer": {"name": "李"}})
        ext = added.json()["external_userid"]
        token = http.get(
            "/cgi-bin/gettoken", params={"corpid": made["corpid"], "corpsecret": made["secret"]}
        ).json()["access_token"]

        def api(path: str, body: dict) -> dict:
            answer = http.post(
                f"/cgi-bin/externalcontact/{path}", params={"access_token": token}, json=body
            ).json()
            assert answer["errcode"] == 0, answer
            return answer

        msgid = api(
            "add_msg_template",
            {"sender": "zhangsan", "external_userid": [ext], "text": {"content": "周末特惠"}},
        )["msgid"]
        api(
            "add_moment_task",
            {
                "text": {"content": "新品上市"},
                "visible_range": {"sender_list": {"user_list": ["zhangsan"]}},
            },
        )
        http.post("/sim/clock/advance", json={"seconds": 10})
        snapshot = corp.get("/snapshot").json()

        _engagement_action(corp, random.Random(1), snapshot)  # 0.13: staff send what waits
        (task,) = api("get_groupmsg_task", {"msgid": msgid})["task_list"]
        assert task["status"] != 0

        act_on_a_moment(corp, random.Random(1), snapshot)  # nobody published yet: publish
        act_on_a_moment(corp, random.Random(1), snapshot)  # a customer comments or likes
        (moment,) = corp.get("/moments").json()
        assert moment["senders"][0]["publish_status"] == 1
        assert [i["external_userid"] for i in moment["interactions"]] == [ext]
        corp.close()
