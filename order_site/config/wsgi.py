"""WSGI entry point of CoffeeShop.Order (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_site.config.settings.local")
application = get_wsgi_application()
