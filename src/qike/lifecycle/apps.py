from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "qike.lifecycle"
    label = "lifecycle"
    verbose_name = "Lifecycle"

    def ready(self) -> None:
        from qike.customers.handover import register_mover
        from qike.lifecycle import handlers, tasks  # noqa: F401  (event handlers, periodic jobs)
        from qike.lifecycle.services import move_with_customer

        register_mover(move_with_customer)
