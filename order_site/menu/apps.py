from django.apps import AppConfig


class MenuConfig(AppConfig):
    name = "order_site.menu"
    label = "menu"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from order_site.menu import signals

        signals.connect()
