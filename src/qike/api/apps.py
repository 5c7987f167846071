from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "qike.api"
    label = "api"
    verbose_name = "REST API"
