"""A member adding a customer by phone search keeps the searched number as a remark mobile: the
control call and the `add-customer --remark-mobile` command say so, the APIs show it."""

from __future__ import annotations

import json

import httpx

from tests.wecomsim.conftest import Corp, add_member
from wecomsim.cli import main


def test_direct_add_with_remark_mobiles(corp: Corp, http: httpx.Client) -> None:
    add_member(corp, "sun")
    added = corp.control(
        "customers/add",
        {
            "userid": "sun",
            "customer": {"name": "钱七"},
            "add_way": 2,
            "remark_mobiles": ["13812345678", ""],
        },
    )
    follow = corp.get("externalcontact/get", external_userid=added["external_userid"])[
        "follow_user"
    ][0]
    assert follow["add_way"] == 2 and follow["remark_mobiles"] == ["13812345678"]

    # Without the field nothing is kept, as before.
    plain = corp.control("customers/add", {"userid": "sun", "customer": {}, "add_way": 2})
    follow = corp.get("externalcontact/get", external_userid=plain["external_userid"])
    assert follow["follow_user"][0]["remark_mobiles"] == []

    bad = http.post(
        f"/sim/corps/{corp.corpid}/customers/add",
        json={"userid": "sun", "customer": {}, "remark_mobiles": "13812345678"},
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_remark_mobiles"


def test_the_cli_option(capsys, corp: Corp, sim) -> None:
    add_member(corp, "zhou")
    code = main(
        [
            "add-customer",
            "--url",
            sim.url,
            "--corpid",
            corp.corpid,
            "--userid",
            "zhou",
            "--add-way",
            "2",
            "--remark-mobile",
            "13912345678",
            "--remark-mobile",
            "13712345678",
        ]
    )
    assert code == 0
    ext = json.loads(capsys.readouterr().out)["external_userid"]
    follow = corp.get("externalcontact/get", external_userid=ext)["follow_user"][0]
    assert follow["remark_mobiles"] == ["13912345678", "13712345678"]
