from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from qike.intake.views import callback


def health(_request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("wecom/callback/<str:corpid>/", callback, name="wecom-callback"),
    path("healthz", health, name="health"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("qike.api.urls")),
    path("f/", include("qike.leads.public_urls")),
    path("s/", include("qike.acquisition.store_public_urls")),
    path("r/", include("qike.referrals.public_urls")),
    path("l/", include("qike.engagement.link_urls")),
    path("", include("qike.console.urls")),
]
