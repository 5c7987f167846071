"""Public tracked-link redirects under /l/ (no login): each open is recorded."""

from django.urls import path

from qike.engagement import link_views

urlpatterns = [
    path("<str:token>/", link_views.open_link, name="link_open"),
]
