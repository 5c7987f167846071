"""Console routes (included by console/urls_main.py)."""

from django.urls import path

from qike.lifecycle import views

urlpatterns = [
    path("lifecycle/board/", views.board, name="lifecycle_board"),
    path("lifecycle/list/", views.stage_list, name="lifecycle_list"),
    path("lifecycle/funnel/", views.funnel, name="lifecycle_funnel"),
    path("lifecycle/pipeline/", views.pipeline, name="lifecycle_pipeline"),
    path("lifecycle/stages/<int:pk>/<slug:action>/", views.stage_action, name="lifecycle_stage"),
    path("lifecycle/relations/<int:pk>/", views.relation_page, name="lifecycle_relation"),
    path("lifecycle/relations/<int:pk>/stage/", views.move_relation, name="lifecycle_move"),
    path(
        "lifecycle/follow-ups/<int:pk>/<slug:action>/",
        views.follow_up_action,
        name="lifecycle_follow_up",
    ),
]
