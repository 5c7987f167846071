from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "qike.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from qike.customers import handlers  # noqa: F401  (registers event handlers)
