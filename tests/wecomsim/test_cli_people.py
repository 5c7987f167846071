"""The `wecomsim` CLI plays customers and staff against a running simulator."""

import json

import httpx

from wecomsim.cli import main


def _call(capsys, *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_people_commands_drive_the_running_simulator(capsys):
    from wecomsim.server import SimServer

    with SimServer(db=":memory:", port=0) as sim:
        corp = httpx.post(
            f"{sim.url}/sim/seed", json={"seed": 3, "staff": 3, "customers": 5}
        ).json()
        snapshot = httpx.get(f"{sim.url}/sim/corps/{corp['corpid']}/snapshot").json()
        userid = snapshot["users"][0]["userid"]
        base = ("--url", sim.url, "--corpid", corp["corpid"])

        code, added = _call(
            capsys, "add-customer", *base, "--userid", userid, "--name", "王五", "--add-way", "2"
        )
        assert code == 0
        ext = added["external_userid"]
        code, _ = _call(
            capsys,
            "edit-customer",
            *base,
            "--userid",
            userid,
            "--external-userid",
            ext,
            "--remark",
            "VIP",
        )
        assert code == 0
        code, _ = _call(
            capsys, "customer-deletes", *base, "--external-userid", ext, "--userid", userid
        )
        assert code == 0
        code, _ = _call(
            capsys,
            "staff-join",
            *base,
            "--userid",
            "newbie",
            "--name",
            "新人",
            "--department",
            str(snapshot["departments"][0]["id"]),
        )
        assert code == 0
        code, clock = _call(capsys, "clock", "--url", sim.url, "--advance", "3600")
        assert code == 0 and clock["now"] > 0

        after = httpx.get(f"{sim.url}/sim/corps/{corp['corpid']}/snapshot").json()
        assert "newbie" in {u["userid"] for u in after["users"]}
        mine = next(c for c in after["customers"] if c["external_userid"] == ext)
        assert mine["name"] == "王五"
        assert mine["follow_users"][0]["remark"] == "VIP"

        code, error = _call(capsys, "staff-leave", *base, "--userid", "nobody-here")
        assert code == 1 and "error" in error


def test_an_unreachable_simulator_is_a_clear_error(capsys):
    code, error = _call(capsys, "clock", "--url", "http://127.0.0.1:9")
    assert code == 2 and error["error"] == "unreachable"


def test_acquisition_and_transfer_commands(capsys):
    from wecomsim.server import SimServer

    with SimServer(db=":memory:", port=0) as sim:
        corp = httpx.post(f"{sim.url}/sim/corps", json={}).json()
        corpid, base = corp["corpid"], ("--url", sim.url, "--corpid", corp["corpid"])
        _call(capsys, "staff-join", *base, "--userid", "a", "--name", "A", "--department", "1")
        token = httpx.get(
            f"{sim.url}/cgi-bin/gettoken", params={"corpid": corpid, "corpsecret": corp["secret"]}
        ).json()["access_token"]
        link = httpx.post(
            f"{sim.url}/cgi-bin/externalcontact/customer_acquisition/create_link",
            params={"access_token": token},
            json={"link_name": "L", "range": {"user_list": ["a"]}},
        ).json()["link"]
        args = ("--link-id", link["link_id"], "--customer-channel", "ad", "--auto-accept", "1")
        code, clicked = _call(capsys, "click-link", *base, *args)
        assert code == 0 and clicked["status"] == "added" and clicked["state"] == "ad"
        ext = clicked["external_userid"]
        code, chat = _call(capsys, "start-chat", *base, "--external-userid", ext)
        assert code == 0 and chat["event_sent"] is True
        code, quota = _call(capsys, "acquisition-quota", *base, "--balance", "7")
        assert code == 0 and quota["balance"] == 7
        code, refused = _call(
            capsys, "refuse-transfer", *base, "--external-userid", ext, "--handover-userid", "a"
        )
        assert code == 1 and refused["error"] == "no_transfer"
