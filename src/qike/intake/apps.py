from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "qike.intake"
    label = "intake"
    verbose_name = "Callback intake"
