from __future__ import annotations

from django.apps import AppConfig

from bff_site.web.assets import ClientAssets, load_assets


class WebConfig(AppConfig):
    name = "bff_site.web"
    label = "web"
    verbose_name = "Web client shell"
    assets: ClientAssets | None = None

    def ready(self) -> None:
        # Read once at start-up: the manifest changes only with a new build (and a restart).
        type(self).assets = load_assets()
