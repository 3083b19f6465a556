"""CoffeeShop.BFF settings shared by every environment."""

from pathlib import Path

from bff_site.config.env import SITE, env
from shared import settings as common
from shared.base_settings import *  # noqa: F403
from shared.proxies import trusted_proxies_parse
from shared.site_settings import site_opening

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SECRETS = common.load_secrets(SITE)
# Keys, hosts, database, Redis, Kafka, Vault, static files and logs, read as every site
# reads them (shared/site_settings.py names each setting).
globals().update(
    site_opening(
        SITE,
        env,
        base_dir=BASE_DIR,
        secrets=SECRETS,
        # Under ASGI each request in flight runs its sync parts on a thread of its own: at
        # a burst of reconnecting streams they wait for a Redis connection rather than fail.
        cache_options={
            "CONNECTION_POOL_CLASS": "redis.BlockingConnectionPool",
            "CONNECTION_POOL_KWARGS": {"max_connections": 64, "timeout": 5},
        },
    )
)

INSTALLED_APPS = [
    *common.DJANGO_APPS,
    "bff_site.sessions.apps.BffSessionsConfig",
    "bff_site.gateway",
    "bff_site.web",
    "shared.admin_oidc",
]
MIDDLEWARE = [
    "bff_site.gateway.middleware.SecurityHeadersMiddleware",
    *common.MIDDLEWARE,
    "bff_site.gateway.middleware.RateLimitMiddleware",
]
ROOT_URLCONF = "bff_site.config.urls"
# What its /metrics reads when scraped, beside every process's counts (shared/metrics.py).
METRICS_COLLECTORS = "bff_site.config.metrics.collectors"
WSGI_APPLICATION = "bff_site.config.wsgi.application"
# DESIGN.md auth flow 1: the browser holds only this cookie; the tokens stay in Redis.
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_COOKIE_NAME = "__Host-coffeeshop-session"  # __Host-: Secure, Path=/, no Domain
SESSION_COOKIE_PATH = "/"
SESSION_COOKIE_AGE = env.int("BFF_SESSION_SECONDS", default=8 * 3600)
# The CSRF token lives in the session and travels in the X-CSRF-Token header.
CSRF_USE_SESSIONS = True
CSRF_HEADER_NAME = "HTTP_X_CSRF_TOKEN"

# Identity: the browser is sent to IDENTITY_PUBLIC_URL; the BFF itself calls IDENTITY_URL.
IDENTITY_URL = env.str("IDENTITY_URL")
IDENTITY_PUBLIC_URL = env.str("IDENTITY_PUBLIC_URL", default=IDENTITY_URL)
ORDER_URL = env.str("ORDER_URL")
ORDER_PUBLIC_URL = env.str("ORDER_PUBLIC_URL", default=ORDER_URL)
IDENTITY_REGISTER_PATH = env.str("IDENTITY_REGISTER_PATH", default="/accounts/register/")
BFF_PUBLIC_URL = env.str("BFF_PUBLIC_URL", default=env.str("BFF_URL"))
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="bff-web")
OIDC_SCOPES = "openid profile email roles"
ORDER_PATHS = {"menu": "/api/menu/", "orders": "/api/orders/", "queue": "/api/orders/queue/"}
# Staff sign into /admin/ with their CoffeeShop account (shared/admin_oidc) as Identity's
# confidential client `bff-admin`; the BFF keeps no data of its own worth a model, so the
# "managers" group holds no permissions beyond staff (docs/decisions.md, "Admin sign-in").
ADMIN_OIDC = {
    "CLIENT_ID": env.str("ADMIN_OIDC_CLIENT_ID", default="bff-admin"),
    "CLIENT_SECRET": SECRETS.get("admin_oidc_client_secret", ""),
    "IDENTITY_URL": IDENTITY_URL,
    "IDENTITY_PUBLIC_URL": IDENTITY_PUBLIC_URL,
    "MANAGER_PERMISSIONS": [],
}
# Client credentials per audience role (DESIGN.md auth flow 2).
ORDER_CLIENTS = {
    "customer": {"client_id": "bff-customer", "secret_key": "bff_customer_client_secret"},
    "staff": {"client_id": "bff-staff", "secret_key": "bff_staff_client_secret"},
}

