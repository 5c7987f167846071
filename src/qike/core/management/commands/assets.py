from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from qike.console import assets


class Command(BaseCommand):
    help = "Install the console's front-end packages (htmx, Alpine.js, ECharts) from npm."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="reinstall even when present")

    def handle(self, *args, force, **options):
        try:
            target = assets.install(settings.QIKE_HOME, force=force)
        except assets.AssetsError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"front-end packages in {target}")
