"""Django 5.2's connection pool as the settings make it (DATABASE_POOL_MAX_SIZE), and its gauges on /metrics.

In a process of its own: the pool is made from the settings when a process starts, and the test process runs
without one. Three threads ask a pool of two for a connection at once: one has to wait.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, threading
import django
django.setup()
from django.conf import settings
from django.db import connection, connections
from ops.metrics import pool_samples

assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0
barrier = threading.Barrier(3)

def work():
    barrier.wait()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.4)")
    connection.close()  # gives the connection back to the pool

threads = [threading.Thread(target=work) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({f"{name}{{{labels[0]}}}": value for name, labels, value in pool_samples()}))
"""


@pytest.mark.django_db
def test_three_threads_share_a_pool_of_two_and_the_wait_is_on_metrics() -> None:
    default = connections["default"].settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # The test database, as the app role.
        "DATABASE_URL": f"postgres://{default['USER']}@{default['HOST']}:{default['PORT']}/{default['NAME']}",
        "DATABASE_POOL_MAX_SIZE": "2",
        "DATABASE_POOL_MIN_SIZE": "1",
    }
    env["DATABASE_REPLICA_URL"] = ""  # .env may name one: not this process's business
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    gauges = json.loads(out.stdout.strip().splitlines()[-1])
    assert gauges["claims_db_pool_max{default}"] == 2
    assert gauges["claims_db_pool_requests{default}"] >= 3
    assert gauges["claims_db_pool_requests_queued{default}"] >= 1
    assert gauges["claims_db_pool_wait_seconds{default}"] > 0.2
    assert gauges["claims_db_pool_in_use{default}"] == 0
    assert gauges["claims_db_pool_errors{default}"] == 0


def test_without_the_setting_there_is_no_pool_and_no_pool_gauge() -> None:
    from ops.metrics import pool_samples

    assert "pool" not in connections["default"].settings_dict["OPTIONS"]
    assert pool_samples() == []
