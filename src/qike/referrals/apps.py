from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "qike.referrals"
    label = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from qike.engagement.sources import register
        from qike.referrals import handlers, tasks  # noqa: F401  (event handlers, jobs)
        from qike.referrals.sources import resolve_state

        register(resolve_state)
