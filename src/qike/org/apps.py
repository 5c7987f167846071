from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "qike.org"
    label = "org"
    verbose_name = "Organisation"

    def ready(self) -> None:
        from qike.org import handlers  # noqa: F401  (registers event handlers)
