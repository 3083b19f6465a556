"""Production: behind TLS termination, HSTS on, nothing served over plain HTTP
(shared/production_settings.py)."""

from bff_site.config.settings.base import *  # noqa: F403
from shared.production_settings import *  # noqa: F403
