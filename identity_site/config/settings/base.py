"""CoffeeShop.Identity settings shared by every environment."""

from pathlib import Path

from identity_site.config.env import SITE, env
from identity_site.oauth import signing_keys
from shared import settings as common
from shared.base_settings import *  # noqa: F403
from shared.proxies import trusted_proxies_parse
from shared.site_settings import site_opening

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SECRETS = common.load_secrets(SITE)
# Keys, hosts, database, Redis, Kafka, Vault, static files and logs, read as every site
# reads them (shared/site_settings.py names each setting).
# Celery: Redis database 2 as the broker (housekeeping, below).
globals().update(site_opening(SITE, env, base_dir=BASE_DIR, secrets=SECRETS, celery_broker_db=2))

# Our apps first so their templates (login page, consent page) override the library's.
INSTALLED_APPS = [
    *common.DJANGO_APPS,
    "identity_site.accounts",
    "identity_site.oauth",
    "identity_site.outbox",
    "identity_site.housekeeping",
    "oauth2_provider",
]
MIDDLEWARE = [
    "identity_site.config.middleware.SecurityHeadersMiddleware",
    *common.MIDDLEWARE,
]
ROOT_URLCONF = "identity_site.config.urls"
# What its /metrics reads when scraped, beside every process's counts (shared/metrics.py).
METRICS_COLLECTORS = "identity_site.config.metrics.collectors"
WSGI_APPLICATION = "identity_site.config.wsgi.application"

AUTH_USER_MODEL = "accounts.User"
# People's passwords use Django's default (PBKDF2); the last hasher is only ever chosen
# by name, for OAuth client secrets (see identity_site/oauth/hashers.py for why).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "identity_site.oauth.hashers.ClientSecretHasher",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "account"
LOGOUT_REDIRECT_URL = "login"

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Sites share the host 127.0.0.1 locally and cookies ignore ports: name them per site.
SESSION_COOKIE_NAME = f"{SITE}_session"
CSRF_COOKIE_NAME = f"{SITE}_csrftoken"

# The reverse proxies in front whose X-Forwarded-For is believed: a hop count or CIDR
# networks; none by default (shared/proxies.py, README "Behind a proxy").
TRUSTED_PROXIES = trusted_proxies_parse(env.str("TRUSTED_PROXIES", default=""))

# Identity's pages run no script at all and take styles only from our stylesheet (no
# inline style or script anywhere). `form-action` is added per answer from the registered
# clients' redirect URIs (identity_site/config/middleware.py).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

