from __future__ import annotations

import sys

from django.apps import AppConfig

from bff_site.web.assets import ClientAssets, load_assets


class WebConfig(AppConfig):
    name = "bff_site.web"
    label = "web"
    verbose_name = "Web client shell"
    assets: ClientAssets | None = None

    def ready(self) -> None:
        # Read once at start-up: the manifest changes only with a new build (and a restart).
        type(self).assets = assets = load_assets()
        # The client's package, from the very archive the browser runs: the BFF renders
        # each page's first HTML with its views (bff_site/gateway/pages.py). Appended, so
        # the BFF's own `shared` stays first (the archive holds a copy of two modules).
        archive = str(assets.archive_path) if assets and assets.archive_path else None
        if archive is not None and archive not in sys.path:
            sys.path.append(archive)
