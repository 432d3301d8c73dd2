"""Helpers for tests that start processes of their own (Celery workers)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any


def stop_process(proc: subprocess.Popen[Any], log: IO[str] | None = None) -> None:
    """SIGTERM ``proc``, wait up to 20 s, then SIGKILL; close its log file."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if log is not None:
        log.close()


@contextmanager
def celery_broker(app: Any, url: str) -> Iterator[None]:
    """Point ``app`` at the broker ``url`` for the block, then back.

    Setting ``broker_url`` alone is not enough: the app keeps the connection and producer pools it made at its
    first publish (a control ping from a test before), and a ping would go on being broadcast on the old broker,
    where no test worker listens. The pools are dropped on the way in and out, so they are made again for the
    broker in force.
    """
    previous = app.conf.broker_url

    def pools_reset() -> None:
        # Dropped, not closed: a producer taken from the old pool may still be released into it.
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url = url
    pools_reset()
    try:
        yield
    finally:
        app.conf.broker_url = previous
        pools_reset()
