"""The public lead form pages (no login), included from qike/urls.py under f/."""

from django.urls import path

from qike.leads import public

app_name = "leads_public"

urlpatterns = [
    path("<str:corpid>/<slug:slug>/", public.form_page, name="form"),
    path("<str:corpid>/<slug:slug>/thanks/<str:token>/", public.thanks, name="thanks"),
]
