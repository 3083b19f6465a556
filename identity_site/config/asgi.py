"""ASGI entry point of CoffeeShop.Identity."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "identity_site.config.settings.local")
application = get_asgi_application()
