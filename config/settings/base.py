"""Base settings, read from the environment through django-environ.

Every value that differs between machines comes from an environment variable with a local default,
so a fresh clone runs against the local PostgreSQL and Redis without any file to edit.
"""

import datetime as dt
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The development key is only usable with DEBUG or in tests; prod.py refuses to start without a real one.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
# Members' identifiers are encrypted with keys derived from SECRET_KEY and each of these salts (members/pii.py,
# django-fernet-encrypted-fields): the first encrypts, all decrypt. Rotate by putting a new salt first, running
# `manage.py pii_reencrypt`, then dropping the old one. The SSN's lookup hash uses PII_HMAC_KEY. prod.py
# refuses the development defaults.
SALT_KEY = env.list("PII_SALT_KEYS", default=["dev-only-pii-salt"])
PII_HMAC_KEY = env.str("PII_HMAC_KEY", default="dev-only-pii-hmac-key")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    # Django's admin with the platform's site: password and TOTP code for staff (config/admin_site.py).
    "config.apps.PlatformAdminConfig",
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
    # Triggers declared in models' Meta (ops.platform.models.AuditEvent), installed after every migrate.
    "pgtrigger",
    # Sign-in lockout after repeated failures (AXES_* below).
    "axes",
    # TOTP second factor for staff (OTP_REQUIRED below).
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Content-Security-Policy header (CONTENT_SECURITY_POLICY below).
    "csp",
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
    # request.user.is_verified(): signed in with a TOTP code (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # 15 min idle / 12 h absolute (ops/platform/sessions.py).
    "ops.platform.sessions.SessionLifetimeMiddleware",
    # no-store on signed-in pages, 403s audited (ops/platform/audit.py).
    "ops.platform.audit.AuditResponseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its 429 response.
    "axes.middleware.AxesMiddleware",
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

# The web and the workers connect as the app role (DML only, ops/roles.py; README "Database roles").
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://claims_app@127.0.0.1:5432/claims"),
}
# The database roles the set-up creates (ops/platform/roles.py, `manage.py db_roles`, README "Database roles").
DATABASE_ROLES = {
    "owner": env.str("DATABASE_OWNER_ROLE", default="claims_owner"),
    "app": env.str("DATABASE_APP_ROLE", default="claims_app"),
    "reporting": env.str("DATABASE_REPORTING_ROLE", default="claims_reporting"),
}
# The connection that creates those roles and grants them their memberships: a superuser or a CREATEROLE role.
# Used by `manage.py db_roles` only, never by the running app.
DATABASE_ADMIN_URL = env.str(
    "DATABASE_ADMIN_URL",
    default=f"postgres://postgres@{DATABASES['default']['HOST']}:{DATABASES['default']['PORT']}/postgres",
)
# The read-only reporting role, for the EXPLAIN page (ops/explain.py): SELECT on the tables but the PII table,
# pg_read_all_stats, nothing else (no superuser, so no pg_read_file, lo_export or pg_terminate_backend of
# others). Defaults to DATABASE_URL with the reporting role as user (and no password: set the whole URL when
# the server wants one).
DATABASES["reporting"] = (
    env.db_url("DATABASE_REPORTING_URL")
    if env.str("DATABASE_REPORTING_URL", default="")
    else {**DATABASES["default"], "USER": DATABASE_ROLES["reporting"], "PASSWORD": ""}
)
# In tests the reporting alias reads the test database as a mirror of default: never created or flushed through
# it (its role may not TRUNCATE), and it sees only committed rows, as in production.
DATABASES["reporting"]["TEST"] = {"MIRROR": "default"}
# The schema's owner: migrations (`make db` runs `migrate --database owner`), and the few statements PostgreSQL
# 15 leaves to a table's owner that cannot run inside a function (VACUUM, REINDEX CONCURRENTLY: ops/cleanup.py,
# ops/reindex.py), plus the development tools that empty or create tables (the demo generator, the benchmark's
# baseline). Everything else the app changes in the schema goes through the owner's functions (ops/platform/ddl.py).
DATABASES["owner"] = (
    env.db_url("DATABASE_OWNER_URL")
    if env.str("DATABASE_OWNER_URL", default="")
    else {**DATABASES["default"], "USER": DATABASE_ROLES["owner"], "PASSWORD": ""}
)
DATABASES["owner"]["TEST"] = {"MIRROR": "default"}
# A hot standby of the primary for reads that tolerate a little staleness (ops.platform.replica): analytics pages,
# their exports and the monthly report. `make replica` makes one on this machine and writes this URL to .env;
# in production point it at any streaming replica of the same database. Unset: every read runs on the primary.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    # A URL without a database name or user (as `make replica` writes it: postgres://127.0.0.1:5433/) reads the
    # database and role of DATABASE_URL, whichever that is: the standby holds every database of the primary.
    for _key in ("NAME", "USER", "PASSWORD"):
        if not DATABASES["replica"].get(_key):
            DATABASES["replica"][_key] = DATABASES["default"][_key]
    # A replica that does not answer within 2 s is treated as down, and the reads go to the primary.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    # In tests the alias reads the test database (same name) on the standby: only what the primary committed
    # and the standby replayed, as in production.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# Switch the routing off without removing the alias (the tests switch it on where they test it).
