from django.apps import AppConfig


class MenuConfig(AppConfig):
    name = "order_site.menu"
    label = "menu"
    default_auto_field = "django.db.models.BigAutoField"
