from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "qike.leads"
    label = "leads"
    verbose_name = "Leads"

    def ready(self) -> None:
        from qike.engagement.sources import register
        from qike.leads import handlers, tasks  # noqa: F401  (event handlers, periodic jobs)
        from qike.leads.sources import resolve_state

        register(resolve_state)
