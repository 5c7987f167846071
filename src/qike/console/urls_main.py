"""The everyday console pages: login, dashboard, customers."""

from django.urls import include, path

from qike.console import views
from qike.customers import views as customers

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard/numbers/", views.dashboard_numbers, name="dashboard_numbers"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("switch-corp/", views.switch_corp, name="switch_corp"),
    path("language/", views.set_language, name="set_language"),
    path("no-corp/", views.no_corp, name="no_corp"),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/export.xlsx", customers.customer_export, name="customer_export"),
    path(
        "customers/relations/<int:pk>/tags/", customers.relation_tags, name="customer_relation_tags"
    ),
    path(
        "customers/<str:external_userid>/timeline/",
        customers.customer_timeline,
        name="customer_timeline",
    ),
    path("customers/<str:external_userid>/", customers.customer_detail, name="customer_detail"),
    path("", include("qike.engagement.urls")),
    path("", include("qike.acquisition.urls")),
    path("", include("qike.leads.urls")),
    path("", include("qike.phonetasks.urls")),
    path("", include("qike.referrals.urls")),
    path("", include("qike.lifecycle.urls")),
    path("", include("qike.transfers.urls")),
    path("", include("qike.retention.urls")),
    path("", include("qike.segments.urls")),
    path("", include("qike.campaigns.urls")),
    path("", include("qike.moments.urls")),
    path("", include("qike.audit.urls")),
]
