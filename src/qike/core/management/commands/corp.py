import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from qike.core import services
from qike.core.errors import describe_validation_error
from qike.core.models import Corp


class Command(BaseCommand):
    help = "Manage the WeCom corps Qike serves."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="connect a corp")
        add.add_argument("--corpid", required=True)
        add.add_argument("--secret", required=True, help="secret of the self-built app")
        add.add_argument(
            "--base-url",
            required=True,
            help="API host root: https://qyapi.weixin.qq.com for WeCom, http://H:P for wecomsim",
        )
        add.add_argument("--agent-id", type=int)
        add.add_argument("--name", default="")
        add.add_argument("--token", help="callback token (generated when omitted)")
        add.add_argument("--aes-key", help="EncodingAESKey (generated when omitted)")
        sub.add_parser("list", help="list corps")

    def handle(self, *args, action, **options):
        if action == "list":
            for corp in Corp.objects.order_by("corpid"):
                self.stdout.write(
                    json.dumps(
                        {"corpid": corp.corpid, "name": corp.name, "base_url": corp.api_base_url}
                    )
                )
            return
        if bool(options["token"]) != bool(options["aes_key"]):
            raise CommandError("--token and --aes-key go together")
        try:
            corp = services.create_corp(
                corpid=options["corpid"],
                secret=options["secret"],
                api_base_url=options["base_url"],
                agent_id=options["agent_id"],
                name=options["name"],
                token=options["token"],
                encoding_aes_key=options["aes_key"],
            )
        except ValidationError as exc:
            raise CommandError(describe_validation_error(exc)) from exc
        cb = services.callback_settings(corp)
        self.stdout.write(
            json.dumps(
                {
                    "callback_url": cb.callback_url,
                    "token": cb.token,
                    "encoding_aes_key": cb.encoding_aes_key,
                }
            )
        )
