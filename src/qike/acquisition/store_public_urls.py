"""Public store-code landing pages (no login), included from qike/urls.py under s/."""

from django.urls import path

from qike.acquisition import store_public

app_name = "stores_public"

urlpatterns = [
    path("<str:corpid>/", store_public.landing, name="stores"),
    path("<str:corpid>/qr/<int:pk>.png", store_public.qr_image, name="qr"),
]
