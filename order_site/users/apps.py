from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "order_site.users"
    label = "order_users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from order_site.users import schema  # noqa: F401 - registers the OpenAPI extension
