"""Console routes (included by console/urls_main.py)."""

from django.urls import path

from qike.moments import views

urlpatterns = [
    path("moments/", views.moment_list, name="moments"),
    path("moments/new/", views.moment_new, name="moment_new"),
    path("moments/<int:pk>/", views.moment_detail, name="moment"),
    path("moments/<int:pk>/refresh/", views.moment_refresh, name="moment_refresh"),
    path("moments/<int:pk>/cancel/", views.moment_cancel, name="moment_cancel"),
]
