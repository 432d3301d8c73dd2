"""Worker processes for jobs that split their work across CPUs (adjudication's shards).

``spawn``, not ``fork``: a forked child inherits the parent's open sockets and locks, and Celery's producer pool
(kombu) closes its inherited Redis channel after a fork by reading from it, which hung a forked child for good
(seen under the test suite, with a Celery worker beside it). A spawned child starts clean: it sets Django up
itself, with the parent's settings module (the environment) and the parent's database name (which differs from
the settings' under the test runner, ``test_<name>``).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from django.db import connections


def process_pool(workers: int, using: str = "default") -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes, each set up as a Django process on database ``using``'s name."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_set_up,
        initargs=(using, connections[using].settings_dict["NAME"]),
    )


def _set_up(using: str, name: str) -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.DATABASES[using]["NAME"] = name
    connections[using].settings_dict["NAME"] = name
