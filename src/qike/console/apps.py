from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "qike.console"
    label = "console"
    verbose_name = "Console"
