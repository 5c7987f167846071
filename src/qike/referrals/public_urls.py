"""Public referral pages (no login), included from qike/urls.py under r/."""

from django.urls import path

from qike.referrals import public

app_name = "referrals_public"

urlpatterns = [
    path("<str:corpid>/<str:token>/", public.share, name="share"),
]
