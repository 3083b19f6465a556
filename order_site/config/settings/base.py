"""CoffeeShop.Order settings shared by every environment."""

from pathlib import Path
from urllib.parse import unquote, urlsplit

from order_site.config.env import SITE, env
from shared import settings as common
from shared.base_settings import *  # noqa: F403
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
        # Parameters sent apart from the SQL (psycopg's server-side binding): a statement
        # run often (a placement's INSERT, the relay's claim) is prepared once per
        # connection and then neither parsed nor planned again, on either side.
        database_options={"server_side_binding": True},
        # Celery: Redis database 1 as the broker (payments, sweeps, housekeeping, below).
        celery_broker_db=1,
    )
)

INSTALLED_APPS = [
    *common.DJANGO_APPS,
    "order_site.menu",
    "order_site.orders",
    "order_site.outbox",
    "order_site.users",
    "order_site.notifications",
    "order_site.payments",
    "order_site.order_payments",
    "shared.admin_oidc",
]
ROOT_URLCONF = "order_site.config.urls"
# What its /metrics reads when scraped, beside every process's counts (shared/metrics.py).
METRICS_COLLECTORS = "order_site.config.metrics.collectors"
WSGI_APPLICATION = "order_site.config.wsgi.application"

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

REST_FRAMEWORK = {
    **common.REST_FRAMEWORK,
    # Bearer tokens introspected at Identity (DESIGN.md auth flow 2); see order_site/users.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "order_site.users.authentication.IntrospectionAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["order_site.users.permissions.IsAuthenticatedUser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CoffeeShop.Order API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "order_site.orders.models.OrderStatus",
        "AdvanceStatusEnum": "order_site.orders.serializers.ADVANCE_CHOICES",
    },
}

# Order → Identity (DESIGN.md auth flow 3): introspection as the `order-service` client.
# How long a process may price placements from its copy of the menu when a change
# bypassed the ORM (ORM writes invalidate at once: order_site.menu.signals).
MENU_PRICING_CACHE_SECONDS = env.float("MENU_PRICING_CACHE_SECONDS", default=30.0)
MENU_PRICING_VERSION_CHECK_SECONDS = env.float("MENU_PRICING_VERSION_CHECK_SECONDS", default=1.0)

IDENTITY_URL = env.str("IDENTITY_URL", default="http://127.0.0.1:8001")
ORDER_CLIENT_ID = env.str("ORDER_CLIENT_ID", default="order-service")
IDENTITY_CLIENT_SECRET = SECRETS.get("identity_client_secret", "")
# The notification dispatcher reads users' e-mail addresses as the `notifier` client.
NOTIFIER_CLIENT_ID = env.str("NOTIFIER_CLIENT_ID", default="notifier")
NOTIFIER_CLIENT_SECRET = SECRETS.get("notifier_client_secret", "")

# Staff sign into /admin/ with their CoffeeShop account (shared/admin_oidc): this site
# is Identity's confidential client `order-admin`. Managers get the "managers" group:
# the menu to read and edit, orders and payments to read, and the refund action (the
# permission to add a refund; payments/admin.py). A product's calories are rows per size,
# which a manager adds and removes on the product's page.
MENU_MODELS = ("category", "optiongroup", "option", "product", "variation", "calories")
ADMIN_OIDC = {
    "CLIENT_ID": env.str("ADMIN_OIDC_CLIENT_ID", default="order-admin"),
    "CLIENT_SECRET": SECRETS.get("admin_oidc_client_secret", ""),
    "IDENTITY_URL": IDENTITY_URL,
    "IDENTITY_PUBLIC_URL": env.str("IDENTITY_PUBLIC_URL", default=IDENTITY_URL),
    "MANAGER_PERMISSIONS": [
        *(f"menu.{verb}_{model}" for verb in ("view", "change") for model in MENU_MODELS),
        "menu.add_calories",
        "menu.delete_calories",
        "orders.view_order",
        "orders.view_orderline",
        "orders.view_orderstatuschange",
        "payments.view_payment",
        "payments.view_refund",
        "payments.add_refund",
    ],
}

# Notifications: EMAIL_URL is smtp://host:port (the local sink, or the provider).
_email = urlsplit(env.str("EMAIL_URL", default="smtp://127.0.0.1:21025"))
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = _email.hostname or "127.0.0.1"
EMAIL_PORT = _email.port or 25
EMAIL_HOST_USER = unquote(_email.username or "")
EMAIL_HOST_PASSWORD = SECRETS.get("email_password", "")
EMAIL_USE_TLS = _email.scheme == "smtp+tls"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CoffeeShop <orders@coffeeshop.local>")

