import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from qike.core.errors import describe_validation_error
from qike.core.services import get_corp
from qike.intake.models import CallbackEvent, EventStatus
from qike.intake.services import replay


class Command(BaseCommand):
    help = "Run stored WeCom events again: by id, or every event matching the filters."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="event ids")
        parser.add_argument("--corp", help="CorpID")
        parser.add_argument("--status", choices=[s.value for s in EventStatus])
        parser.add_argument("--kind", help='e.g. "change_external_contact/add_external_contact"')
        parser.add_argument("--since", help="ISO date-time: events received at or after")

    def handle(self, *args, ids, corp, status, kind, since, **options):
        events = CallbackEvent.objects.all()
        if not (ids or corp or status or kind or since):
            raise CommandError(
                "name event ids or at least one filter (--corp, --status, --kind, --since)"
            )
        if ids:
            events = events.filter(pk__in=ids)
            missing = set(ids) - set(events.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"no such events: {sorted(missing)}")
        try:
            if corp:
                events = events.filter(corp=get_corp(corpid=corp))
        except ValidationError as exc:
            raise CommandError(describe_validation_error(exc)) from exc
        if status:
            events = events.filter(status=status)
        if kind:
            events = events.filter(kind=kind)
        if since:
            moment = parse_datetime(since)
            if moment is None:
                raise CommandError(f"--since is not an ISO date-time: {since}")
            events = events.filter(received_at__gte=moment)
        results = replay(events)
        summary: dict[str, int] = {}
        for row in results:
            summary[row.status] = summary.get(row.status, 0) + 1
            self.stdout.write(
                json.dumps(
                    {"id": row.pk, "kind": row.kind, "status": row.status, "error": row.last_error}
                )
            )
        self.stderr.write(f"replayed {len(results)} events: {summary}")
