from django.apps import AppConfig


class MomentsConfig(AppConfig):
    name = "qike.moments"
    label = "moments"
    verbose_name = "Moments"