# Celery (the broker and basics: shared/site_settings.py): a task killed mid-way is
# delivered again (tasks are idempotent).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
# Celery's Django fix-up closes the database connection after every task unless told
# to reuse it: a new PostgreSQL connection (a forked backend and a SCRAM exchange) per
# charge cost more than the charge. Reused for this many tasks, then reopened.
CELERY_DB_REUSE_MAX = 1000

# Payments (order_site/payments): the provider (the sandbox locally), its API key from
# Vault, and the limits of every call to it (shared.http: timeout, retries, breaker).
PAYMENT_PROVIDER_URL = env.str("PAYMENT_PROVIDER_URL", default="http://127.0.0.1:28010")
PAYMENT_PROVIDER_KEY = common.require(SECRETS, "payment_provider_key", SITE)
PAYMENT_PROVIDER_TIMEOUT = env.float("PAYMENT_PROVIDER_TIMEOUT", default=10.0)
PAYMENT_PROVIDER_RETRIES = env.int("PAYMENT_PROVIDER_RETRIES", default=2)
PAYMENT_PROVIDER_BACKOFF = env.float("PAYMENT_PROVIDER_BACKOFF", default=0.5)
PAYMENT_BREAKER_FAILURES = env.int("PAYMENT_BREAKER_FAILURES", default=5)
PAYMENT_BREAKER_OPEN_SECONDS = env.float("PAYMENT_BREAKER_OPEN_SECONDS", default=30.0)
# How long after paying a customer may still cancel (and be refunded), unless a barista
# has started the order first (issue 10).
ORDER_CANCEL_WINDOW_SECONDS = env.int("ORDER_CANCEL_WINDOW_SECONDS", default=120)
# Stale orders (issue 11, order_site/orders/tasks.py, run by Celery beat): a `ready`
# order not collected this long after it became ready becomes `not_collected`; an order
# still `pending_payment` this long after it was placed becomes `expired`. The sweep
# runs every ORDER_SWEEP_EVERY_SECONDS.
ORDER_NOT_COLLECTED_AFTER_MINUTES = env.int("ORDER_NOT_COLLECTED_AFTER_MINUTES", default=60)
ORDER_PAYMENT_EXPIRES_AFTER_MINUTES = env.int("ORDER_PAYMENT_EXPIRES_AFTER_MINUTES", default=30)
ORDER_SWEEP_EVERY_SECONDS = env.float("ORDER_SWEEP_EVERY_SECONDS", default=60.0)

# Housekeeping (order_site/outbox/tasks.py), run by Celery beat (`order-beat` part):
# outbox rows Kafka acknowledged are kept a week for inspection; a processed-event row
# must outlive the longest Kafka keeps an event (log.retention.hours, 168 by default),
# or a redelivery of that event after the purge would be handled a second time.
OUTBOX_SENT_RETENTION_SECONDS = env.int("OUTBOX_SENT_RETENTION_SECONDS", default=7 * 86400)
PROCESSED_EVENT_RETENTION_SECONDS = env.int("PROCESSED_EVENT_RETENTION_SECONDS", default=14 * 86400)
HOUSEKEEPING_EVERY_SECONDS = env.float("HOUSEKEEPING_EVERY_SECONDS", default=3600.0)
CELERY_BEAT_SCHEDULE = {
    "outbox-purge-sent": {
        "task": "order_site.outbox.tasks.outbox_purge_sent_task",
        "schedule": HOUSEKEEPING_EVERY_SECONDS,
    },
    "processed-event-purge": {
        "task": "order_site.outbox.tasks.processed_event_purge_task",
        "schedule": HOUSEKEEPING_EVERY_SECONDS,
    },
    "orders-sweep-not-collected": {
        "task": "order_site.orders.tasks.orders_not_collected_sweep_task",
        "schedule": ORDER_SWEEP_EVERY_SECONDS,
    },
    "orders-sweep-unpaid": {
        "task": "order_site.orders.tasks.orders_unpaid_expire_task",
        "schedule": ORDER_SWEEP_EVERY_SECONDS,
    },
}
# Beat's record of when each entry last ran: in the state folder under `up`.
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR.parent / ".state" / "order-beat")
)

# The receipt mailed when an order is paid (order_site/notifications/receipts.py):
# where orders are collected, and the VAT rate prices include (UK standard rate).
SHOP_NAME = env.str("SHOP_NAME", default="CoffeeShop")
SHOP_ADDRESS = env.str("SHOP_ADDRESS", default="1 Roastery Lane, London EC1A 1AA")
VAT_RATE_PERCENT = env.int("VAT_RATE_PERCENT", default=20)
