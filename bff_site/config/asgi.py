"""ASGI entry point of CoffeeShop.BFF."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bff_site.config.settings.local")
application = get_asgi_application()
