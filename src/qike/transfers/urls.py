"""Console routes (included by console/urls_main.py)."""

from django.urls import path

from qike.transfers import views

urlpatterns = [
    path("transfers/", views.transfer_list, name="transfers"),
    path("transfers/new/", views.transfer_new, name="transfer_new"),
    path("transfers/resigned/", views.resigned, name="resigned"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer"),
    path("transfers/<int:pk>/refresh/", views.transfer_refresh, name="transfer_refresh"),
]
