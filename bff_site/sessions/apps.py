from django.apps import AppConfig


class BffSessionsConfig(AppConfig):
    name = "bff_site.sessions"
    label = "bff_sessions"  # "sessions" is Django's own app
    verbose_name = "Browser sessions"
