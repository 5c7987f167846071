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
