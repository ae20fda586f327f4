"""PRSM Workflows settings: one file, driven by environment variables.

Development works with no variables at all (SQLite and generated secrets under
``var/``). Production is switched on by ``DEBUG=0`` plus ``SECRET_KEY``,
``DATABASE_URL``, ``REDIS_URL``, ``ALLOWED_HOSTS`` and ``PRSM_ENCRYPTION_KEYS``;
``manage.py check --deploy`` then passes. See the README's configuration table.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from prsm_site.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    generated_secret,
    random_secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PRSM_VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", True)

_secret = env_str("SECRET_KEY")
if not _secret:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    _secret = generated_secret(VAR_DIR / "secret_key", random_secret_key)
SECRET_KEY = _secret

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Fernet keys, newest first: encrypt with the first, decrypt with any (rotation).
_keys = env_list("PRSM_ENCRYPTION_KEYS", [])
if not _keys:
    if not DEBUG:
        raise ImproperlyConfigured("PRSM_ENCRYPTION_KEYS is required when DEBUG is off.")
    _keys = [generated_secret(VAR_DIR / "encryption_key", lambda: Fernet.generate_key().decode())]
for _key in _keys:
    try:
        Fernet(_key)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "PRSM_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes). Make one with: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from None
PRSM_ENCRYPTION_KEYS = _keys

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "channels",
    "django_vite",
    "workflows",
    "executions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "prsm_site.urls"
WSGI_APPLICATION = "prsm_site.wsgi.application"

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

_env = environ.Env()
DATABASES = {
    "default": _env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'prsm.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"]["timeout"] = 30
    # A file, not memory: the engine tests share it with a real worker process.
    # One per test session, so that two sessions never share (or delete) one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
    # Server-side parameters, so that psycopg prepares the statements a connection
    # repeats (after this many runs): a worker's bookkeeping is the same dozen
    # statements for every step, and planning them each time cost about as much as
    # running them (bench/engine.py). 0 turns it off — e.g. behind a PgBouncer older
    # than 1.21 in transaction mode, which cannot keep prepared statements.
    _prepare_threshold = env_int("DATABASE_PREPARE_THRESHOLD", 5, minimum=0)
    if _prepare_threshold:
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=_prepare_threshold
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Empty means "embedded": `make run` starts a Redis of its own (engine issue).
REDIS_URL = env_str("REDIS_URL", "") or ""

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous permissions at all
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
if DEBUG:  # WhiteNoise serves from the finders in development; keep it from warning.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The browser app: Vite builds frontend/ into static/dist with a manifest that
# django-vite reads ({% vite_asset %} in templates). `make` builds it; nothing
# comes from a CDN or a dev server.
DJANGO_VITE = {
    "default": {
        "dev_mode": False,
        "manifest_path": BASE_DIR / "static" / "dist" / "manifest.json",
        "static_url_prefix": "dist",
    }
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# Request limits: a definition is at most 1 MB (documented in the README).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("PRSM_MAX_REQUEST_BYTES", 2 * 1024 * 1024, minimum=1024)
PRSM_MAX_DEFINITION_BYTES = 1024 * 1024
# Uploaded input files (POST /api/v1/files), stored under MEDIA_ROOT/files.
PRSM_UPLOAD_MAX_BYTES = env_int("PRSM_UPLOAD_MAX_BYTES", 25 * 1024 * 1024, minimum=1)
# academic_search: the arXiv API address (a mirror, or a local fake in tests).
PRSM_ARXIV_URL = env_str("PRSM_ARXIV_URL", "") or "http://export.arxiv.org/api/query"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workflows.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "workflows.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "PRSM Workflows API",
    "DESCRIPTION": "Design, share and run multi-step scientific and AI workflows.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # 3.1: the definition schema comes from pydantic, which writes `"type": "null"`.
    "OAS_VERSION": "3.1.0",
    "ENUM_NAME_OVERRIDES": {
        "ErrorTypeEnum": "workflows.definition.schema.ERROR_TYPES",
        "StepTypeEnum": "workflows.definition.schema.STEP_TYPES",
        "InputTypeEnum": "workflows.definition.schema.INPUT_TYPES",
    },
}

# Security: strict when DEBUG is off; each can be relaxed by its variable.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Secrets of the step a process is running are redacted from every log line.
    "filters": {"redact_secrets": {"()": "executions.security.RedactingFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Engine: Celery on Redis, live events over Channels -------------------------------
# With REDIS_URL empty, everything uses the embedded Redis that `make run` (and the
# test suite) starts on a unix socket under var/.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
_redis_url = REDIS_URL or f"unix://{EMBEDDED_REDIS_SOCKET}"
_broker_url = REDIS_URL or f"redis+socket://{EMBEDDED_REDIS_SOCKET}"

# The longest a step may run; the broker's visibility timeout is kept above it plus
# retry delays, so a message is never re-delivered while its step is still running.
PRSM_MAX_STEP_SECONDS = env_int("PRSM_MAX_STEP_SECONDS", 3600, minimum=1)
PRSM_MAX_RETRY_DELAY_SECONDS = 3600
PRSM_HEARTBEAT_SECONDS = env_int("PRSM_HEARTBEAT_SECONDS", 5, minimum=1)
# A step still running this long after its timeout is stopped by ending its worker
# process (it ignored the soft timeout); the reaper then deals with the step.
PRSM_STEP_KILL_GRACE_SECONDS = env_int("PRSM_STEP_KILL_GRACE_SECONDS", 15, minimum=1)
# How long a worker's task goes on running steps that the steps it finished made
# ready, before it leaves them to the queue (fairness between runs); 0 never does.
PRSM_WORKER_CONTINUE_SECONDS = env_float("PRSM_WORKER_CONTINUE_SECONDS", 1.0, minimum=0)
# A running step whose heartbeat is older than this is taken to have lost its worker.
PRSM_STALE_HEARTBEAT_SECONDS = env_int("PRSM_STALE_HEARTBEAT_SECONDS", 30, minimum=2)
# A queued step whose message has not been claimed for this long is published again.
PRSM_REPUBLISH_AFTER_SECONDS = env_int("PRSM_REPUBLISH_AFTER_SECONDS", 60, minimum=1)
PRSM_REAPER_INTERVAL_SECONDS = env_int("PRSM_REAPER_INTERVAL_SECONDS", 10, minimum=1)
PRSM_WORKER_QUEUES = env_str("PRSM_WORKER_QUEUES", "") or None
# Compute prices for cost = tokens × model price + these × measured usage.
PRSM_PRICE_CPU_HOUR = env_str("PRSM_PRICE_CPU_HOUR", "0") or "0"
PRSM_PRICE_RAM_GB_HOUR = env_str("PRSM_PRICE_RAM_GB_HOUR", "0") or "0"
PRSM_PRICE_GPU_HOUR = env_str("PRSM_PRICE_GPU_HOUR", "0") or "0"
# Outbound HTTP (webhooks, HTTP steps) may reach these private/loopback hosts.
PRSM_OUTBOUND_ALLOWLIST = env_list("PRSM_OUTBOUND_ALLOWLIST", [])

CELERY_BROKER_URL = _broker_url
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Notifications have a queue of their own, so a slow webhook receiver never holds up
# steps; workers consume it with `-Q default,notifications` (`manage.py serve` does).
CELERY_TASK_ROUTES = {
    "executions.deliver_webhook": {"queue": "notifications"},
    "executions.send_email_notification": {"queue": "notifications"},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the database connection before and after every task
# unless told to reuse it, and a new PostgreSQL connection costs more than a whole
# step's bookkeeping. Reuse it; prsm_site.celery checks it before each task instead
# (health check, CONN_MAX_AGE).
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * PRSM_MAX_STEP_SECONDS + PRSM_MAX_RETRY_DELAY_SECONDS,
    # Redis has no native priorities: kombu keeps one list per step; 0 is taken first.
    "queue_order_strategy": "priority",
    "priority_steps": list(range(10)),
    "sep": ":",
}
CELERY_BEAT_SCHEDULE = {
    "reap": {"task": "executions.tasks.reap", "schedule": float(PRSM_REAPER_INTERVAL_SECONDS)},
}

ASGI_APPLICATION = "prsm_site.asgi.application"
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [_redis_url]},
    }
}

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "prsm@localhost")
