from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "qike.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"
