"""Console routes of the audit trail (included by console/urls_main.py)."""

from django.urls import path

from qike.audit import views

urlpatterns = [path("audit/", views.audit_list, name="audit")]
