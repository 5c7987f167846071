from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "qike.transfers"
    label = "transfers"
    verbose_name = "Transfers"

    def ready(self) -> None:
        from qike.customers.handover import register_mover
        from qike.transfers import handlers, tasks  # noqa: F401  (event handlers, periodic jobs)
        from qike.transfers.movers import move_leads, move_tags

        register_mover(move_tags)
        register_mover(move_leads)
