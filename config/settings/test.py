"""Test settings: the same PostgreSQL server, a test database pytest-django creates."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = False
# Tests that want the refresh call the services directly, or run a real worker (analytics/tests).
ANALYTICS_REFRESH_ON_COMMIT = False
OPS_ANALYZE_ON_COMMIT = False
# Tests adjudicate by calling the service, or with a real worker (claims/tests).
CLAIMS_ADJUDICATE_ON_COMMIT = False
# Tests sign in with force_login (no device); tests/test_security.py turns the TOTP requirement on itself.
OTP_REQUIRED = False
# Reads stay on the primary, where each test's own rows are (its transaction): ops/tests/test_replica.py
# switches the replica's reads on where it tests them, on a real standby (`make replica`).
DATABASE_REPLICA_READS = False
# Answers are computed each time, so a test that changes a summary sees the change: analytics/tests/test_cache.py
# switches the Redis cache on where it tests it.
ANALYTICS_CACHE_SECONDS = 0
