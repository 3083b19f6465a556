"""Celery application of CoffeeShop.Identity: its scheduled housekeeping only.

One process runs both the worker and beat (`celery worker --beat`, the `identity-worker`
part): Identity has no other background work, and beat embedded in the single worker
node is the set-up Celery supports for exactly that case.
"""

import os

from celery import Celery

from shared import metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "identity_site.config.settings.local")

app = Celery("identity_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The worker serves its metrics; tasks are counted and timed (shared/metrics.py).
metrics.celery_connect()
