"""Settings for every environment, read from environment variables with safe local defaults.

Local default (demo, a newcomer's machine): SQLite and a file-system Celery broker under var/.
Production and CI: DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis) from the environment.
"""
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# The default key is only fit for a local machine; `check --deploy` flags it, production sets SECRET_KEY.
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-local-only-change-me-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "portal",
    "collaboration",
    "erp_bridge",
    "edi",
]

MIDDLEWARE = [
    "portal.correlation.CorrelationMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.two_factor.TwoFactorMiddleware",
    "portal.languages.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs a web server and a worker on one file: wait for locks instead of failing,
    # take the write lock at BEGIN so two writers never deadlock, and let readers run during writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env.bool("DATABASE_JIT", default=False):
        # PostgreSQL compiles a query whose estimate is large (a scorecard over a year of receipts)
        # before running it; here that compiling took longer than the query itself (about 1 s of 1.5 s).
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=12)}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "collaboration:purchase-order-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
# Each user chooses one on *Settings* (else the browser's, through Accept-Language).
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production sets STATIC_COLLECTED=1 (for `collectstatic` and at run time) to serve hashed,
# compressed files from STATIC_ROOT; without it (demo, tests) WhiteNoise serves straight from
# the app and project static folders.
STATIC_COLLECTED = env.bool("STATIC_COLLECTED", default=False)
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))) if STATIC_COLLECTED else None
# Uploaded quality documents and incident attachments: outside every web root, only ever served
# by the access-checked download views (never by MEDIA_URL or the static files server).
PRIVATE_FILES_ROOT = Path(env.str("PRIVATE_FILES_ROOT", default=str(VAR_DIR / "private")))
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
# Fields per form post: an invoice or a shipment editor has a few inputs per line, and orders carry
# hundreds of lines (Django's default of 1,000 would refuse a 500-line invoice with a bare 400).
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=20_000)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_FILES_ROOT), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")

# --- Security: HTTPS=1 means the portal is served over TLS (production). ---
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_HOURS", default=12) * 3600
# The CSRF token reaches forms and htmx through the page, never through script reading the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
if HTTPS:
    # "__Host-" cookies are only accepted over TLS, for this host and path /: no subdomain can set them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content Security Policy (django-csp): the portal's own scripts, styles and images only, no inline
# script or style, no framing; the API docs page widens it for Swagger UI's inline style alone.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
PERMISSIONS_POLICY = {feature: [] for feature in (
    "accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone", "payment", "usb",
)}

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one user name from one
# address, that pair is locked out for LOGIN_LOCKOUT_MINUTES; a successful login resets the count.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
if BEHIND_PROXY:
    AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=1)
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# Second factor (django-otp, TOTP apps such as FreeOTP or Google Authenticator, plus one-time
# recovery codes). Optional for everyone; TWO_FACTOR_REQUIRED=1 makes it mandatory for staff and
# supplier admins, who are sent to set it up before anything else.
TWO_FACTOR_REQUIRED = env.bool("TWO_FACTOR_REQUIRED", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Supplier portal")
SILENCED_SYSTEM_CHECKS = [] if HTTPS else ["security.W004", "security.W008", "security.W012", "security.W016"]

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "collaboration.api_access.SupplierTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "collaboration.api_access.TokenScopes",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["collaboration.api_access.SupplierRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api_errors.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
# Per supplier token (or logged-in user); beyond it, 429 with Retry-After. Shared between
# processes through the cache: set CACHE_URL (e.g. redis://host:6379/1) when running several.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")
# How long an Idempotency-Key is remembered.
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
SPECTACULAR_SETTINGS = {
    "TITLE": "Supplier collaboration portal API",
    "DESCRIPTION": "Supplier API (purchase orders, acknowledgements) and ERP API (purchase orders, receipts, invoice statuses).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PurchaseOrderStatusEnum": "collaboration.models.PurchaseOrder.Status",
        "ShipmentStatusEnum": "collaboration.models.Shipment.Status",
        "QualityIncidentStatusEnum": "collaboration.models.QualityIncident.Status",
        "IncidentStepStatusEnum": "collaboration.models.IncidentStep.Status",
    },
}

