from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "qike.segments"
    label = "segments"
    verbose_name = "Segments"
