"""Console routes of the welcome-message pages (included from console/urls_main.py, so the names
live in the "console" namespace; sub-pages share their nav entry's prefix)."""

from django.urls import path

from qike.engagement import views

urlpatterns = [
    path("welcome/", views.library, name="welcome_messages"),
    path("welcome/new/", views.create, name="welcome_message_create"),
    path("welcome/<int:pk>/", views.edit, name="welcome_message_edit"),
    path("welcome/<int:pk>/delete/", views.delete, name="welcome_message_delete"),
    path("welcome/defaults/corp/", views.corp_default, name="welcome_message_corp_default"),
    path("welcome/defaults/staff/", views.staff_default, name="welcome_message_staff_default"),
    path("welcome/files/<int:pk>/", views.media_file, name="welcome_message_file"),
    path("welcome/sends/", views.send_list, name="welcome_sends"),
]
