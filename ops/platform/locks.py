"""The one advisory-lock helper: PostgreSQL advisory locks keyed by a name, always bounded by ``lock_timeout``.

Every mutual exclusion in the platform goes through here (STYLE.md 3; pretix ``base/services/locking.py``), so
the key derivation (``hashtext(name)``, a 32-bit hash in PostgreSQL's 64-bit key space) and the timeout rule live
in one place. Names are namespaced strings ("ingest", "partition:claims_claim_p2026_11", "ops.job:cleanup").

* ``xact_lock``: wait for a transaction-level lock, at most ``timeout``; released at commit or rollback.
* ``try_xact_lock``: poll for a transaction-level lock for up to ``wait_s`` seconds; returns whether it was got.
* ``session_lock``: try (or poll for up to ``wait_s``) a session-level lock for work that spans several
  transactions (maintenance jobs, a file's ingest with its partitions); released on exit, or when the
  connection closes should the process die.

PostgreSQL docs: "Advisory Locks" (13.3.5), "Advisory Lock Functions" (9.27.10), ``lock_timeout`` (20.11.1).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connections

# How long a blocking lock waits unless the caller says otherwise.
DEFAULT_TIMEOUT = "30s"
# Pause between two tries of ``try_xact_lock``.
_POLL_S = 0.2


class LockTimeout(Exception):
    """The lock was still held by another session when the timeout ran out. Carries the lock name only."""

    def __init__(self, name: str, timeout: str) -> None:
        super().__init__(f"advisory lock {name!r} not acquired within {timeout}")
        self.name = name
        self.timeout = timeout


def xact_lock(name: str, *, timeout: str = DEFAULT_TIMEOUT, using: str = "default") -> None:
    """Wait until this transaction holds the advisory lock ``name`` (``pg_advisory_xact_lock``).

    Call inside ``transaction.atomic``: the lock is released when that transaction ends. ``timeout`` is a
    PostgreSQL interval ("30s", "15min"); it bounds this wait only: the transaction's own ``lock_timeout`` is
    put back afterwards. Raises ``LockTimeout`` when the wait ran out (the transaction is then aborted, as
    after any failed statement; roll it back).
    """
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)", [timeout]
        )
        (previous, _) = cursor.fetchone()
        try:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
        except OperationalError as exc:
            if getattr(getattr(exc, "__cause__", None), "sqlstate", None) == "55P03":  # lock_not_available
                raise LockTimeout(name, timeout) from exc
            raise
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def try_xact_lock(name: str, *, wait_s: float = 0.0, using: str = "default") -> bool:
    """Try to take the transaction-level advisory lock ``name`` for up to ``wait_s`` seconds.

    Returns True once held (until the enclosing transaction ends), False when another session still held it.
    Never blocks in the server: it polls ``pg_try_advisory_xact_lock`` every 0.2 s.
    """
    deadline = time.monotonic() + wait_s
    with connections[using].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [name])
            if cursor.fetchone()[0]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_S)


@contextmanager
def session_lock(name: str, *, wait_s: float = 0.0, using: str = "default") -> Iterator[bool]:
    """Try the session-level advisory lock ``name`` for up to ``wait_s`` seconds; yield True when this session
    got it, False otherwise.

    For work that commits several times while it runs (a transaction-level lock would go at the first commit).
    Polls ``pg_try_advisory_lock`` every 0.2 s, so the server never blocks. A session holding it gets the same
    name's transaction-level lock at once (advisory locks are re-entrant per session). Released in ``finally``;
    if the process dies, PostgreSQL releases it when the connection closes.
    """
    deadline = time.monotonic() + wait_s
    with connections[using].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [name])
            acquired = bool(cursor.fetchone()[0])
            if acquired or time.monotonic() >= deadline:
                break
            time.sleep(_POLL_S)
    try:
        yield acquired
    finally:
        if acquired:
            with connections[using].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [name])
