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

# store codes (门店活码)
from qike.acquisition import store_views  # noqa: E402

urlpatterns += [
    path("stores/", store_views.store_list, name="stores"),
    path("stores/new/", store_views.store_new, name="store_new"),
    path("stores/stats/", store_views.store_stats, name="store_stats"),
    path("stores/import/", store_views.store_import, name="store_import"),
    path(
        "stores/import/template/",
        store_views.store_import_template,
        name="store_import_template",
    ),
    path("stores/import/<int:pk>/", store_views.store_import_batch, name="store_import_batch"),
    path(
        "stores/import/<int:pk>/confirm/",
        store_views.store_import_confirm,
        name="store_import_confirm",
    ),
    path(
        "stores/import/<int:pk>/cancel/",
        store_views.store_import_cancel,
        name="store_import_cancel",
    ),
    path("stores/<int:pk>/", store_views.store_detail, name="store"),
    path("stores/<int:pk>/edit/", store_views.store_edit, name="store_edit"),
    path("stores/<int:pk>/status/", store_views.store_status, name="store_status"),
    path("stores/<int:pk>/delete/", store_views.store_delete, name="store_delete"),
    path("stores/<int:pk>/qr/", store_views.store_qr, name="store_qr"),
]