# --- Celery ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_IMPORTS = ["erp_bridge.tryton.tasks"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers log through LOGGING above (JSON with correlation ids), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# How often beat sweeps the outbox for messages whose nudge got lost (due that long, and not sent).
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=15.0)
CELERY_BEAT_SCHEDULE = {
    "idempotency-key-purge": {"task": "portal.tasks.purge_idempotency_records", "schedule": 3600.0},
    "acknowledgement-reminders": {
        "task": "collaboration.tasks.send_acknowledgement_reminders",
        "schedule": env.float("REMINDER_SWEEP_SECONDS", default=3600.0),
    },
    "tryton-pull": {
        "task": "erp_bridge.tryton.tasks.pull_from_tryton",
        "schedule": env.float("TRYTON_POLL_SECONDS", default=60.0),
    },
    "tryton-reconcile": {
        "task": "erp_bridge.tryton.tasks.reconcile_with_tryton",
        "schedule": env.float("RECONCILE_SECONDS", default=3600.0),
    },
    "outbox-sweep": {
        "task": "erp_bridge.tasks.sweep_outbox",
        "schedule": OUTBOX_SWEEP_SECONDS,
    },
    "erp-batches": {
        "task": "erp_bridge.tasks.write_batches",
        "schedule": env.float("ERP_BATCH_SECONDS", default=60.0),
    },
    "edi-mailboxes": {
        "task": "edi.tasks.poll_mailboxes",
        "schedule": env.float("EDI_POLL_SECONDS", default=60.0),
    },
    "quality-expiry-reminders": {
        "task": "collaboration.tasks.send_quality_expiry_reminders",
        "schedule": env.float("QUALITY_REMINDER_SWEEP_SECONDS", default=86400.0),
    },
}

# Bearer token a Prometheus scraper must send to /metrics; empty leaves /metrics open.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Collaboration rules ---
# SSCCs for suppliers without a GS1 Company Prefix of their own come from this one (the buyer's).
GS1_COMPANY_PREFIX = env.str("GS1_COMPANY_PREFIX", default="")
GS1_SSCC_EXTENSION_DIGIT = env.int("GS1_SSCC_EXTENSION_DIGIT", default=0)
ACKNOWLEDGEMENT_LEAD_DAYS = env.int("ACKNOWLEDGEMENT_LEAD_DAYS", default=3)
CONTROL_TOWER_REFRESH_SECONDS = env.int("CONTROL_TOWER_REFRESH_SECONDS", default=60)
# Suppliers are reminded (once, one e-mail each) of quality documents expiring within this many days.
QUALITY_EXPIRY_REMINDER_DAYS = env.int("QUALITY_EXPIRY_REMINDER_DAYS", default=30)
# Days after a quality incident is opened by which the supplier's steps are due, in order:
# containment, root cause, corrective action, verification (unless the ERP or buyer gives dates).
QUALITY_STEP_DAYS = env.list("QUALITY_STEP_DAYS", cast=int, default=[1, 7, 14, 30])
if len(QUALITY_STEP_DAYS) != 4 or min(QUALITY_STEP_DAYS) < 0:
    raise environ.ImproperlyConfigured("QUALITY_STEP_DAYS takes four day counts ≥ 0, e.g. 1,7,14,30.")
