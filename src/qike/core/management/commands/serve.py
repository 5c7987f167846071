from django.core.management import call_command
from django.core.management.base import BaseCommand

from qike.core.config import env_int


class Command(BaseCommand):
    help = "Run Qike's web server (gunicorn; static files by whitenoise)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=env_int("QIKE_WEB_WORKERS", 2))
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-migrate", action="store_true", help="do not apply migrations first"
        )
        parser.add_argument(
            "--no-collectstatic",
            action="store_true",
            help="do not collect static files first (when the deployment already did)",
        )

    def handle(self, *args, host, port, workers, threads, no_migrate, no_collectstatic, **options):
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        if not no_collectstatic:
            # whitenoise serves STATIC_ROOT, which it reads once at start: collect first.
            call_command("collectstatic", interactive=False, verbosity=0)
        serve(host=host, port=port, workers=workers, threads=threads)


def serve(*, host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    from qike.wsgi import application

    class QikeServer(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("timeout", 60)
            self.cfg.set("accesslog", None)

        def load(self):
            return application

    QikeServer().run()
