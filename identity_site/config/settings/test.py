"""Test runs: the same real servers as local, on ports the test harness chose."""

from identity_site.config.settings.base import *  # noqa: F403

# Password stretching is not what the tests measure; keep them fast.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "identity_site.oauth.hashers.ClientSecretHasher",
]

# No collectstatic before tests: serve templates' {% static %} without the manifest.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tests change clients between requests and expect the change at once.
CLIENT_CACHE_SECONDS = 0
