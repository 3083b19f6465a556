"""Local runs started by manage_all.py: production-like, on loopback, plain HTTP."""

from identity_site.config.settings.base import *  # noqa: F403
