from django.apps import AppConfig


class PhoneTasksConfig(AppConfig):
    name = "qike.phonetasks"
    label = "phonetasks"
    verbose_name = "Phone-number add tasks"

    def ready(self) -> None:
        from qike.phonetasks import handlers, tasks  # noqa: F401  (event handlers, periodic jobs)
