"""Console routes (included by console/urls_main.py)."""

from django.urls import path

from qike.segments import views

urlpatterns = [
    path("segments/", views.segment_list, name="segments"),
    path("segments/new/", views.segment_new, name="segment_new"),
    path("segments/preview/", views.segment_preview, name="segment_preview"),
    path("segments/<int:pk>/", views.segment_edit, name="segment"),
    path("segments/<int:pk>/count/", views.segment_count, name="segment_count"),
    path("segments/<int:pk>/delete/", views.segment_delete, name="segment_delete"),
]
