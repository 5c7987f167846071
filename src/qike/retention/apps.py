from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "qike.retention"
    label = "retention"
    verbose_name = "Retention"

    def ready(self) -> None:
        from qike.retention import handlers, tasks  # noqa: F401  (event handlers, periodic jobs)
