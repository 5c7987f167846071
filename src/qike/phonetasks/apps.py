from django.apps import AppConfig


class PhoneTasksConfig(AppConfig):
    name = "qike.phonetasks"
    label = "phonetasks"
    verbose_name = "Phone-number add tasks"
