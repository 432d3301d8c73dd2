"""Helpers for tests that start processes of their own (Celery workers)."""

from __future__ import annotations

import subprocess
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
