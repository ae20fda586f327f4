"""PRSM Workflows settings: one file, driven by environment variables.

Development works with no variables at all (SQLite and generated secrets under
``var/``). Production is switched on by ``DEBUG=0`` plus ``SECRET_KEY``,
``DATABASE_URL``, ``REDIS_URL``, ``ALLOWED_HOSTS`` and ``PRSM_ENCRYPTION_KEYS``;
``manage.py check --deploy`` then passes. See the README's configuration table.
"""

from __future__ import annotations

import os
from datetime import timedelta
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
    storage_from_url,
)
from workflows.errors import ERROR_SCHEMA  # pure: the API's error body, for the schema

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PRSM_VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded database, keys, Redis socket

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
    "axes",
    "workflows",
    "executions",
]

MIDDLEWARE = [
    # First, so that it times and counts every answer, redirects and errors included.
    "executions.operations.metrics.RequestMetricsMiddleware",
    # Next, so that an API request with a body over the limit or a NUL in its query is
    # refused before anything reads it, and API errors raised past the views are JSON.
    "workflows.api.errors.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its answer.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy on every response (django-csp): scripts only from our
# own origin, never inline. 'unsafe-eval' because the schema forms' validator
# (ajv, under react-jsonschema-form) compiles each schema to a function, and the
# schemas (inputs, template parameters, step parameters) are only known at run
# time. Styles may be inline: React Flow, CodeMirror and ECharts set element
# styles at run time. The websocket is same-origin ('self').
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

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
    # A client that falls silent inside a transaction (a worker host cut off the
    # network mid-change) keeps its locks, the execution row among them, until its
    # TCP connection is given up, many minutes later, and every other host waits on
    # them. PostgreSQL ends such a session after this long. The engine's
    # transactions take milliseconds, and none is open while a step runs.
    PRSM_DB_IDLE_IN_TRANSACTION_SECONDS = env_int(
        "PRSM_DB_IDLE_IN_TRANSACTION_SECONDS", 60, minimum=1
    )
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c idle_in_transaction_session_timeout={PRSM_DB_IDLE_IN_TRANSACTION_SECONDS}s"
    )
    _prepare_threshold = env_int("DATABASE_PREPARE_THRESHOLD", 5, minimum=0)
    if _prepare_threshold:
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=_prepare_threshold
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Empty means "embedded": `make run` starts a Redis of its own (engine issue).
REDIS_URL = env_str("REDIS_URL", "") or ""

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username/address pair before a password is checked.
    "axes.backends.AxesStandaloneBackend",
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
# Guessing is limited (workflows/ratelimit.py): sign-in lockout by django-axes, per
# username and client address; failed API keys per client address.
PRSM_TRUSTED_PROXY_COUNT = env_int("PRSM_TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_FAILURE_LIMIT = env_int("PRSM_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("PRSM_LOGIN_COOLOFF_MINUTES", 15, minimum=0.1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "workflows.ratelimit.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
PRSM_API_KEY_FAILURE_LIMIT = env_int("PRSM_API_KEY_FAILURE_LIMIT", 20, minimum=1)
PRSM_API_KEY_FAILURE_WINDOW_SECONDS = env_int("PRSM_API_KEY_FAILURE_WINDOW_SECONDS", 60, minimum=1)

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
MEDIA_ROOT = VAR_DIR / "media"
# Uploaded files, read by steps on any worker: local files by default (one machine);
# for several machines, a directory all mount (file:///…) or S3-compatible object
# storage (s3://bucket/prefix?endpoint=…), see docs/deploy.md.
PRSM_STORAGE_URL = (env_str("PRSM_STORAGE_URL", "") or "").strip()
STORAGES = {
    "default": storage_from_url(PRSM_STORAGE_URL),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "prsm_site.storage.StaticFilesStorage"  # keeps Vite's own names
        )
    },
}
# Files WhiteNoise lets browsers cache forever: Vite's fingerprinted build (a dash
# and 8 url-safe base64 characters) and Django's hashed names (a dot, 12 hex digits).
WHITENOISE_IMMUTABLE_FILE_TEST = (
    r"^/static/(dist/assets/.+-[0-9A-Za-z_-]{8}\.\w+|.+\.[0-9a-f]{12}\.\w+)$"
)

