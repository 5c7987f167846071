from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "qike.transfers"
    label = "transfers"
    verbose_name = "Transfers"
