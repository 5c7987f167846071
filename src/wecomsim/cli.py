"""The `wecomsim` command: serve, seed, callback, and the people and clock actions."""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import people

DEFAULT_DB = "./var/wecomsim.sqlite3"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wecomsim", description="Offline WeCom simulator")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the simulator's HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8800)
    serve.add_argument("--db", default=DEFAULT_DB)
    serve.add_argument(
        "--delivery-workers",
        type=int,
        default=1,
        help="callbacks delivered at once per corp (1: in order; WeCom under load: many, unordered)",
    )

    seed = commands.add_parser("seed", help="create a seeded corp in the database")
    seed.add_argument("--db", default=DEFAULT_DB)
    seed.add_argument("--seed", type=int, default=1)
    seed.add_argument("--departments", type=int, default=20)
    seed.add_argument("--staff", type=int, default=50)
    seed.add_argument("--customers", type=int, default=2000)

    callback = commands.add_parser("callback", help="register a corp's callback URL")
    callback.add_argument("--db", required=True)
    callback.add_argument("--corpid", required=True)
    callback.add_argument("--url", required=True)
    callback.add_argument("--token", required=True)
    callback.add_argument("--aes-key", required=True)
    people.add_commands(commands)
    return parser


def _state(db: str):
    from .state import SimState

    if db != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(db)), exist_ok=True)
    # Offline commands must not start delivering; the server does that when it starts.
    return SimState(db, start_delivery=False)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from .server import serve

        serve(args.host, args.port, args.db, delivery_workers=args.delivery_workers)
        return 0
    if args.command == "seed":
        from .seed import seed_corp

        state = _state(args.db)
        try:
            summary = seed_corp(
                state,
                seed=args.seed,
                departments=args.departments,
                staff=args.staff,
                customers=args.customers,
            )
        finally:
            state.store.close()
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    if args.command == "callback":
        from qike.wecom.crypto import CallbackCrypto, CryptoError

        from .errors import ControlError

        try:
            CallbackCrypto(args.token, args.aes_key, args.corpid)
        except CryptoError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
        state = _state(args.db)
        try:
            state.set_callback(args.corpid, args.url, args.token, args.aes_key)
        except ControlError as exc:
            print(f"error: {exc.detail}", file=sys.stderr)
            return 2
        finally:
            state.store.close()
        print(json.dumps({"corpid": args.corpid, "url": args.url}))
        return 0
    return people.run(args)


if __name__ == "__main__":
    sys.exit(main())
