"""Public referral pages (no login), included from qike/urls.py under r/."""

from django.urls import path  # noqa: F401

app_name = "referrals_public"

urlpatterns: list = []