DATABASE_REPLICA_READS = env.bool("DATABASE_REPLICA_READS", default=bool(DATABASE_REPLICA_URL))
# Reads go back to the primary while the replica's replay lag is above this many seconds.
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=30.0)
# How long one check of the replica (reachable, in recovery, lag) is trusted by a process, seconds.
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=5.0)
DATABASE_ROUTERS = ["ops.platform.replica.ReplicaRouter"]
# A database made by `manage.py db_roles` (from DATABASE_ADMIN_URL) with the extensions the migrations need that
# only a superuser may create (pg_stat_statements, pgstattuple, hypopg): the platform's database and the test
# database are created from it, owned by the owner role.
DATABASE_TEMPLATE = env.str("DATABASE_TEMPLATE", default="claims_template")
DATABASES["default"]["TEST"] = {"TEMPLATE": DATABASE_TEMPLATE}
# PostgreSQL's JIT compilation, off for the platform's connections. Measured at 1,000,000 claims: the ops indexes
# page's catalog query (1 ms of work) spent 1.2 s compiling, as the planner takes a recursive CTE for 55,000 rows
# (672 real) and passes jit_above_cost; the analytics views' full SELECTs ran 0-500 ms slower with it, never
# faster (README "Performance"). PostgreSQL docs: "Just-in-Time Compilation (JIT)", 32.2 "When to JIT?".
DATABASE_JIT = env.bool("DATABASE_JIT", default=False)
for _alias in DATABASES:
    # Parameters travel apart from the statement text (psycopg's server-side binding; Django's
    # OPTIONS["server_side_binding"]): a statement that fails is logged by PostgreSQL (log_min_error_statement)
    # with $1, $2 where a name or a date of birth would otherwise be written into the server's log.
    DATABASES[_alias].setdefault("OPTIONS", {}).setdefault("server_side_binding", True)
    # psqlextra wraps the prometheus backend: partitioning and DB metrics together. The other way round,
    # pgpartition refuses to run (STACK.md).
    DATABASES[_alias]["ENGINE"] = "psqlextra.backend"
    DATABASES[_alias].setdefault("CONN_MAX_AGE", 60)
    if not DATABASE_JIT:
        _options = DATABASES[_alias]["OPTIONS"]
        _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
# Django 5.2's connection pool (psycopg_pool, one per process and alias) for the default and replica aliases
# when DATABASE_POOL_MAX_SIZE > 0: the web server's threads share at most that many connections per process
# instead of holding one each (CONN_MAX_AGE). Off by default: one-thread processes (Celery's prefork workers,
# `runserver`, the commands) gain nothing from it. README "Connection pooling" has the measurement.
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=0)
DATABASE_POOL_MIN_SIZE = env.int("DATABASE_POOL_MIN_SIZE", default=1)
# Seconds a request waits for a free connection before psycopg_pool's PoolTimeout (a 500, counted on /metrics).
DATABASE_POOL_TIMEOUT = env.float("DATABASE_POOL_TIMEOUT", default=10.0)
if DATABASE_POOL_MAX_SIZE > 0:
    for _alias in ("default", "replica"):
        if _alias in DATABASES:
            DATABASES[_alias]["OPTIONS"]["pool"] = {
                "min_size": min(DATABASE_POOL_MIN_SIZE, DATABASE_POOL_MAX_SIZE),
                "max_size": DATABASE_POOL_MAX_SIZE,
                "timeout": DATABASE_POOL_TIMEOUT,
            }
            # Django refuses persistent connections with a pool: the pool keeps them.
            DATABASES[_alias]["CONN_MAX_AGE"] = 0
