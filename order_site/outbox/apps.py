from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "order_site.outbox"
    label = "order_outbox"
    default_auto_field = "django.db.models.BigAutoField"
