"""Console routes (included by console/urls_main.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
