from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "qike.referrals"
    label = "referrals"
    verbose_name = "Referrals"
