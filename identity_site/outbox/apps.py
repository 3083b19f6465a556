from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "identity_site.outbox"
    label = "outbox"
    verbose_name = "Outbox"