# Protection (issue 5): explicit limits and thresholds.
RATE_LIMITS = {
    "session": {"limit": env.int("BFF_RATE_SESSION", default=120), "window": 60},
    "address": {"limit": env.int("BFF_RATE_ADDRESS", default=600), "window": 60},
}
MENU_CACHE_SECONDS = env.int("BFF_MENU_CACHE_SECONDS", default=300)
# Live updates (GET /api/events): each Redis Stream keeps about this many entries, and
# goes when idle this long; a browser stream lasts this long before it reconnects.
LIVE_STREAM_MAXLEN = env.int("BFF_LIVE_STREAM_MAXLEN", default=5000)
LIVE_STREAM_TTL_SECONDS = env.int("BFF_LIVE_STREAM_TTL_SECONDS", default=24 * 3600)
LIVE_STREAM_SECONDS = env.int("BFF_LIVE_STREAM_SECONDS", default=300)
LIVE_HEARTBEAT_SECONDS = env.int("BFF_LIVE_HEARTBEAT_SECONDS", default=15)
DOWNSTREAM_TIMEOUT = env.float("BFF_DOWNSTREAM_TIMEOUT", default=3.0)
# Card data (docs/decisions.md): the browser sends the card straight to the payment
# provider, which answers a token (`pm_…`); the BFF only tells it where and with which
# publishable key (GET /api/config), and the CSP lets it connect there and nowhere else.
PAYMENT_PROVIDER_PUBLIC_URL = env.str(
    "PAYMENT_PROVIDER_PUBLIC_URL", default="http://127.0.0.1:28010"
).rstrip("/")
PAYMENT_PUBLISHABLE_KEY = common.require(SECRETS, "payment_publishable_key", SITE)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    f"img-src 'self' data:; connect-src 'self' {PAYMENT_PROVIDER_PUBLIC_URL}; "
    "object-src 'none'; base-uri 'none'; "
    f"frame-ancestors 'none'; form-action 'self' {IDENTITY_PUBLIC_URL}"
)

# The reverse proxies in front whose X-Forwarded-For is believed: a hop count or CIDR
# networks; none by default (shared/proxies.py, README "Behind a proxy").
TRUSTED_PROXIES = trusted_proxies_parse(env.str("TRUSTED_PROXIES", default=""))

# The web client (wasm_client/build.py output) is served from the site root by WhiteNoise:
# /app/<content hash>/…, /pyodide/<version>/… and the menu's photos,
# /photos/<key>.<content hash>.svg, never change, so they are cached for a year
# (immutable); gzip variants sit beside each file.
WASM_CLIENT_DIST_DIR = env.path(
    "WASM_CLIENT_DIST_DIR", default=BASE_DIR.parent / "wasm_client" / "dist"
)
WASM_CLIENT_URL_PREFIX = "/"
WHITENOISE_ROOT = WASM_CLIENT_DIST_DIR
WHITENOISE_IMMUTABLE_FILE_TEST = (
    r"^/(app/[0-9a-f]{16}|pyodide/[0-9][0-9.]*)/"
    r"|^/photos/[a-z0-9-]+\.[0-9a-f]{12}\.svg$"
    r"|^/static/.+\.[0-9a-f]{12}\.\w+$"
)
WHITENOISE_MIMETYPES = {".wasm": "application/wasm", ".mjs": "text/javascript"}

# The web client's API: DRF views that know the caller from the server-side session
# (bff_site/sessions/authentication.py); CSRF stays with Django's middleware.
REST_FRAMEWORK = {
    **common.REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "bff_site.sessions.authentication.SessionUserAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["bff_site.sessions.authentication.SignedIn"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CoffeeShop.BFF API",
    "DESCRIPTION": "The web client's API. Authentication: the session cookie; unsafe "
    "methods also need the session's CSRF token in X-CSRF-Token.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    # Enums stay inline (the order statuses are one list; the hook would name each copy).
    "POSTPROCESSING_HOOKS": [
        "shared.openapi.closed_components",
        "bff_site.gateway.apis.events_documented",
    ],
}
