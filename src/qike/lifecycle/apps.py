from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "qike.lifecycle"
    label = "lifecycle"
    verbose_name = "Lifecycle"
