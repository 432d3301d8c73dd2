"""Reads that tolerate a little staleness, served by a hot standby when one is configured and current.

A request or a command marks the reads it may take from the replica with ``replica_reads()`` (a context manager
and a decorator). Inside it, ``ReplicaRouter`` sends the ORM's reads of the platform's own data (``REPLICA_APPS``)
to the ``replica`` alias, and code that writes its SQL asks ``reading_alias()`` which alias to use. Everything
else reads the primary:

* reads outside ``replica_reads()``: the admin and anything that must see its own writes;
* reads while the primary's connection is inside a transaction (``atomic``): they may depend on its writes;
* the models of Django's auth, sessions, django-axes and the other libraries: a session or a lockout written a
  moment ago on the primary must be found;
* every read when the replica is not configured (``DATABASE_REPLICA_URL`` unset), or its reads are switched off
  (``DATABASE_REPLICA_READS``), or the last check found it unusable: unreachable, not in recovery, or behind by
  more than ``DATABASE_REPLICA_MAX_LAG_SECONDS`` (default 30 s).

The check (``replica_state``) runs at most once per ``DATABASE_REPLICA_CHECK_SECONDS`` (default 5 s) per process.
Replay lag in seconds is 0 when the standby has replayed everything the primary had written when asked (its
``pg_last_wal_replay_lsn()`` reaches the primary's ``pg_current_wal_lsn()``), else the age of the last transaction
it replayed (``now() - pg_last_xact_replay_timestamp()``): an idle primary is not reported as lag, and a standby
whose stream has stopped is. PostgreSQL docs: "Hot Standby" (27.4), "Monitoring" (27.2.5.2), "System
Administration Functions" (9.27.4, recovery information functions). A change between usable and not is logged
once, with the reason and no data; ``/metrics`` shows ``claims_db_replica_lag_seconds``,
``claims_db_replica_usable`` and ``claims_db_replica_fallbacks_total{reason}``.

Writes are never routed: ``db_for_write`` leaves them on the primary (a standby refuses them anyway).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from prometheus_client import Counter, Gauge

logger = logging.getLogger(__name__)

REPLICA_ALIAS = "replica"
# The apps whose models a stale-tolerant read may take from the replica: the platform's own data. Not auth,
# sessions, axes, otp, celery beat: the sign-in path must read what the primary wrote a moment ago.
REPLICA_APPS = frozenset({"analytics", "claims", "members", "providers"})

_stale_ok: ContextVar[bool] = ContextVar("replica_reads", default=False)
# The alias the first read inside the outermost replica_reads() chose, kept for the rest of it: one request reads
# one database, so a version read with the data (analytics.cache) describes that data, and a check that flips
# mid-request cannot mix a lagging standby's rows with the primary's.
_pinned: ContextVar[list[str] | None] = ContextVar("replica_pinned", default=None)

LAG = Gauge(
    "claims_db_replica_lag_seconds",
    "Replay lag of the read replica at its last check, seconds (0 when it has replayed all the primary's WAL; "
    "-1 when it could not be asked)",
)
USABLE = Gauge(
    "claims_db_replica_usable", "1 when stale-tolerant reads go to the replica, 0 when to the primary"
)
FALLBACKS = Counter(
    "claims_db_replica_fallbacks",
    "Checks that sent stale-tolerant reads back to the primary, by reason (lag, unreachable, not_in_recovery)",
    ["reason"],
)


def _scraped_lag() -> float:
    # Read at every /metrics scrape (the check is cached, so at most one query per check period): NaN when no
    # replica is configured, -1 when it could not be asked.
    if not configured():
        return float("nan")
    lag = replica_state().lag_seconds
    return -1.0 if lag is None else lag


def _scraped_usable() -> float:
    return float(configured() and replica_state().usable)


LAG.set_function(_scraped_lag)
USABLE.set_function(_scraped_usable)


@dataclass(frozen=True)
class ReplicaState:
    """The replica as last checked. ``lag_seconds`` is None when it could not be asked; ``reason`` is "" when
    usable, else one of "not_configured", "unreachable", "not_in_recovery", "lag"; ``detail`` says more (no data
    from any table)."""

    usable: bool
    lag_seconds: float | None
    reason: str
    detail: str
    checked_at: float  # time.monotonic()


_last: ReplicaState | None = None


def configured() -> bool:
    """True when the replica alias exists and its reads are switched on (settings)."""
    return REPLICA_ALIAS in settings.DATABASES and bool(getattr(settings, "DATABASE_REPLICA_READS", False))


@contextmanager
def replica_reads() -> Iterator[None]:
    """Mark the reads inside as tolerating replay lag up to ``DATABASE_REPLICA_MAX_LAG_SECONDS``.

    The first such read decides the alias (replica or primary) for every later one inside (outside a
    transaction), so all of them see one database at one moment of replay. A decorator too
    (``@replica_reads()``): each call enters it anew. Nested uses keep the outer one's choice.
    """
    token = _stale_ok.set(True)
    pin = _pinned.set([]) if _pinned.get() is None else None
    try:
        yield
    finally:
        if pin is not None:
            _pinned.reset(pin)
        _stale_ok.reset(token)


def reading_alias(*, stale_ok: bool = False) -> str:
    """The database alias for a read now: ``"replica"`` or ``"default"`` (see the module doc). ``stale_ok`` marks
    this one read as tolerating lag, as ``replica_reads()`` marks every read inside it."""
    if not (stale_ok or _stale_ok.get()) or not configured():
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    pinned = _pinned.get()
    if pinned:
        return pinned[0]
    alias = REPLICA_ALIAS if replica_state().usable else DEFAULT_DB_ALIAS
    if pinned is not None:  # inside replica_reads(): the first read's choice holds until it ends
        pinned.append(alias)
    return alias


_LAG_SQL = (
    "SELECT pg_is_in_recovery(), "
    "COALESCE(pg_last_wal_replay_lsn() >= %s::pg_lsn, false), "
    "EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8"
)


def replica_state(*, fresh: bool = False) -> ReplicaState:
    """The replica's state, checked anew when the last check is older than ``DATABASE_REPLICA_CHECK_SECONDS``
    (or ``fresh``). Never raises for a replica that is down: that is ``reason="unreachable"``."""
    global _last
    now = time.monotonic()
    if not configured():
        return ReplicaState(False, None, "not_configured", "no replica configured", now)
    if not fresh and _last is not None and now - _last.checked_at < settings.DATABASE_REPLICA_CHECK_SECONDS:
        return _last
    state = _check(now)
    if _last is None or _last.usable != state.usable:
        if state.usable:
            logger.info(
                "read replica: stale-tolerant reads go to the replica (lag %.1f s)", state.lag_seconds or 0
            )
        else:
            logger.warning("read replica: stale-tolerant reads fall back to the primary: %s", state.detail)
    if not state.usable:
        FALLBACKS.labels(state.reason).inc()
    _last = state
    return state


def forget_state() -> None:
    """Drop the cached check: the next ``replica_state()`` asks the replica again."""
    global _last
    _last = None


def _check(now: float) -> ReplicaState:
    limit = float(settings.DATABASE_REPLICA_MAX_LAG_SECONDS)
    try:
        # The primary's position first: whatever the standby has replayed by the time it is asked is compared
        # with WAL that existed before the question.
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            (primary_lsn,) = cursor.fetchone() or ("0/0",)
    except DatabaseError as exc:
        return ReplicaState(False, None, "unreachable", f"primary not asked ({type(exc).__name__})", now)
    replica = connections[REPLICA_ALIAS]
    try:
        with replica.cursor() as cursor:
            cursor.execute(_LAG_SQL, [primary_lsn])
            in_recovery, caught_up, age = cursor.fetchone() or (False, False, None)
    except DatabaseError as exc:
        # A broken connection is not reused: the next check connects anew.
        _close_quietly(replica)
        return ReplicaState(False, None, "unreachable", f"replica unreachable ({type(exc).__name__})", now)
    if not in_recovery:
        return ReplicaState(False, None, "not_in_recovery", "the replica alias is not a standby", now)
    if caught_up:
        lag = 0.0
    elif age is None:  # nothing replayed since the standby started: no age to give, so unbounded
        lag = float("inf")
    else:
        lag = max(0.0, float(age))
    if lag > limit:
        return ReplicaState(False, lag, "lag", f"replay lag {lag:.1f} s > {limit:g} s", now)
    return ReplicaState(True, lag, "", "", now)


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except DatabaseError:
        pass


class ReplicaRouter:
    """Django database router (``DATABASE_ROUTERS``): stale-tolerant reads of ``REPLICA_APPS`` to the replica."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if model._meta.app_label not in REPLICA_APPS:
            return None
        alias = reading_alias()
        return alias if alias == REPLICA_ALIAS else None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # A row read from the replica and one from the primary are rows of the same database.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA_ALIAS}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # The standby replays the primary's schema; nothing migrates it.
        return False if db == REPLICA_ALIAS else None
