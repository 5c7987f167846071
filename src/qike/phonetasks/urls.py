"""Console routes (included by console/urls_main.py)."""

from django.urls import path

from qike.phonetasks import views

urlpatterns = [
    path("phone-tasks/", views.batch_list, name="phone_tasks"),
    path("phone-tasks/mine/", views.mine, name="phone_tasks_mine"),
    path("phone-tasks/send-now/", views.send_now, name="phone_tasks_send_now"),
    path("phone-tasks/import/", views.import_new, name="phone_task_import"),
    path("phone-tasks/import/<int:pk>/", views.import_preview, name="phone_task_preview"),
    path(
        "phone-tasks/import/<int:pk>/confirm/",
        views.import_confirm,
        name="phone_task_preview_confirm",
    ),
    path(
        "phone-tasks/import/<int:pk>/discard/",
        views.import_discard,
        name="phone_task_preview_discard",
    ),
    path("phone-tasks/<int:pk>/", views.batch_detail, name="phone_task_batch"),
    path("phone-tasks/<int:pk>/cancel/", views.batch_cancel, name="phone_task_batch_cancel"),
]
