"""The demo's Celery worker (scripts/worker.sh, Procfile) started as root drops to an unprivileged system user."""

from __future__ import annotations

import os
import pwd
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app
from tests.processes import celery_broker, stop_process

ROOT = Path(__file__).resolve().parents[2]
TEST_BROKER = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")


def _uids(pid: int) -> tuple[int, int]:
    """(real, effective) uid of process ``pid`` (/proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            real, effective, *_ = (int(v) for v in line.split()[1:])
            return real, effective
    raise AssertionError("no Uid line")


@pytest.mark.skipif(
    os.geteuid() != 0, reason="what is tested is the drop from root (CI and the demo run as root)"
)
@pytest.mark.django_db
def test_the_demo_worker_started_as_root_runs_as_the_worker_user(tmp_path: Path) -> None:
    params = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/"
        f"{params['NAME']}",
        "REDIS_URL": TEST_BROKER,
    }
    with celery_broker(app, TEST_BROKER):
        log = (tmp_path / "worker.log").open("w")
        proc = subprocess.Popen(
            ["bash", "scripts/worker.sh", "--pool", "solo", "--without-gossip", "--without-mingle"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while not app.control.ping(timeout=1.0):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("worker did not start:\n" + (tmp_path / "worker.log").read_text())
            worker_user = pwd.getpwnam("claims-worker")
            # The script execs celery, so the worker is this very process; Celery dropped root after start-up.
            assert _uids(proc.pid) == (worker_user.pw_uid, worker_user.pw_uid)
            assert worker_user.pw_uid != 0 and (ROOT / "var").stat().st_uid == worker_user.pw_uid
        finally:
            stop_process(proc, log)
