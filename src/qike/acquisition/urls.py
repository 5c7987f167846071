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
