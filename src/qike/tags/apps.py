from django.apps import AppConfig


class TagsConfig(AppConfig):
    name = "qike.tags"
    label = "tags"
    verbose_name = "Tags"

    def ready(self) -> None:
        from qike.tags import handlers  # noqa: F401  (registers event handlers)