SPECTACULAR_SETTINGS = {
    "TITLE": "CoffeeShop Identity API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Password-reset and verification mail: smtp://host:port (the local SMTP sink, or the real relay).
vars().update(env.email_url("EMAIL_URL", default="smtp://127.0.0.1:21025"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CoffeeShop <no-reply@coffeeshop.local>")
EMAIL_TIMEOUT = 5
# E-mail verification links (sent at registration) live this long; a new one can be
# asked for from the account page once per EMAIL_VERIFICATION_RESEND_SECONDS.
EMAIL_VERIFICATION_SECONDS = env.int("EMAIL_VERIFICATION_SECONDS", default=2 * 86400)
EMAIL_VERIFICATION_RESEND_SECONDS = 60

# Login throttling: this many failed attempts per account and client address lock that
# pair out for LOGIN_LOCKOUT_SECONDS (counters live in Redis, shared by every worker).
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)

USER_EVENTS_TOPIC = "coffeeshop.user-events"

# ---- OAuth 2.0 / OpenID Connect provider (django-oauth-toolkit) ----------------------
ACCESS_TOKEN_EXPIRE_SECONDS = env.int("ACCESS_TOKEN_EXPIRE_SECONDS", default=300)
# ID-token signing keys live in OpenBao at secret/coffeeshop/identity-keys (readable, not
# writable, by this site); read now, so a site without them refuses to start, and re-read
# every SIGNING_KEYS_REFRESH_SECONDS so a rotation reaches running workers.
SIGNING_KEYSET = signing_keys.read_key_values_or_refuse(SITE)
SIGNING_KEYS_REFRESH_SECONDS = env.int(
    "SIGNING_KEYS_REFRESH_SECONDS", default=signing_keys.DEFAULT_REFRESH_SECONDS
)
# Added to the retirement window of a rotated key for relying parties' clock skew.
SIGNING_KEYS_RETIRE_LEEWAY_SECONDS = env.int(
    "SIGNING_KEYS_RETIRE_LEEWAY_SECONDS", default=signing_keys.DEFAULT_RETIRE_LEEWAY_SECONDS
)
# Introspection answers are cached at most this long (and never past the token's expiry).
INTROSPECTION_CACHE_SECONDS = env.int("INTROSPECTION_CACHE_SECONDS", default=300)
# OAuth client rows are kept this long in each worker (identity_site/oauth/validators.py).
CLIENT_CACHE_SECONDS = env.int("OAUTH_CLIENT_CACHE_SECONDS", default=30)
# Named so migrations that point at the library's models can say so (swappable models).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    # The signing key at start-up. The library only checks that one is set; signing, the
    # JWKS and id_token_hint checks use the key ring of identity_site/oauth/signing_keys.py,
    # which follows rotations (`manage.py rotate_signing_key`) without a restart.
    "OIDC_RSA_PRIVATE_KEY": SIGNING_KEYSET[signing_keys.SIGNING_KEY],
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [],
    # The issuer is fixed, not derived from the Host header of each request.
    "OIDC_ISS_ENDPOINT": env.str(
        "OIDC_ISSUER", default=env.str("IDENTITY_URL", default="http://127.0.0.1:8001") + "/o"
    ),
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token", "client_credentials"],
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # An RP that sends a valid id_token_hint logs the user out without a confirmation page.
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS": True,
    # PKCE for every authorization request, S256 only (identity_site/oauth/server.py).
    "PKCE_REQUIRED": True,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": ACCESS_TOKEN_EXPIRE_SECONDS,
    "ID_TOKEN_EXPIRE_SECONDS": ACCESS_TOKEN_EXPIRE_SECONDS,
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("REFRESH_TOKEN_EXPIRE_SECONDS", default=14 * 86400),
    # Rotation with reuse detection: presenting a spent refresh token revokes its family.
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "ALLOWED_REDIRECT_URI_SCHEMES": env.list(
        "OAUTH_REDIRECT_URI_SCHEMES", default=["http", "https"]
    ),
    # Exact redirect-URI matching, loopback included (RFC 9700 section 4.1.3).
    "ALLOW_LOCALHOST_LOOPBACK": False,
    "ALLOW_URI_WILDCARDS": False,
    "SCOPES": {
        "openid": "Sign you in",
        "profile": "Your name",
        "email": "Your e-mail address",
        "roles": "Your role in the coffee shop",
        "orders:read": "Read orders",
        "orders:write": "Place and change orders",
        "orders:staff": "Work the barista queue and the menu",
        "orders:on-behalf-of": "Act for a signed-in user",
        "introspection": "Check tokens",
        "users:read": "Read users' contact data",
    },
    "SCOPES_BACKEND_CLASS": "identity_site.oauth.scopes.ClientPolicyScopes",
    "OAUTH2_VALIDATOR_CLASS": "identity_site.oauth.validators.CoffeeShopValidator",
    "OAUTH2_SERVER_CLASS": "identity_site.oauth.server.CoffeeShopServer",
    "OIDC_SERVER_CLASS": "identity_site.oauth.server.CoffeeShopServer",
    "CLIENT_SECRET_HASHER": "coffeeshop_client_secret",
    "REQUEST_APPROVAL_PROMPT": "auto",
    # RFC 9700 (OAuth 2.0 Security BCP): the compliant behaviour everywhere.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

# Housekeeping (identity_site/housekeeping), run by Celery beat inside Identity's worker
# (the `identity-worker` part), Redis as the broker (its own database number). Expired
# tokens and grants go as django-oauth-toolkit's `clear_expired()` decides, bounded by
# REFRESH_TOKEN_EXPIRE_SECONDS above; sessions by SESSION_COOKIE_AGE.
OUTBOX_SENT_RETENTION_SECONDS = env.int("OUTBOX_SENT_RETENTION_SECONDS", default=7 * 86400)
HOUSEKEEPING_EVERY_SECONDS = env.float("HOUSEKEEPING_EVERY_SECONDS", default=3600.0)
CELERY_BEAT_SCHEDULE = {
    "outbox-purge-sent": {
        "task": "identity_site.housekeeping.tasks.outbox_purge_sent_task",
        "schedule": HOUSEKEEPING_EVERY_SECONDS,
    },
    "oauth-tokens-purge": {
        "task": "identity_site.housekeeping.tasks.oauth_tokens_purge_task",
        "schedule": HOUSEKEEPING_EVERY_SECONDS,
    },
    "session-purge-expired": {
        "task": "identity_site.housekeeping.tasks.session_purge_expired_task",
        "schedule": HOUSEKEEPING_EVERY_SECONDS,
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR.parent / ".state" / "identity-beat")
)
