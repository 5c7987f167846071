from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "qike.retention"
    label = "retention"
    verbose_name = "Retention"