POSTGRES_EXTRA_DB_BACKEND_BASE = "django_prometheus.db.backends.postgresql"
# Otherwise psqlextra runs CREATE EXTENSION hstore on every new connection.
POSTGRES_EXTRA_AUTO_EXTENSION_SET_UP = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-pgtrigger installs the triggers of models' Meta at the end of every migrate (and so in the test
# database), not through migration operations: its migration autodetector renders the model states, which
# trips over psqlextra's partitioned proxy (the examiners' work queue), and this project's makemigrations
# already combines two libraries' autodetectors (ops/management/commands/makemigrations.py).
PGTRIGGER_MIGRATIONS = False
PGTRIGGER_INSTALL_ON_MIGRATE = True

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out account is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# django-axes: 10 failed sign-ins lock the account (by username, from any address), and 10 from one address
# lock that address (password spraying across accounts), for 30 minutes; a successful sign-in resets the count.
# Each failure and the lockout are audit events (ops/platform/audit.py). An administrator unlocks early with
# `manage.py axes_reset_username <name>` / `axes_reset_ip <address>`. Behind a proxy, set
# AXES_CLIENT_IP_CALLABLE, or every client shares the proxy's address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_RESET_ON_SUCCESS = True
# Sessions: 15 minutes idle (the expiry moves on at every request), 12 hours at most (ops/platform/sessions.py).
SESSION_COOKIE_AGE = 15 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
LOGIN_URL = "admin:login"
# Staff need a TOTP device and its code at sign-in (config/admin_site.py). A developer may set OTP_REQUIRED=False
# in .env; config.settings.prod refuses that. `make superuser` gives the demo user a device and prints it.
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=True)
OTP_TOTP_ISSUER = "Claims platform"
# Every page is served from here: scripts and styles from our own static files only (no inline script
# anywhere), nothing framed, forms posted back here only. Inline style attributes stay allowed: the admin's
# templates use a few, and a style cannot run code. (django-csp 4; Django 5.2 has no CSP of its own.)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# /metrics (django-prometheus) answers only these client addresses when set (prod.py sets it; None = open,
# for development and tests). Prometheus scrapes from inside the network: README "Metrics and alerts".
METRICS_ALLOWED_IPS: list[str] | None = None

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # At least 12 characters (NIST SP 800-63B allows 8; 12 is the platform's floor for PHI access).
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
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
# "analytics": the analytics JSON answers (analytics/cache.py), in Redis so every web process shares them and a
# refresh invalidates them for all. Seconds an answer is kept; 0 switches the cache off. A refresh makes a new
# key anyway, so this bounds only how long superseded answers take space.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "analytics": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "claims",
        "TIMEOUT": None,
        # A Redis that does not answer in 1 s is treated as away (analytics/cache.py computes uncached).
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    },
}
ANALYTICS_CACHE_SECONDS = env.int("ANALYTICS_CACHE_SECONDS", default=3600)
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
# pyx12 validation in parts on the Celery workers (claims.x12.split): claims per part, or 0 to always validate
# a file whole in the calling process. A file of more claims than this is split when a worker answers a ping.
CLAIMS_VALIDATION_PART_CLAIMS = env.int("CLAIMS_VALIDATION_PART_CLAIMS", default=10_000)
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
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    # The access log without query strings: search terms are PHI (ops/platform/logs.py).
    "filters": {"scrub_query": {"()": "ops.platform.logs.ScrubQueryString"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes logs a start-up banner and every attempt at INFO: its audit rows are the record, the log needs only
    # its warnings.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "django.server": {
            "handlers": ["django.server"],
            "filters": ["scrub_query"],
            "level": "INFO",
            "propagate": False,
        },
    },
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