# Request limits: a definition is at most 1 MB (documented in the README).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("PRSM_MAX_REQUEST_BYTES", 2 * 1024 * 1024, minimum=1024)
PRSM_MAX_DEFINITION_BYTES = 1024 * 1024
# Uploaded input files (POST /api/v1/files), stored under files/ of that storage.
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
    # Every JSON body gets the definition parser's checks (size, depth, NUL, digits).
    "DEFAULT_PARSER_CLASSES": ["workflows.api.parsers.LimitedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "workflows.api.schema.ApiAutoSchema",
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
    "APPEND_COMPONENTS": {"schemas": {"Error": ERROR_SCHEMA}},
    "ENUM_NAME_OVERRIDES": {
        "ErrorTypeEnum": "workflows.definition.schema.ERROR_TYPES",
        "StepTypeEnum": "workflows.definition.schema.STEP_TYPES",
        "InputTypeEnum": "workflows.definition.schema.INPUT_TYPES",
        "AllocationStrategyEnum": "executions.api.serializers.ALLOCATION_STRATEGIES",
    },
}

# Security: strict when DEBUG is off; each can be relaxed by its variable.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers and Prometheus often probe over plain HTTP, past the TLS proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
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
# A Redis on a unix socket may be named ``unix:///path`` (redis-py's spelling); Celery's
# broker spells the same socket ``redis+socket:///path``.
_redis_url = REDIS_URL or f"unix://{EMBEDDED_REDIS_SOCKET}"
_broker_url = (
    f"redis+socket://{_redis_url.removeprefix('unix://')}"
    if _redis_url.startswith("unix://")
    else _redis_url
)

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Failed API keys per client address, shared by every web process (ratelimit.py).
    "ratelimit": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _redis_url,
        "KEY_PREFIX": "prsm",
        "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
    },
}

# The longest a step may run (the schema allows a step ``timeout`` up to a day): a
# definition asking for more is refused at execute, never cut short quietly. The
# broker's visibility timeout is kept above it plus retry delays, so a message is
# never re-delivered while its step is still running.
PRSM_MAX_STEP_SECONDS = env_int("PRSM_MAX_STEP_SECONDS", 86400, minimum=1)
PRSM_MAX_RETRY_DELAY_SECONDS = 3600
# How long a step that sets no ``timeout`` may run.
PRSM_DEFAULT_STEP_SECONDS = min(
    env_int("PRSM_DEFAULT_STEP_SECONDS", 3600, minimum=1), PRSM_MAX_STEP_SECONDS
)
# Workers beat this often: a running step's heartbeat, and each worker's entry in
# the registry of live workers (``executions.workers``, kept 3 beats).
PRSM_HEARTBEAT_SECONDS = env_int("PRSM_HEARTBEAT_SECONDS", 5, minimum=1)
# A step still running this long after its timeout is stopped by ending its worker
# process (it ignored the soft timeout); the reaper then deals with the step.
PRSM_STEP_KILL_GRACE_SECONDS = env_int("PRSM_STEP_KILL_GRACE_SECONDS", 15, minimum=1)
# How long a worker's task goes on running steps that the steps it finished made
# ready, before it leaves them to the queue (fairness between runs); 0 never does.
PRSM_WORKER_CONTINUE_SECONDS = env_float("PRSM_WORKER_CONTINUE_SECONDS", 1.0, minimum=0)
# A running step whose heartbeat is older than this is taken to have lost its worker.
PRSM_STALE_HEARTBEAT_SECONDS = env_int("PRSM_STALE_HEARTBEAT_SECONDS", 30, minimum=2)
# A queued step whose message has not been claimed for this long is published again,
# once per queuing, and only when a live worker consumes its queue.
PRSM_REPUBLISH_AFTER_SECONDS = env_int("PRSM_REPUBLISH_AFTER_SECONDS", 60, minimum=1)
PRSM_REAPER_INTERVAL_SECONDS = env_int("PRSM_REAPER_INTERVAL_SECONDS", 10, minimum=1)
PRSM_WORKER_QUEUES = env_str("PRSM_WORKER_QUEUES", "") or None
# /readyz fails when the reaper (run by the beat) has not run for this long.
PRSM_READY_REAPER_SECONDS = env_int(
    "PRSM_READY_REAPER_SECONDS", 3 * PRSM_REAPER_INTERVAL_SECONDS + 5, minimum=1
)
# /metrics: a scraper sends this as "Authorization: Bearer <token>"; staff may always
# read it. Empty: staff only.
PRSM_METRICS_TOKEN = env_str("PRSM_METRICS_TOKEN", "") or ""
# Compute prices for cost = tokens × model price + these × measured usage.
PRSM_PRICE_CPU_HOUR = env_str("PRSM_PRICE_CPU_HOUR", "0") or "0"
PRSM_PRICE_RAM_GB_HOUR = env_str("PRSM_PRICE_RAM_GB_HOUR", "0") or "0"
PRSM_PRICE_GPU_HOUR = env_str("PRSM_PRICE_GPU_HOUR", "0") or "0"
# Outbound HTTP (webhooks, HTTP steps) may reach these private/loopback hosts.
PRSM_OUTBOUND_ALLOWLIST = env_list("PRSM_OUTBOUND_ALLOWLIST", [])

