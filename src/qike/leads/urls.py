"""Console routes for lead forms and leads (included by console/urls_main.py)."""

from django.urls import path

from qike.leads import views

urlpatterns = [
    path("lead-forms/", views.form_list, name="lead_forms"),
    path("lead-forms/new/", views.form_new, name="lead_form_new"),
    path("lead-forms/<int:pk>/", views.form_detail, name="lead_form"),
    path("lead-forms/<int:pk>/edit/", views.form_edit, name="lead_form_edit"),
    path("leads/", views.lead_list, name="leads"),
    path("leads/<int:pk>/", views.lead_detail, name="lead"),
]
