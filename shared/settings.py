"""Settings building blocks every site uses, so the three `config/settings/base.py` stay short.

All values come from the environment (12-factor) or from the site's secrets in
Vault; nothing here holds a default for a production secret.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from shared.secrets import SecretStoreError, load_site_secrets_from_env


def load_secrets(site: str) -> dict[str, str]:
    """The site's secrets from Vault; a site that can't read them refuses to start."""
    try:
        return load_site_secrets_from_env(site)
    except SecretStoreError as err:
        raise ImproperlyConfigured(
            f"{site} refuses to start: secret store problem: {err}"
        ) from None


def require(secrets: dict[str, str], key: str, site: str) -> str:
    try:
        return secrets[key]
    except KeyError:
        raise ImproperlyConfigured(
            f"{site}: secret '{key}' is missing in the secret store"
        ) from None


def database(url: str, password: str) -> dict[str, Any]:
    """DATABASES['default'] from a password-less URL plus the password from Vault."""
    config: dict[str, Any] = environ.Env.db_url_config(url)
    config["PASSWORD"] = password
    # Django's backend with a health check that looks at the socket instead of asking
    # the server `SELECT 1` on every request (shared/postgres_backend).
    config["ENGINE"] = "shared.postgres_backend"
    config["CONN_MAX_AGE"] = 60
    config["CONN_HEALTH_CHECKS"] = True
    config["OPTIONS"] = {"connect_timeout": 3}
    return config


def with_password(url: str, password: str) -> str:
    """`redis://host:port/db` with the password put in (for clients that only take a URL)."""
    parts = urlsplit(url)
    netloc = f":{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redis_cache(url: str, password: str, *, prefix: str) -> dict[str, Any]:
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": prefix,
        "OPTIONS": {
            "PASSWORD": password,
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
        },
    }


REST_FRAMEWORK: dict[str, Any] = {
    "EXCEPTION_HANDLER": "shared.problems.drf_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser with a size cap, UTF-8 only, a nesting limit (shared/request_input.py).
    "DEFAULT_PARSER_CLASSES": ["shared.request_input.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "shared.negotiation.FirstRendererNegotiation",
    "UNAUTHENTICATED_USER": None,
}

PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Starts traces in the long-lived processes (shared/telemetry/apps.py).
    "shared.telemetry",
]

MIDDLEWARE = [
    # Outermost: counts and times every answer, by route pattern (shared/metrics.py).
    "shared.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost, so every middleware above adds its headers to the problems these make.
    "shared.problems.ProblemDetailsMiddleware",
    "shared.request_input.HeaderCheckMiddleware",
    # Dapr mode: service-to-service paths only through the sidecar (shared/mesh.py).
    "shared.mesh.MeshCallerMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