# One OpenAI-compatible server that serves the seed's model names with no model endpoint
# to configure (docs/settings.md): set the base URL (and the key) and the seed's Quick
# Start runs. A ModelEndpoint row of the same name wins.
PRSM_OPENAI_BASE_URL = (env_str("PRSM_OPENAI_BASE_URL", "") or "").strip()
if PRSM_OPENAI_BASE_URL and not PRSM_OPENAI_BASE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        "PRSM_OPENAI_BASE_URL must be an http:// or https:// URL such as "
        f"https://api.openai.com/v1, not {PRSM_OPENAI_BASE_URL!r}."
    )
PRSM_OPENAI_API_KEY = (
    env_str("PRSM_OPENAI_API_KEY", "") or env_str("OPENAI_API_KEY", "") or ""
).strip()
#: The model names of the seed (docs/shared seed API): its examples run as written.
SEED_MODEL_NAMES = [
    "gpt-4",
    "gpt-3.5-turbo",
    "cardiffnlp/twitter-roberta-base-sentiment-latest",
    "dbmdz/bert-large-cased-finetuned-conll03-english",
    "scibert",
]
PRSM_OPENAI_MODELS = env_list("PRSM_OPENAI_MODELS", SEED_MODEL_NAMES)
# The model to ask the server for under every one of those names ("" = the name itself).
PRSM_OPENAI_REMOTE_MODEL = (env_str("PRSM_OPENAI_REMOTE_MODEL", "") or "").strip()

CELERY_BROKER_URL = _broker_url
# No results are kept (the database is the truth). Celery's own "disabled" backend
# makes every revoke log "No result backend is configured"; this one knows nothing,
# quietly (see prsm_site.celery).
CELERY_RESULT_BACKEND = "prsm_site.celery:NoResultBackend"
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
# A publish to a broker that is down fails within a few seconds (it is retried twice,
# each connection attempt bounded), so a request that committed a run answers
# anyway; the reaper publishes what could not be (``executions.services.dispatch``).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * PRSM_MAX_STEP_SECONDS + PRSM_MAX_RETRY_DELAY_SECONDS,
    "socket_connect_timeout": 2,
    # a publish on a half-open connection fails instead of waiting forever (every
    # Redis reply the engine waits for, BRPOP's included, comes within a second)
    "socket_timeout": 10,
    # Redis has no native priorities: kombu keeps one list per step; 0 is taken first.
    "queue_order_strategy": "priority",
    "priority_steps": list(range(10)),
    "sep": ":",
}
CELERY_BEAT_SCHEDULE = {
    # The interval rides along: a pass is taken once per interval of the beat's own
    # schedule, however many beats run (executions.services.reaper.reap_once).
    "reap": {
        "task": "executions.tasks.reap",
        "schedule": float(PRSM_REAPER_INTERVAL_SECONDS),
        "args": [float(PRSM_REAPER_INTERVAL_SECONDS)],
    },
}

ASGI_APPLICATION = "prsm_site.asgi.application"
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [_redis_url]},
    }
}

# Email (notifications). EMAIL_URL in django-environ's form sets the SMTP server:
# smtp://user:password@host:port (plain), smtp+tls://… (STARTTLS), smtp+ssl://…
# (TLS from the start); characters of the password that a URL reserves are %-escaped.
_email_url = env_str("EMAIL_URL")
if _email_url:
    try:
        _email = environ.Env.email_url_config(_email_url)
    except (ImproperlyConfigured, ValueError) as exc:
        raise ImproperlyConfigured(f"EMAIL_URL is not an email URL: {exc}") from None
    if not _email.get("EMAIL_HOST"):
        raise ImproperlyConfigured("EMAIL_URL names no host, e.g. smtp+tls://user:pw@host:587")
    EMAIL_HOST = _email["EMAIL_HOST"]
    EMAIL_PORT = _email.get("EMAIL_PORT") or (465 if _email.get("EMAIL_USE_SSL") else 25)
    EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
    EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
    EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
# A server that stops answering fails the send (and the task retries) instead of
# holding a worker forever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if _email_url or not DEBUG
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "prsm@localhost"
