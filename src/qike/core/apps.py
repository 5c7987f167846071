from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "qike.core"
    label = "core"
    verbose_name = "Qike core"
