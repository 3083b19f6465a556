"""Celery application of CoffeeShop.Order (payments and other background work)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_site.config.settings.local")

app = Celery("order_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
