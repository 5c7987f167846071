"""`wecomsim` subcommands that play the corp's customers and staff against a running simulator,
through the control API (the same calls the tests and the demo make)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field

import httpx

DEFAULT_URL = "http://127.0.0.1:8800"


@dataclass(frozen=True)
class Arg:
    flag: str
    help: str
    required: bool = True
    many: bool = False
    kind: type = str
    dest: str | None = None  # the JSON body key, when it is not the flag's name


@dataclass(frozen=True)
class Action:
    name: str
    help: str
    path: str  # formatted with the parsed arguments
    args: tuple[Arg, ...] = field(default=())
    body: tuple[str, ...] = field(default=())  # argument names sent in the JSON body


def _customer_body(values: dict) -> dict:
    customer = {k: values.pop(k) for k in ("name", "unionid") if values.get(k)}
    if customer:
        values["customer"] = customer
    return values


ACTIONS = (
    Action(
        "scan",
        "a customer scans a contact way's QR code",
        "/sim/corps/{corpid}/customers/scan",
        (Arg("--config-id", "the contact way"), Arg("--name", "the customer's name", False)),
        ("config_id", "name"),
    ),
    Action(
        "accept",
        "a member confirms a half-added customer or accepts a friend request",
        "/sim/corps/{corpid}/members/{userid}/accept",
        (Arg("--userid", "the member"), Arg("--external-userid", "the customer")),
        ("external_userid",),
    ),
    Action(
        "add-customer",
        "a member adds a customer directly (phone search, card, …)",
        "/sim/corps/{corpid}/customers/add",
        (
            Arg("--userid", "the member"),
            Arg("--name", "a new customer's name", False),
            Arg("--unionid", "a new customer's unionid", False),
            Arg(
                "--add-way", "WeCom add_way (1 QR code, 2 phone search, 3 card, …)", False, kind=int
            ),
            Arg("--state", "channel state", False),
            Arg("--remark", "the member's remark", False),
            Arg(
                "--remark-mobile",
                "a remark mobile the member kept, e.g. the searched phone (repeatable)",
                False,
                many=True,
                dest="remark_mobiles",
            ),
        ),
        ("userid", "name", "unionid", "add_way", "state", "remark", "remark_mobiles"),
    ),
    Action(
        "customer-deletes",
        "a customer deletes a member (del_follow_user)",
        "/sim/corps/{corpid}/customers/{external_userid}/delete_member",
        (Arg("--external-userid", "the customer"), Arg("--userid", "the member")),
        ("userid",),
    ),
    Action(
        "staff-deletes",
        "a member deletes a customer (del_external_contact)",
        "/sim/corps/{corpid}/members/{userid}/delete_customer",
        (Arg("--userid", "the member"), Arg("--external-userid", "the customer")),
        ("external_userid",),
    ),
    Action(
        "edit-customer",
        "a member edits a customer's remark or tags in the WeCom client",
        "/sim/corps/{corpid}/members/{userid}/edit_customer",
        (
            Arg("--userid", "the member"),
            Arg("--external-userid", "the customer"),
            Arg("--remark", "new remark", False),
            Arg("--description", "new description", False),
            Arg("--add-tag", "a tag id to add (repeatable)", False, many=True),
            Arg("--remove-tag", "a tag id to remove (repeatable)", False, many=True),
        ),
        ("external_userid", "remark", "description", "add_tag", "remove_tag"),
    ),
    Action(
        "staff-join",
        "a new member joins the corp",
        "/sim/corps/{corpid}/members",
        (
            Arg("--userid", "the new member's userid"),
            Arg("--name", "name"),
            Arg("--department", "a department id (repeatable)", many=True, kind=int),
            Arg("--mobile", "mobile", False),
            Arg("--email", "email", False),
        ),
        ("userid", "name", "department", "mobile", "email"),
    ),
    Action(
        "staff-leave",
        "a member leaves the corp",
        "/sim/corps/{corpid}/members/{userid}/leave",
        (Arg("--userid", "the member"),),
    ),
    Action(
        "staff-move",
        "a member moves to other departments",
        "/sim/corps/{corpid}/members/{userid}/move",
        (
            Arg("--userid", "the member"),
            Arg("--department", "a department id (repeatable)", many=True, kind=int),
        ),
        ("department",),
    ),
    Action(
        "click-link",
        "a customer opens an acquisition link (获客链接) and asks to add the member",
        "/sim/corps/{corpid}/acquisition/{link_id}/click",
        (
            Arg("--link-id", "the acquisition link"),
            Arg("--name", "a new customer's name", False),
            Arg("--customer-channel", "the customer_channel on the URL (State)", False),
            Arg("--auto-accept", "1: the member confirms a half add at once", False, kind=int),
        ),
        ("name", "customer_channel", "auto_accept"),
    ),
    Action(
        "start-chat",
        "a customer from an acquisition link sends the first message (customer_start_chat)",
        "/sim/corps/{corpid}/acquisition/start_chat",
        (Arg("--external-userid", "the customer"), Arg("--userid", "the member", False)),
        ("external_userid", "userid"),
    ),
    Action(
        "acquisition-quota",
        "set the corp's acquisition-link balance (a purchase)",
        "/sim/corps/{corpid}/acquisition/quota",
        (Arg("--balance", "the new balance", kind=int),),
        ("balance",),
    ),
    Action(
        "refuse-transfer",
        "a customer refuses to be handed over to another member (status 3, transfer_fail)",
        "/sim/corps/{corpid}/transfers/refuse",
        (Arg("--external-userid", "the customer"), Arg("--handover-userid", "the member now")),
        ("external_userid", "handover_userid"),
    ),
)


def add_commands(commands: argparse._SubParsersAction) -> None:
    for action in ACTIONS:
        sub = commands.add_parser(action.name, help=action.help)
        sub.add_argument("--url", default=DEFAULT_URL, help="the running simulator")
        sub.add_argument("--corpid", required=True)
        for arg in action.args:
            sub.add_argument(
                arg.flag,
                required=arg.required,
                help=arg.help,
                type=arg.kind,
                action="append" if arg.many else "store",
                dest=arg.dest,
            )
        sub.set_defaults(people_action=action)
    clock = commands.add_parser("clock", help="show, advance or set the simulator's clock")
    clock.add_argument("--url", default=DEFAULT_URL)
    group = clock.add_mutually_exclusive_group()
    group.add_argument("--advance", type=float, help="seconds to move forward")
    group.add_argument("--set", type=int, dest="set_to", help="unix time to jump to")


def run(args: argparse.Namespace) -> int:
    """Perform one people action or clock call; prints the simulator's JSON answer."""
    if args.command == "clock":
        if args.advance is not None:
            return _send(args.url, "POST", "/sim/clock/advance", {"seconds": args.advance})
        if args.set_to is not None:
            return _send(args.url, "POST", "/sim/clock/set", {"now": args.set_to})
        return _send(args.url, "GET", "/sim/clock", None)
    action: Action = args.people_action
    values = vars(args)
    body = {name: values[name] for name in action.body if values.get(name) not in (None, [])}
    return _send(args.url, "POST", action.path.format(**values), _customer_body(body))


def _send(url: str, method: str, path: str, body: dict | None) -> int:
    try:
        answer = httpx.request(method, url.rstrip("/") + path, json=body, timeout=30)
    except httpx.HTTPError as exc:
        print(json.dumps({"error": "unreachable", "detail": f"{url}: {exc}"}))
        return 2
    print(answer.text)
    return 0 if answer.status_code < 400 else 1
