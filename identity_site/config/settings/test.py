"""Test runs: the same real servers as local, on ports the test harness chose."""

from identity_site.config.settings.base import *  # noqa: F403

# Password stretching is not what the tests measure; keep them fast.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
