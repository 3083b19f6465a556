from django.apps import AppConfig


class OAuthConfig(AppConfig):
    name = "identity_site.oauth"
    label = "oauth"
    verbose_name = "OAuth clients"

    def ready(self) -> None:
        from identity_site.oauth import cache

        cache.connect_eviction()
