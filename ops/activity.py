"""Live activity of this database: running backends, who blocks whom, and cancelling a query.

Read from ``pg_stat_activity`` (no CPU or memory columns exist there) and ``pg_blocking_pids()``
(PostgreSQL docs, "System Information Functions": the pids holding locks the given backend waits for).
The backend status snapshot is cleared first: a transaction otherwise keeps the one taken on its first read.

Other sessions' statements carry their literals (a name, an SSN in a WHERE clause). Without ``literals`` (a user
without the PII permission) each is shown normalized: pg_stat_statements' text for its ``query_id`` (``$1`` in
place of constants), else the statement parsed with sqlglot and every literal replaced by a placeholder, else a
note that it is hidden.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlglot
from django.db import DatabaseError, connections, transaction
from sqlglot import exp

QUERY_CHARS = 500
HIDDEN = "(statement hidden: it may hold PHI, and no normalized text of it is known)"


@dataclass(frozen=True)
class Backend:
    pid: int
    user: str
    application: str
    client: str
    state: str  # active, idle, idle in transaction, ...
    wait_event_type: str
    wait_event: str
    started: dt.datetime | None  # query_start
    duration_s: float | None  # seconds since query_start
    query: str  # truncated to QUERY_CHARS
    blocked_by: tuple[int, ...]


@dataclass(frozen=True)
class Blocking:
    blocked_pid: int
    blocked_query: str
    blocking_pid: int
    blocking_state: str
    blocking_query: str
    waiting_s: float | None


_ACTIVITY_SQL = """
SELECT a.pid, COALESCE(a.usename, ''), COALESCE(a.application_name, ''), COALESCE(host(a.client_addr), 'local'),
       COALESCE(a.state, ''), COALESCE(a.wait_event_type, ''), COALESCE(a.wait_event, ''), a.query_start,
       EXTRACT(EPOCH FROM clock_timestamp() - a.query_start)::float8,
       a.query, pg_blocking_pids(a.pid), {normalized}
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
ORDER BY a.state = 'active' DESC, a.query_start NULLS LAST, a.pid
"""
# pg_stat_statements' normalized text of the backend's current statement, when the extension is there.
_NORMALIZED = (
    "(SELECT s.query FROM pg_stat_statements(true) s WHERE s.queryid = a.query_id AND s.dbid = a.datid "
    "AND s.userid = a.usesysid LIMIT 1)"
)


def normalized(query: str, known: str | None) -> str:
    """``query`` without its literals: pg_stat_statements' text (``known``) when there is one, else sqlglot's
    parse with each literal replaced by a placeholder, else ``HIDDEN``."""
    if known:
        return known
    try:
        tree = sqlglot.parse_one(query, read="postgres")
    except sqlglot.errors.SqlglotError:
        return HIDDEN
    if tree is None:
        return HIDDEN
    return str(
        tree.transform(lambda node: exp.Placeholder() if isinstance(node, exp.Literal) else node).sql(
            "postgres", normalize_functions=False
        )
    )


def _activity_rows(normalized_text: str, using: str) -> list[tuple[Any, ...]]:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(_ACTIVITY_SQL.format(normalized=normalized_text))
        return list(cursor.fetchall())


def backends(*, using: str = "default", literals: bool = True) -> list[Backend]:
    """Client backends of this database except our own, active ones first, longest running first; statements
    as sent when ``literals``, else normalized (module docstring). Each truncated to ``QUERY_CHARS``."""
    if literals:
        rows = _activity_rows("NULL::text", using)
    else:
        try:
            # A savepoint: without the extension, or with it not preloaded (pg_stats.slow_queries says which),
            # the read fails and the caller's transaction must stay usable; sqlglot then normalizes alone.
            with transaction.atomic(using=using):
                rows = _activity_rows(_NORMALIZED, using)
        except DatabaseError:
            rows = _activity_rows("NULL::text", using)
    return [
        Backend(
            pid=row[0],
            user=row[1],
            application=row[2],
            client=row[3],
            state=row[4],
            wait_event_type=row[5],
            wait_event=row[6],
            started=row[7],
            duration_s=row[8],
            query=(row[9] if literals else normalized(row[9], row[11]))[:QUERY_CHARS],
            blocked_by=tuple(row[10]),
        )
        for row in rows
    ]


def blocking(*, using: str = "default", literals: bool = True) -> list[Blocking]:
    """One row per (blocked, blocking) pair of backends in this database (statements as ``backends`` shows)."""
    current = {backend.pid: backend for backend in backends(using=using, literals=literals)}
    pairs = []
    for backend in current.values():
        for pid in backend.blocked_by:
            holder = current.get(pid)
            pairs.append(
                Blocking(
                    blocked_pid=backend.pid,
                    blocked_query=backend.query,
                    blocking_pid=pid,
                    blocking_state=holder.state if holder else "(other database)",
                    blocking_query=holder.query if holder else "",
                    waiting_s=backend.duration_s,
                )
            )
    return pairs


def cancel_backend(pid: int, *, using: str = "default") -> bool:
    """pg_cancel_backend(pid) for a client backend of this database; False when there is none such.

    Cancelling stops the running query only (the session stays); the caller checks superuser rights.
    """
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT pg_cancel_backend(pid) FROM pg_stat_activity
            WHERE pid = %s AND datname = current_database() AND backend_type = 'client backend'
              AND pid <> pg_backend_pid()
            """,
            [pid],
        )
        row = cursor.fetchone()
    return bool(row and row[0])
