from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "order_site.notifications"
    label = "order_notifications"
    default_auto_field = "django.db.models.BigAutoField"
