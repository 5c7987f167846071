import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from qike.core.errors import describe_validation_error
from qike.core.services import get_corp
from qike.sync.full import full_sync
from qike.sync.progress import BarProgress, SilentProgress
from qike.wecom.errors import WeComError


class Command(BaseCommand):
    help = "Read a corp's departments, staff, tags and customers from WeCom and store them."

    def add_arguments(self, parser):
        parser.add_argument("corpid")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, corpid, quiet, **options):
        try:
            corp = get_corp(corpid=corpid)
            progress = SilentProgress() if quiet else BarProgress(stream=self.stderr._out)
            report = full_sync(corp, progress=progress)
        except ValidationError as exc:
            raise CommandError(describe_validation_error(exc)) from exc
        except WeComError as exc:
            raise CommandError(f"WeCom refused: {exc}") from exc
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
