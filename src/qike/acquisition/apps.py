from django.apps import AppConfig


class AcquisitionConfig(AppConfig):
    name = "qike.acquisition"
    label = "acquisition"
    verbose_name = "Acquisition"

    def ready(self) -> None:
        from qike.acquisition import (  # noqa: F401  (event handlers, periodic jobs, store import)
            banners,
            handlers,
            store_tasks,
            tasks,
        )
        from qike.acquisition.sources import resolve_state
        from qike.engagement.sources import register

        register(resolve_state)
