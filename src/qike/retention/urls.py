"""Console routes (included by console/urls_main.py)."""

from django.urls import path

from qike.retention import views

urlpatterns = [
    path("lost-customers/", views.lost_list, name="lost_customers"),
    path("lost-customers/<int:pk>/reason/", views.lost_reason, name="lost_reason"),
    path("churn-stats/", views.stats, name="churn_stats"),
    path("pool/", views.pool, name="pool"),
    path("pool/<int:customer_id>/claim/", views.pool_claim, name="pool_claim"),
    path("pool/<int:customer_id>/give-back/", views.pool_give_back, name="pool_give_back"),
    path("retention-settings/", views.settings_page, name="retention_settings"),
]
