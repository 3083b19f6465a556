"""ASGI entry point of CoffeeShop.Order."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_site.config.settings.local")
application = get_asgi_application()
