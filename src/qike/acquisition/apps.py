from django.apps import AppConfig


class AcquisitionConfig(AppConfig):
    name = "qike.acquisition"
    label = "acquisition"
    verbose_name = "Acquisition"

    def ready(self) -> None:
        from qike.acquisition import banners, handlers, tasks  # noqa: F401  (console banner, event handlers, periodic jobs)
        from qike.acquisition.sources import resolve_state
        from qike.engagement.sources import register

        register(resolve_state)
