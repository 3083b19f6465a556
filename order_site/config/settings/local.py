"""Local runs started by manage_all.py: production-like, on loopback, plain HTTP."""

from order_site.config.settings.base import *  # noqa: F403
