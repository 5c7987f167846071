from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "qike.engagement"
    label = "engagement"
    verbose_name = "Engagement"
