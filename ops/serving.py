"""gunicorn's settings for serving the platform in production: `gunicorn -c ops/serving.py config.wsgi`
(`make serve-web`, `make loadtest`).

In ops, not config: it warms the claims app's ICD-10-CM titles, and config is the floor below every app.

Threads, not only processes: a request spends much of its time waiting on PostgreSQL, and a thread that waits
gives the other threads the GIL. 2 processes x 4 threads suits these 2-core machines (README "Serving": the
load test's figures). With threads, set DATABASE_POOL_MAX_SIZE so a process's threads share a few connections
instead of holding one each. Every value can be overridden from the environment.

No access log: a URL can carry a claim number or a search term, and the server keeps no such log
(DEVELOPERS: no PHI in URLs kept by the server). Errors go to stderr.
"""

import os

bind = os.environ.get("SERVE_ADDR", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# A slow report page is slow; a request stuck this long is stuck (the worker is killed and replaced).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
# Longer than any pause of a client that keeps its connection (the load test's users wait 1-3 s): a server that
# closes an idle connection just as the client sends on it makes a "connection reset" (seen at gunicorn's 2 s).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "10"))
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Django is loaded once in the master and shared by the forked workers; database connections and pools are
# opened by each worker on its first request (Django opens them lazily), never inherited.
preload_app = True


def when_ready(server: object) -> None:
    """In the master, before the workers fork: fill simple_icd_10_cm's code lists (the claim page's ICD-10-CM
    titles), which the library builds on first use, ~2 s of CPU. Filled once here, every worker shares them; left
    to the workers, each one's first claim page took 7 s under load."""
    from claims.admin import icd10cm_shown

    icd10cm_shown("E119")
