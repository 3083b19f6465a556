"""Production: behind TLS termination, HSTS on, nothing served over plain HTTP
(shared/production_settings.py)."""

from identity_site.config.settings.base import *  # noqa: F403
from shared.production_settings import *  # noqa: F403

# Redirect URIs over TLS only (RFC 9700 section 2.1).
OAUTH2_PROVIDER = {**OAUTH2_PROVIDER, "ALLOWED_REDIRECT_URI_SCHEMES": ["https"]}  # noqa: F405
