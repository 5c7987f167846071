from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "qike.audit"
    label = "audit"
    verbose_name = "Audit trail"
