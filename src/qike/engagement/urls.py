"""Console routes of the engagement pages (included from console/urls_main.py, so the names live
in the "console" namespace; sub-pages share their nav entry's prefix)."""

from django.urls import path

from qike.engagement import content_views, views

urlpatterns = [
    path("welcome/", views.library, name="welcome_messages"),
    path("welcome/new/", views.create, name="welcome_message_create"),
    path("welcome/<int:pk>/", views.edit, name="welcome_message_edit"),
    path("welcome/<int:pk>/delete/", views.delete, name="welcome_message_delete"),
    path("welcome/defaults/corp/", views.corp_default, name="welcome_message_corp_default"),
    path("welcome/defaults/staff/", views.staff_default, name="welcome_message_staff_default"),
    path("welcome/files/<int:pk>/", views.media_file, name="welcome_message_file"),
    path("welcome/sends/", views.send_list, name="welcome_sends"),
    path("welcome/library-items/", views.library_items, name="welcome_library_items"),
    # content library (素材库)
    path("content/", content_views.content_list, name="content"),
    path("content/new/", content_views.content_create, name="content_create"),
    path("content/<int:pk>/", content_views.content_edit, name="content_edit"),
    path("content/<int:pk>/delete/", content_views.content_delete, name="content_delete"),
    path(
        "content/<int:pk>/files/<str:role>/",
        content_views.content_file,
        name="content_file",
    ),
    path("content/folders/", content_views.folder_create, name="content_folder_create"),
    path(
        "content/folders/<int:pk>/delete/",
        content_views.folder_delete,
        name="content_folder_delete",
    ),
    # quick replies (话术库)
    path("quick-replies/", content_views.reply_list, name="quick_replies"),
    path("quick-replies/new/", content_views.reply_create, name="quick_reply_create"),
    path("quick-replies/<int:pk>/", content_views.reply_edit, name="quick_reply_edit"),
    path("quick-replies/<int:pk>/delete/", content_views.reply_delete, name="quick_reply_delete"),
    path("quick-replies/<int:pk>/used/", content_views.reply_used, name="quick_reply_used"),
    path("quick-replies/groups/", content_views.group_create, name="quick_reply_group_create"),
    path(
        "quick-replies/groups/<int:pk>/delete/",
        content_views.group_delete,
        name="quick_reply_group_delete",
    ),
]
