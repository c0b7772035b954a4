"""Settings for the support copilot.

Every value comes from the environment; this is the only module that reads it.
The defaults give the embedded mode: SQLite, Celery tasks run eagerly, the offline
`rules` provider, the demo order store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from copilot import defaults as copilot_defaults
from copilot.conf import setting_names
from orders import defaults as orders_defaults
from replay import defaults as replay_defaults

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_typed(name: str, default: Any) -> Any:
    """Environment variable `name` read as the type of its `default` (bool, int, float, str)."""
    if isinstance(default, bool):
        return env_bool(name, default)
    if isinstance(default, int):
        return env_int(name, default)
    if isinstance(default, float):
        return env_float(name, default)
    return env_str(name, default)


DEBUG = env_bool("DEBUG")

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "waffle",
    "copilot",
    "orders",
    "rollout",
    "audit",
    "replay",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "copilot.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "waffle.middleware.WaffleMiddleware",
]

ROOT_URLCONF = "copilot.urls"
WSGI_APPLICATION = "copilot.wsgi.application"
ASGI_APPLICATION = "copilot.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg 3's pool; Django requires persistent connections off when pooling.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", 1),
        "max_size": env_int("DATABASE_POOL_MAX", 10),
        "timeout": env_float("DATABASE_POOL_TIMEOUT", 10.0),
    }
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
    # With server-side binding, psycopg prepares a statement once it has run this many times
    # on a connection, so a draft's dozen queries skip PostgreSQL's parse and plan (about
    # 3 ms per draft in bench/draft_overhead.py). "off" keeps Django's client-side binding,
    # for a pooler that cannot hold prepared statements (PgBouncer in transaction mode
    # before 1.21).
    prepare_threshold = env_str("DATABASE_PREPARE_THRESHOLD", "5").strip().lower()
    if prepare_threshold != "off":
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = int(prepare_threshold)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server, the eager tasks and the tests share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            # WAL with synchronous=NORMAL: no fsync per commit, still consistent after a crash.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Production is HTTPS-only; behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER to the
# header it sets (e.g. HTTP_X_FORWARDED_PROTO), or the redirect to HTTPS would loop.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_str("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (env_str("SECURE_PROXY_SSL_HEADER"), "https")

# --- waffle: the per-brand flag model lives in rollout -------------------------------
WAFFLE_FLAG_MODEL = "rollout.BrandFlag"
WAFFLE_CREATE_MISSING_FLAGS = False
WAFFLE_CREATE_MISSING_SWITCHES = False
WAFFLE_ENABLE_ADMIN_PAGES = False  # rollout.admin registers the BrandFlag and Switch pages

# --- Celery ----------------------------------------------------------------------------
# With no broker the embedded mode runs tasks in-process, on commit, like a worker would.
# (Celery still opens a producer for an eager task: the in-memory transport needs no host.)
CELERY_TASK_ALWAYS_EAGER = not env_str("CELERY_BROKER_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "copilot"
# A draft is I/O-bound (it waits on the model and the order API), so one worker process
# holds many drafts in flight on threads instead of one per core.
CELERY_WORKER_POOL = env_str("CELERY_WORKER_POOL", "threads")
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 100)
# A message is acknowledged only once its draft is stored; a worker that dies mid-draft
# (kill -9, OOM, lost node) leaves it to be delivered again, and the task is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = env_float("CELERY_BROKER_CONNECTION_TIMEOUT", 2.0)
# Publishing fails fast when the broker is down; the sweeper re-queues what was not sent.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Time limits sit above the engine's own run deadline and below the broker's visibility
# timeout: a draft still running when the broker re-delivers its message would run twice.
# (The prefork and gevent pools enforce them; on threads the run deadline and the provider
# and tool timeouts are what bound a draft.)
CELERY_TASK_SOFT_TIME_LIMIT = env_float("CELERY_TASK_SOFT_TIME_LIMIT", 90.0)
CELERY_TASK_TIME_LIMIT = env_float("CELERY_TASK_TIME_LIMIT", 120.0)
COPILOT_BROKER_VISIBILITY_TIMEOUT = env_float("COPILOT_BROKER_VISIBILITY_TIMEOUT", 600.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": COPILOT_BROKER_VISIBILITY_TIMEOUT,
    # Look for messages of dead workers often enough to honour a short visibility timeout.
    "unacked_restore_interval": env_int("COPILOT_BROKER_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": 1,
    # The lock around that look is held for milliseconds; a worker killed while holding it
    # must not hold back every other worker's restores for kombu's default 5 minutes.
    "unacked_mutex_expire": env_int("COPILOT_BROKER_RESTORE_LOCK_SECONDS", 10),
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
}
# A draft left in `generating` this long after its last change has lost its worker; a
# pending one this long never reached a worker (the broker was down when it was queued).
COPILOT_DRAFT_STUCK_SECONDS = env_float("COPILOT_DRAFT_STUCK_SECONDS", CELERY_TASK_TIME_LIMIT + 30)
COPILOT_SWEEP_INTERVAL_SECONDS = env_float("COPILOT_SWEEP_INTERVAL_SECONDS", 30.0)

# Periodic work (run one `celery -A copilot beat` per deployment beside the workers).
CELERY_BEAT_SCHEDULE = {
    "draft-sweep": {
        "task": "copilot.draft_sweep",
        "schedule": COPILOT_SWEEP_INTERVAL_SECONDS,
        "options": {"expires": COPILOT_SWEEP_INTERVAL_SECONDS},
    },
    "reply-delivery-sweep": {"task": "copilot.reply_delivery_sweep", "schedule": 60.0},
    # The audit's daily rollup catches up with decisions and reviews.
    "audit-rollup-refresh-recent": {"task": "audit.rollup_refresh_recent", "schedule": 600.0},
}

# --- App settings ---------------------------------------------------------------------------
# Each app owns its settings and their defaults in its `defaults.py` (read through
# `copilot.conf`); the environment variable of the same name sets one here.
for _defaults in (copilot_defaults, orders_defaults, replay_defaults):
    for _name in setting_names(_defaults):
        if os.environ.get(_name, "") != "":
            globals()[_name] = env_typed(_name, getattr(_defaults, _name))
# The engine's run deadline is checked against Celery's limits below.
COPILOT_RUN_DEADLINE_SECONDS = env_float(
    "COPILOT_RUN_DEADLINE_SECONDS", copilot_defaults.COPILOT_RUN_DEADLINE_SECONDS
)

# Keys for credentials at rest (newest first). Development falls back to a key derived
# from SECRET_KEY so the embedded mode needs no set-up; production must set its own.
COPILOT_ENCRYPTION_KEYS = env_list("COPILOT_ENCRYPTION_KEYS") or ([SECRET_KEY] if DEBUG else [])


if not (
    COPILOT_RUN_DEADLINE_SECONDS
    < CELERY_TASK_SOFT_TIME_LIMIT
    < CELERY_TASK_TIME_LIMIT
    < COPILOT_BROKER_VISIBILITY_TIMEOUT
    and CELERY_TASK_TIME_LIMIT < COPILOT_DRAFT_STUCK_SECONDS
):
    raise ImproperlyConfigured(
        "Need COPILOT_RUN_DEADLINE_SECONDS < CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT"
        " < COPILOT_BROKER_VISIBILITY_TIMEOUT, and CELERY_TASK_TIME_LIMIT < COPILOT_DRAFT_STUCK_SECONDS."
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "event": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "event"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs whole URLs at INFO, query strings (customer emails) included; the orders
        # HTTP helper logs its own events without them.
        "httpx": {"level": "WARNING"},
    },
}

# --- Cache: waffle reads flags through it, so every process must share one in production.
CACHE_URL = env_str("CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Content Security Policy (copilot.middleware): no inline script or style anywhere -----
COPILOT_CSP = env_str(
    "COPILOT_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'",
)
