"""CoffeeShop.Identity settings shared by every environment."""

from pathlib import Path

from identity_site.config.env import SITE, env
from shared import settings as common
from shared.logging import logging_config
from shared.security_settings import *  # noqa: F403

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SITE_NAME = SITE
SECRETS = common.load_secrets(SITE)

SECRET_KEY = common.require(SECRETS, "django_secret_key", SITE)
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [*common.DJANGO_APPS, "identity_site.accounts"]
MIDDLEWARE = common.MIDDLEWARE
TEMPLATES = common.TEMPLATES
ROOT_URLCONF = "identity_site.config.urls"
WSGI_APPLICATION = "identity_site.config.wsgi.application"

DATABASES = {
    "default": common.database(
        env.str("DATABASE_URL"), common.require(SECRETS, "database_password", SITE)
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = common.PASSWORD_VALIDATORS

REDIS_URL = env.str("REDIS_URL")
REDIS_PASSWORD = common.require(SECRETS, "redis_password", SITE)
CACHES = {"default": common.redis_cache(REDIS_URL, REDIS_PASSWORD, prefix=SITE)}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

KAFKA_BOOTSTRAP_SERVERS = env.str("KAFKA_BOOTSTRAP_SERVERS")
VAULT_ADDR = env.str("VAULT_ADDR")
READINESS_CHECKS = ["database", "cache", "broker", "secret_store"]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR.parent / ".state" / "static" / SITE)
STORAGES = common.STORAGES

REST_FRAMEWORK = common.REST_FRAMEWORK
SPECTACULAR_SETTINGS = {
    "TITLE": "CoffeeShop Identity API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = logging_config(SITE, env.str("LOG_LEVEL", default="INFO"))
CSRF_FAILURE_VIEW = "shared.problems.csrf_failure"
