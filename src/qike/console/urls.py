"""The console's URLs: the everyday pages (urls_main) and the management pages (urls_manage)."""

from qike.console import urls_main, urls_manage

app_name = "console"
urlpatterns = [*urls_main.urlpatterns, *urls_manage.urlpatterns]
