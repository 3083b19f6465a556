"""Celery is loaded with Django so `shared_task` binds to it."""

from order_site.config.celery import app as celery_app

__all__ = ["celery_app"]
