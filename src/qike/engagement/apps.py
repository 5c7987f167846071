from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "qike.engagement"
    label = "engagement"
    verbose_name = "Engagement"

    def ready(self) -> None:
        from qike.engagement import handlers, tasks  # noqa: F401  (event handlers, periodic jobs)
