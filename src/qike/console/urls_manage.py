"""The console's management pages: organisation, tags, events, users & roles, API tokens, corp
settings. Sub-pages are named after their nav entry ("console:tag_…" under "console:tags") so the
navigation marks the right entry as current."""

from django.urls import path

from qike.core import views as core
from qike.intake import console as events
from qike.org import views as org
from qike.tags import views as tags

urlpatterns = [
    path("org/", org.org, name="org"),
    path("tags/", tags.tags, name="tags"),
    path("tags/groups/", tags.group_create, name="tag_group_create"),
    path("tags/groups/<int:pk>/tags/", tags.tag_add, name="tag_add"),
    path("tags/<str:kind>/<int:pk>/rename/", tags.tag_rename, name="tag_rename"),
    path("tags/<str:kind>/<int:pk>/order/", tags.tag_reorder, name="tag_reorder"),
    path("tags/<str:kind>/<int:pk>/delete/", tags.tag_delete, name="tag_delete"),
    path("events/", events.event_list, name="events"),
    path("events/replay-failed/", events.event_replay_failed, name="event_replay_failed"),
    path("events/<int:pk>/", events.event_detail, name="event_detail"),
    path("events/<int:pk>/replay/", events.event_replay, name="event_replay"),
    path("users/", org.users, name="users"),
    path("users/new/", org.user_create, name="user_create"),
    path("users/<int:pk>/", org.user_edit, name="user_edit"),
    path("users/<int:pk>/password/", org.user_password, name="user_password"),
    path("users/<int:pk>/active/", org.user_active, name="user_active"),
    path("api-tokens/", core.api_tokens, name="api_tokens"),
    path("api-tokens/<int:pk>/revoke/", core.api_token_revoke, name="api_token_revoke"),
    path("settings/", core.corp_settings, name="settings"),
    path("settings/test-connection/", core.setting_test, name="setting_test"),
    path("settings/callback/regenerate/", core.setting_regenerate, name="setting_regenerate"),
]