# Where the portal is reached, for links in e-mails.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# --- Delivery to the ERP ---
# With no ERP_WEBHOOK_URL the file connector appends events as JSON lines under ERP_FILE_DIR.
ERP_WEBHOOK_URL = env.str("ERP_WEBHOOK_URL", default="")
ERP_WEBHOOK_SECRET = env.str("ERP_WEBHOOK_SECRET", default="local-only-webhook-secret")
ERP_CONNECT_TIMEOUT = env.float("ERP_CONNECT_TIMEOUT", default=3.0)
ERP_READ_TIMEOUT = env.float("ERP_READ_TIMEOUT", default=10.0)
ERP_FILE_DIR = Path(env.str("ERP_FILE_DIR", default=str(VAR_DIR / "erp")))
# The planning system (MRP) receives commitments and slips; with no URL they go to a file beside the ERP's.
PLANNING_WEBHOOK_URL = env.str("PLANNING_WEBHOOK_URL", default="")
PLANNING_WEBHOOK_SECRET = env.str("PLANNING_WEBHOOK_SECRET", default=ERP_WEBHOOK_SECRET)
# Tryton as the ERP (erp_bridge/tryton): with TRYTON_URL set, decided acknowledgements go to Tryton
# instead of ERP_WEBHOOK_URL, and purchases and receipts are pulled every TRYTON_POLL_SECONDS.
# --- EDIFACT ---
# Our own identity in UNB (interchange sender of what we write, recipient of what partners send).
EDI_OWN_ID = env.str("EDI_OWN_ID", default="PORTAL")
EDI_OWN_QUALIFIER = env.str("EDI_OWN_QUALIFIER", default="ZZZ")
# Partners' mailbox folders default to EDI_MAILBOX_ROOT/<supplier code>/in and /out.
EDI_MAILBOX_ROOT = Path(env.str("EDI_MAILBOX_ROOT", default=str(VAR_DIR / "edi")))
# A file left in a mailbox's processing folder (a worker died on it) is taken up again after this long.
EDI_PROCESSING_STALE_SECONDS = env.float("EDI_PROCESSING_STALE_SECONDS", default=300.0)

TRYTON_URL = env.str("TRYTON_URL", default="")
TRYTON_DATABASE = env.str("TRYTON_DATABASE", default="demo")
TRYTON_API_KEY = env.str("TRYTON_API_KEY", default="")
TRYTON_POLL_SECONDS = env.float("TRYTON_POLL_SECONDS", default=60.0)
TRYTON_POLL_OVERLAP_SECONDS = env.int("TRYTON_POLL_OVERLAP_SECONDS", default=300)
# Reconciliation with the ERP (connectors that can read: Tryton) every RECONCILE_SECONDS, over the
# orders of the last RECONCILE_DAYS.
RECONCILE_SECONDS = env.float("RECONCILE_SECONDS", default=3600.0)
RECONCILE_DAYS = env.int("RECONCILE_DAYS", default=180)
ERP_MAX_ATTEMPTS = env.int("ERP_MAX_ATTEMPTS", default=12)
ERP_RETRY_BASE_SECONDS = env.float("ERP_RETRY_BASE_SECONDS", default=2.0)
ERP_RETRY_MAX_SECONDS = env.float("ERP_RETRY_MAX_SECONDS", default=1800.0)
ERP_CLAIM_LEASE_SECONDS = env.int("ERP_CLAIM_LEASE_SECONDS", default=120)
# Fallback batch mode (erp_bridge/batches.py): destinations listed in ERP_BATCH_ONLY, or down longer
# than ERP_BATCH_AFTER_SECONDS (0: never switch automatically), get their events as numbered JSON
# lines files under ERP_BATCH_DIR/<destination>/, written every ERP_BATCH_SECONDS.
ERP_BATCH_ONLY = env.list("ERP_BATCH_ONLY", default=[])
ERP_BATCH_AFTER_SECONDS = env.int("ERP_BATCH_AFTER_SECONDS", default=3600)
ERP_BATCH_DIR = Path(env.str("ERP_BATCH_DIR", default=str(VAR_DIR / "erp" / "batches")))
ERP_BATCH_SECONDS = env.float("ERP_BATCH_SECONDS", default=60.0)

# Logs: one JSON object per line on stderr (LOG_FORMAT=json, the default), each with the correlation
# id of the request, interchange or event it belongs to; LOG_FORMAT=text for a terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation": {"()": "portal.correlation.LogFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(correlation_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601 in UTC
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT if LOG_FORMAT in ("json", "text") else "json",
                    "filters": ["correlation"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": env.str("AXES_LOG_LEVEL", default="WARNING")}, "portal.access": {"level": env.str("ACCESS_LOG_LEVEL", default="INFO")}},
}
