from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the job consumers (huey): processes callbacks and scheduled work."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, help="consumer threads (default from settings)")

    def handle(self, *args, workers, **options):
        extra = ["--workers", str(workers)] if workers else []
        call_command("run_huey", *extra)
