"""Django settings for the mypy plugin (django-stubs) only: every site's apps, no secrets.

Type checking imports settings; the sites' real settings read Vault at import time,
so mypy gets this secret-free module instead. Never used to run anything.
"""

from shared.settings import DJANGO_APPS
from shared.telemetry.config import TraceSettings

SECRET_KEY = "type-checking-only"  # noqa: S105 - not a secret, never used to serve
INSTALLED_APPS = [
    *DJANGO_APPS,
    "identity_site.accounts",
    "order_site.payments",
    "identity_site.oauth",
    "identity_site.outbox",
    "identity_site.housekeeping",
    "oauth2_provider",
    "order_site.menu",
    "order_site.orders",
    "order_site.outbox",
    "order_site.users",
    "order_site.notifications",
]
AUTH_USER_MODEL = "accounts.User"
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 - a model name
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "typecheck"}}

# Settings every site defines and `shared` reads.
SITE_NAME = "typecheck"
READINESS_CHECKS = ["database", "cache", "broker", "secret_store"]
KAFKA_BOOTSTRAP_SERVERS = "127.0.0.1:9092"
VAULT_ADDR = "http://127.0.0.1:8200"
TRACES = TraceSettings()

# Settings of Identity that its own code reads.
LOGIN_MAX_FAILURES = 5
LOGIN_LOCKOUT_SECONDS = 900
INTROSPECTION_CACHE_SECONDS = 300
CLIENT_CACHE_SECONDS = 30
EMAIL_VERIFICATION_SECONDS = 2 * 86400
EMAIL_VERIFICATION_RESEND_SECONDS = 60
USER_EVENTS_TOPIC = "coffeeshop.user-events"

# Settings of Order that its own code reads.
IDENTITY_URL = "http://127.0.0.1:8001"
ORDER_CLIENT_ID = "order-service"
IDENTITY_CLIENT_SECRET = ""
NOTIFIER_CLIENT_ID = "notifier"
NOTIFIER_CLIENT_SECRET = ""

# Settings of Order's payments that its code reads.
REDIS_URL = "redis://127.0.0.1:6379/0"
REDIS_PASSWORD = ""
PAYMENT_PROVIDER_URL = "http://127.0.0.1:28010"
PAYMENT_PROVIDER_KEY = ""
PAYMENT_PROVIDER_TIMEOUT = 10.0
PAYMENT_PROVIDER_RETRIES = 2
PAYMENT_PROVIDER_BACKOFF = 0.5
PAYMENT_BREAKER_FAILURES = 5
PAYMENT_BREAKER_OPEN_SECONDS = 30.0
ORDER_CANCEL_WINDOW_SECONDS = 120
ORDER_NOT_COLLECTED_AFTER_MINUTES = 60
ORDER_PAYMENT_EXPIRES_AFTER_MINUTES = 30
ORDER_SWEEP_EVERY_SECONDS = 60.0

# Housekeeping (Identity's and Order's scheduled purges).
OUTBOX_SENT_RETENTION_SECONDS = 7 * 86400
PROCESSED_EVENT_RETENTION_SECONDS = 14 * 86400
SHOP_NAME = "CoffeeShop"
SHOP_ADDRESS = ""
VAT_RATE_PERCENT = 20

# Settings of the BFF that its own code reads.
SECRETS: dict[str, str] = {}
IDENTITY_PUBLIC_URL = "http://127.0.0.1:8001"
IDENTITY_REGISTER_PATH = "/accounts/register/"
ORDER_URL = "http://127.0.0.1:8002"
ORDER_PUBLIC_URL = "http://127.0.0.1:8002"
BFF_PUBLIC_URL = "http://127.0.0.1:8000"
PAYMENT_PROVIDER_PUBLIC_URL = "http://127.0.0.1:28010"
PAYMENT_PUBLISHABLE_KEY = ""
OIDC_CLIENT_ID = "bff-web"
OIDC_SCOPES = "openid"
ORDER_PATHS: dict[str, str] = {}
ORDER_CLIENTS: dict[str, dict[str, str]] = {}
RATE_LIMITS: dict[str, dict[str, int]] = {}
MENU_CACHE_SECONDS = 300
LIVE_STREAM_MAXLEN = 5000
LIVE_STREAM_TTL_SECONDS = 86400
LIVE_STREAM_SECONDS = 300
LIVE_HEARTBEAT_SECONDS = 15
DOWNSTREAM_TIMEOUT = 3.0
CONTENT_SECURITY_POLICY = "default-src 'self'"
