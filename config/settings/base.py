"""Base settings, read from the environment through django-environ.

Every value that differs between machines comes from an environment variable with a local default,
so a fresh clone runs against the local PostgreSQL and Redis without any file to edit.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The development key is only usable with DEBUG or in tests; prod.py refuses to start without a real one.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    # Listed before django_pgviews so its makemigrations (patched for partitioned models) wins (STACK.md bug 3).
    "ops",
    "psqlextra",
    "django_pgviews",
    "django_celery_beat",
    "django_celery_results",
    "django_prometheus",
    "members",
    "providers",
    "claims",
    "analytics",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"

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

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/claims"),
}
# psqlextra wraps the prometheus backend: partitioning and DB metrics together. The other way round,
# pgpartition refuses to run (STACK.md).
DATABASES["default"]["ENGINE"] = "psqlextra.backend"
DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
POSTGRES_EXTRA_DB_BACKEND_BASE = "django_prometheus.db.backends.postgresql"
# Otherwise psqlextra runs CREATE EXTENSION hstore on every new connection.
POSTGRES_EXTRA_AUTO_EXTENSION_SET_UP = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# After a batch (or its validation) commits, queue the analytics refresh (analytics.tasks.refresh_after_batch).
ANALYTICS_REFRESH_ON_COMMIT = env.bool("ANALYTICS_REFRESH_ON_COMMIT", default=True)
# After a batch's validation commits, decide its claims (claims.tasks.adjudicate_batch).
CLAIMS_ADJUDICATE_ON_COMMIT = env.bool("CLAIMS_ADJUDICATE_ON_COMMIT", default=True)
# After a batch of claims commits, ANALYZE the month partitions it wrote to (ops.analyze; large batches only).
OPS_ANALYZE_ON_COMMIT = env.bool("OPS_ANALYZE_ON_COMMIT", default=ANALYTICS_REFRESH_ON_COMMIT)
# What follows a committed batch, by Celery task name: (task, on/off setting). claims sends these and never
# imports the apps that run them (claims/services/follow_ups.py; the layers in pyproject.toml).
CLAIMS_BATCH_FOLLOW_UPS = {
    "loaded": [
        ("analytics.tasks.refresh_after_batch", "ANALYTICS_REFRESH_ON_COMMIT"),
        ("ops.tasks.analyze_after_load", "OPS_ANALYZE_ON_COMMIT"),
    ],
    "validated": [
        ("claims.tasks.adjudicate_batch", "CLAIMS_ADJUDICATE_ON_COMMIT"),
        ("analytics.tasks.refresh_after_batch", "ANALYTICS_REFRESH_ON_COMMIT"),
    ],
    "decided": [("analytics.tasks.refresh_after_batch", "ANALYTICS_REFRESH_ON_COMMIT")],
}

# Where 837P files are read from by the demo; tests read ../shared directly.
SHARED_X12_DIR = env.path("SHARED_X12_DIR", default=str(BASE_DIR.parent / "shared" / "data" / "x12"))

# Logs never carry PHI: ingest logs name files, batches and segment positions, never member data.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The payer's own identity on every 835 (1000A N3/N4, PER*BL, TRN03 "1" + tax id). The defaults are a
# development payer: a tax id starting with 9 is never an EIN (IRS prefixes), so it cannot be mistaken for one.
REMITTANCE_PAYER = {
    "tax_id": env.str("PAYER_TAX_ID", default="990000001"),
    "address_line1": env.str("PAYER_ADDRESS", default="1 PAYER WAY"),
    "city": env.str("PAYER_CITY", default="COLUMBUS"),
    "state_code": env.str("PAYER_STATE", default="OH"),
    "zip_code": env.str("PAYER_ZIP", default="43215"),
    "contact_name": env.str("PAYER_CONTACT", default="EDI SUPPORT"),
    "contact_phone": env.str("PAYER_PHONE", default="6145550100"),
}
