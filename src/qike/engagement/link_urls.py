"""Public tracked-link redirects under /l/ (no login): each open is recorded."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
