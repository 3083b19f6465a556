"""Settings that are the same for every site, star-imported first by each
`config/settings/base.py` (which then sets what is its own, and may override these).

Nothing here reads the environment or a secret: those belong to the site's env reader.
"""

from shared import settings as common
from shared.security_settings import *  # noqa: F403

DEBUG = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = common.PASSWORD_VALIDATORS
MIDDLEWARE = common.MIDDLEWARE
TEMPLATES = common.TEMPLATES
STORAGES = common.STORAGES
REST_FRAMEWORK = common.REST_FRAMEWORK
CSRF_FAILURE_VIEW = "shared.problems.csrf_failure"
# Bodies over this get 413 (shared/problems.py); DRF's parser reads with this cap too (it
# read any length before). Django's default, said here: the cart caps must be able to name
# an oversized cart (20,000 lines are about 1.1 MB) rather than a byte count.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
READINESS_CHECKS = ["database", "cache", "broker", "secret_store"]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
