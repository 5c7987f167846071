"""Console routes for live codes and staff QR cards (included by console/urls_main.py)."""

from django.urls import path

from qike.acquisition import views

urlpatterns = [
    path("live-codes/", views.live_codes, name="live_codes"),
    path("live-codes/new/", views.live_code_new, name="live_code_new"),
    path("live-codes/<int:pk>/", views.live_code_detail, name="live_code"),
    path("live-codes/<int:pk>/edit/", views.live_code_edit, name="live_code_edit"),
    path("live-codes/<int:pk>/delete/", views.live_code_delete, name="live_code_delete"),
    path("live-codes/<int:pk>/qr/", views.live_code_qr, name="live_code_qr"),
    path("staff-cards/", views.staff_cards, name="staff_cards"),
    path("staff-cards/<int:pk>/qr/", views.staff_card_qr, name="staff_card_qr"),
]

# acquisition links (获客助手)
from qike.acquisition import link_views  # noqa: E402

urlpatterns += [
    path("acquisition-links/", link_views.link_list, name="acquisition_links"),
    path("acquisition-links/new/", link_views.link_new, name="acquisition_link_new"),
    path("acquisition-links/pricing/", link_views.link_pricing, name="acquisition_link_pricing"),
    path(
        "acquisition-links/alerts/dismiss/",
        link_views.link_alerts_dismiss,
        name="acquisition_link_alerts_dismiss",
    ),
    path("acquisition-links/<int:pk>/", link_views.link_detail, name="acquisition_link"),
    path("acquisition-links/<int:pk>/edit/", link_views.link_edit, name="acquisition_link_edit"),
    path(
        "acquisition-links/<int:pk>/delete/", link_views.link_delete, name="acquisition_link_delete"
    ),
    path(
        "acquisition-links/<int:pk>/refresh/",
        link_views.link_refresh,
        name="acquisition_link_refresh",
    ),
]
