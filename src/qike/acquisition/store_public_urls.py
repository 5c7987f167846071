"""Public store-code landing pages (no login), included from qike/urls.py under s/."""

from django.urls import path  # noqa: F401

app_name = "stores_public"

urlpatterns: list = []
