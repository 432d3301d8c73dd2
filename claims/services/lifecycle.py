"""The one writer of claim status: a compare-and-set on the claim, and a ``ClaimStatusHistory`` row per change.

Every status change goes through ``claims_status_change`` (validation, adjudication with the replacements and
voids it ends, examiner and supervisor actions, the tests); claims written with their history in one COPY
(ingest's new claims, the synthetic history generator's) get their history rows from
``history_rows_new_claim``. The rules (statuses, allowed moves, sources) are ``claims.lifecycle``.

It is also the one writer of ``ClaimMonthCount``, the months each state is in (what the work queue, the status
filter, adjudication's take and the 835 cycle read, so each statement is planned over those months' partitions
only): every status change adds its deltas in its own transaction; writers that load claims straight into a
status (ingest's COPY) call ``month_counts_loaded``, and the 835 cycle ``month_counts_remitted``.

Why compare-and-set: a claim read as "validated" by one worker and changed by an examiner meanwhile must not be
overwritten; ``UPDATE ... WHERE status = <the status read>`` changes it only if nobody did, and the row count
says whether every claim moved (healthchecks ``sendalerts.py``, STYLE.md 3).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from claims.lifecycle import NEW, ClaimStatus, check_transition, initial_transitions
from claims.models import Claim, ClaimMonthCount, ClaimStatusHistory
from ops.platform.binding import bound_cursor, stage_rows

# Columns of a history row as ``history_rows_new_claim`` yields them (COPY order).
HISTORY_COLUMNS = (
    "claim_id",
    "claim_service_date_from",
    "from_status",
    "to_status",
    "changed_at",
    "changed_by_id",
    "source",
    "note",
)
NOTE_MAX = ClaimStatusHistory._meta.get_field("note").max_length or 200
# Claims by id and partition key as literal lists beside the join: the planner then prunes to the partitions of
# those months at plan time and probes their indexes, where a join to a large unnest() alone made it hash
# every partition (measured at 1M claims: 0.6 s for 2,000 claims, 20 ms with the lists). Format with the table
# alias and its id column; parameters from ``keys_params``.
KEYS_FILTER = "{alias}.{id} = ANY(%b::bigint[]) AND {alias}.service_date_from = ANY(%b::date[])"


def keys_params(claims: Iterable[tuple[int, dt.date]]) -> list[list[Any]]:
    """The two parameters of ``KEYS_FILTER`` for (claim id, service date from) pairs."""
    pairs = list(claims)
    return [[cid for cid, _ in pairs], sorted({sdf for _, sdf in pairs})]


# --- the months each state is in (ClaimMonthCount) ---------------------------------------------------------------

# States counted besides the statuses: decided and not yet in an 835 (the 835 cycle's claims), and ended by a later
# claim after being remitted with the reversal not sent yet (the cycle's reversals).
STATE_UNREMITTED = "unremitted"
STATE_UNREVERSED = "unreversed"
_REMITTED_STATUSES = frozenset({ClaimStatus.APPROVED.value, ClaimStatus.DENIED.value})
_ENDED_STATUSES = frozenset({ClaimStatus.REPLACED.value, ClaimStatus.VOIDED.value})
COUNTS_TABLE = ClaimMonthCount._meta.db_table
# Each writer appends its own delta rows (one per state and month it changed): rows are never updated, so two
# writers at once neither wait on each other (one row per key would be a lock every writer queues on, held until
# its transaction ends) nor lose each other's counts. The concurrency test's negative control swaps this for a
# writer that keeps one total row per key, rewritten from what it read, and shows two writers then lose one.
_COUNTS_WRITE = f"""
INSERT INTO {COUNTS_TABLE} (state, month, claims)
SELECT * FROM unnest(%b::text[], %b::date[], %b::bigint[])
"""
# (state, any day of the month) -> claims, + or -.
MonthDeltas = Mapping[tuple[str, dt.date], int]


def month_of(day: dt.date) -> dt.date:
    """The first day of ``day``'s month: the month partition a claim served on ``day`` is in."""
    return day.replace(day=1)


def _state_flags(status: str, *, remitted: bool, reversed_: bool) -> tuple[int, int]:
    """(unremitted, unreversed) of a claim in ``status`` with those remittance facts, as 0 or 1."""
    return (
        int(status in _REMITTED_STATUSES and not remitted),
        int(status in _ENDED_STATUSES and remitted and not reversed_),
    )


def claim_states(status: str, *, remitted: bool = False, reversed_: bool = False) -> list[str]:
    """The counted states of one claim: its status, and unremitted / unreversed when they apply."""
    unremitted, unreversed = _state_flags(status, remitted=remitted, reversed_=reversed_)
    return [status, *([STATE_UNREMITTED] if unremitted else []), *([STATE_UNREVERSED] if unreversed else [])]


def month_counts_add(deltas: MonthDeltas, *, using: str = "default") -> None:
    """Add ``deltas`` ((state, any day of the month) -> claims, + or -) to the month counts, in the caller's
    transaction. Zero deltas are dropped; nothing is written when none is left."""
    summed: Counter[tuple[str, dt.date]] = Counter()
    for (state, day), n in deltas.items():
        summed[(state, month_of(day))] += n
    rows = sorted((key, n) for key, n in summed.items() if n)
    if not rows:
        return
    with bound_cursor(using) as cursor:
        cursor.execute(
            _COUNTS_WRITE,
            [[state for (state, _), _ in rows], [month for (_, month), _ in rows], [n for _, n in rows]],
        )


def month_counts_loaded(counts: MonthDeltas, *, using: str = "default") -> None:
    """Count claims written straight into a status, not through ``claims_status_change``: ingest's COPY of a chunk
    (call it in the chunk's transaction with {(status, service_date_from or its month): claims}), so a new
    "received" claim's month is known to the lists and jobs that read the months (``months_holding``). A claim
    loaded decided (a duplicate denied at load) is counted as unremitted too."""
    deltas: Counter[tuple[str, dt.date]] = Counter()
    for (status, day), n in counts.items():
        for state in claim_states(status):
            deltas[(state, day)] += n
    month_counts_add(deltas, using=using)


def month_counts_remitted(
    *, remitted: Iterable[dt.date] = (), reversed_: Iterable[dt.date] = (), using: str = "default"
) -> None:
    """The 835 cycle marked claims remitted (``remitted``: each one's service_date_from) and reversals sent
    (``reversed_``): they leave "unremitted" / "unreversed". In the transaction that marks them."""
    deltas: Counter[tuple[str, dt.date]] = Counter()
    for day in remitted:
        deltas[(STATE_UNREMITTED, day)] -= 1
    for day in reversed_:
        deltas[(STATE_UNREVERSED, day)] -= 1
    month_counts_add(deltas, using=using)


def months_holding(states: Iterable[str], *, using: str = "default") -> list[dt.date]:
    """First days of the months that hold at least one claim in one of ``states``, oldest first.

    Reads ``ClaimMonthCount`` only (a plain table, a few rows per state and month): pass the list to the claims
    query as ``service_date_from = ANY(<list>)`` (or ``__in``) so PostgreSQL prunes to those months when it plans
    (PostgreSQL docs, "Partition Pruning"). A month counted in no state is not listed: no claim is there.
    """
    wanted = sorted(set(states))
    with bound_cursor(using) as cursor:
        cursor.execute(
            f"SELECT DISTINCT month FROM (SELECT state, month FROM {COUNTS_TABLE} WHERE state = ANY(%b::text[]) "
            f"GROUP BY state, month HAVING sum(claims) > 0) held ORDER BY month",
            [wanted],
        )
        return [row[0] for row in cursor.fetchall()]


def month_days(months: Iterable[dt.date]) -> list[dt.date]:
    """Every day of ``months`` (first days), in order: the literal list for ``service_date_from = ANY(..)`` (or
    ``__in``) that bounds a statement to those months' partitions. An array constant on the partition key prunes
    when the statement is planned (PostgreSQL docs, "Partition Pruning"); ``date_trunc('month', ..)`` of the key
    would not prune at all. 31 values a month at most."""
    days: list[dt.date] = []
    for first in sorted({month_of(m) for m in months}):
        day = first
        while day.month == first.month:
            days.append(day)
            day += dt.timedelta(days=1)
    return days


def month_counts_compact(*, using: str = "default") -> int:
    """Fold the delta rows into one row per (state, month) with a non-zero sum; returns the rows left.

    One statement: the DELETE removes the rows its snapshot sees (a writer's rows not committed yet are not seen,
    and stay) and the INSERT writes their sums back, so the sums never change, whatever runs beside it.
    """
    with transaction.atomic(using=using), bound_cursor(using) as cursor:
        cursor.execute(
            f"""
            WITH gone AS (DELETE FROM {COUNTS_TABLE} RETURNING state, month, claims)
            INSERT INTO {COUNTS_TABLE} (state, month, claims)
            SELECT state, month, sum(claims) FROM gone GROUP BY state, month HAVING sum(claims) <> 0
            """
        )
        return cursor.rowcount


def month_counts_retired(month: dt.date, *, using: str = "default") -> int:
    """Forget ``month`` (its first day): its claims were archived and its partitions dropped (``ops.partitions``),
    so no claim is left to count. In the retirement's transaction; returns the rows deleted."""
    with bound_cursor(using) as cursor:
        cursor.execute(f"DELETE FROM {COUNTS_TABLE} WHERE month = %s", [month_of(month)])
        return cursor.rowcount


# The counts as they are on the claims (migration claims 0018 backfills with the same SQL).
_REBUILD = f"""
WITH g AS (
    SELECT status, date_trunc('month', service_date_from)::date AS month,
           remittance_id IS NULL AS unremitted, reversal_remittance_id IS NULL AS unreversed, count(*) AS n
    FROM {Claim._meta.db_table} GROUP BY 1, 2, 3, 4
)
INSERT INTO {COUNTS_TABLE} (state, month, claims)
SELECT status, month, sum(n) FROM g GROUP BY 1, 2
UNION ALL
SELECT %(unremitted)s::text, month, sum(n) FROM g WHERE status = ANY(%(decided)s::text[]) AND unremitted GROUP BY 2
UNION ALL
SELECT %(unreversed)s::text, month, sum(n) FROM g
WHERE status = ANY(%(ended)s::text[]) AND NOT unremitted AND unreversed GROUP BY 2
"""


def month_counts_rebuild(*, using: str = "default") -> None:
    """Count the months again from the claims (one scan of every partition): after a tool wrote claims without
    this module (the demo-data generator's COPY, the benchmark's decisions). Holds the counts table's
    SHARE ROW EXCLUSIVE lock, so status changes wait for it instead of adding to counts it is replacing."""
    with transaction.atomic(using=using), bound_cursor(using) as cursor:
        cursor.execute(f"LOCK TABLE {COUNTS_TABLE} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {COUNTS_TABLE}")
        cursor.execute(
            _REBUILD,
            {
                "unremitted": STATE_UNREMITTED,
                "unreversed": STATE_UNREVERSED,
                "decided": sorted(_REMITTED_STATUSES),
                "ended": sorted(_ENDED_STATUSES),
            },
        )


# The compare-and-set: a claim moves only from the status its caller read (the concurrency test's negative
# control drops this condition and shows two actors then both "win").
_COMPARE = "AND c.status = ch.from_status"
# The staged changes (COPY order of the rows claims_status_change builds).
_STAGE_COLUMNS = (
    "id bigint, service_date_from date, from_status text, to_status text, carc text, paid numeric, note text, "
    "pend_reason text, allowed numeric, pr numeric, edits text, ms bigint"
)


class StatusConflict(Exception):
    """Some claims were no longer in the status the caller read: nothing was changed. Carries ids only."""

    def __init__(self, claim_ids: Sequence[int]) -> None:
        shown = ", ".join(str(i) for i in list(claim_ids)[:10])
        more = f" and {len(claim_ids) - 10} more" if len(claim_ids) > 10 else ""
        super().__init__(f"claim status changed meanwhile: {shown}{more}")
        self.claim_ids = list(claim_ids)


@dataclass(frozen=True)
class StatusChange:
    """One claim moving from the status its caller read to a new one.

    The decision that goes with the status is set in the same UPDATE when given: ``denial_reason_code`` (a
    CARC), ``total_paid``, ``allowed`` and ``patient_responsibility`` (dollars, ``Decimal``), ``pend_reason``
    (claims.adjudication.edits.PendReason), ``edits`` (the edit ids that fired) and ``processing_ms``
    (received -> decision, ms). None leaves the column as it is, except that a claim leaving "pended" always
    loses its pend reason.
    """

    claim_id: int
    service_date_from: dt.date
    from_status: str
    to_status: str
    note: str = ""
    denial_reason_code: str | None = None
    total_paid: Decimal | None = None
    pend_reason: str | None = None
    allowed: Decimal | None = None
    patient_responsibility: Decimal | None = None
    edits: tuple[str, ...] | None = None
    processing_ms: int | None = None


def claims_status_change(
    *,
    changes: Sequence[StatusChange],
    source: str,
    actor: Any = None,
    at: dt.datetime | None = None,
    using: str = "default",
) -> int:
    """Move every claim of ``changes`` to its new status, all or none; return how many moved.

    One ``UPDATE`` (compare-and-set on ``from_status``, partition key in the join so each claim is found in
    its own month's partition) sets ``status``, ``processed_at = at`` and any decision columns; one ``INSERT``
    writes a history row per claim with ``source``, ``actor`` (a user or None) and the note.
    Raises ``IllegalTransition`` (claims.lifecycle) for a move the lifecycle forbids, before touching anything,
    and ``StatusConflict`` when some claim was not in its ``from_status`` (the whole call is rolled back).
    """
    if not changes:
        return 0
    for change in changes:
        check_transition(change.from_status, change.to_status)
    at = at or timezone.now()
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    rows = (
        (
            c.claim_id,
            c.service_date_from,
            c.from_status,
            c.to_status,
            c.denial_reason_code,
            c.total_paid,
            c.note[:NOTE_MAX],
            c.pend_reason,
            c.allowed,
            c.patient_responsibility,
            None if c.edits is None else ",".join(c.edits),
            c.processing_ms,
        )
        for c in changes
    )
    claims = Claim._meta.db_table
    history = ClaimStatusHistory._meta.db_table
    # The changes go in by COPY to a temporary table (ops.platform.binding.stage_rows), the claim UPDATE and the
    # history INSERT read it; the id and month lists beside the join keep plan-time pruning (KEYS_FILTER).
    with transaction.atomic(using=using), bound_cursor(using) as cursor:
        stage = stage_rows(cursor, "claims_status_change_stage", _STAGE_COLUMNS, rows)
        cursor.execute(
            f"""
            UPDATE {claims} AS c
            SET status = ch.to_status, processed_at = %s::timestamptz,
                denial_reason_code = COALESCE(ch.carc, c.denial_reason_code),
                total_paid = COALESCE(ch.paid, c.total_paid),
                pend_reason = CASE WHEN ch.to_status <> %s::text THEN ''
                                   ELSE COALESCE(ch.pend_reason, c.pend_reason) END,
                allowed = COALESCE(ch.allowed, c.allowed),
                patient_responsibility = COALESCE(ch.pr, c.patient_responsibility),
                edits = COALESCE(string_to_array(ch.edits, ',')::varchar(40)[], c.edits),
                processing_ms = COALESCE(ch.ms, c.processing_ms)
            FROM {stage} AS ch
            WHERE c.id = ch.id AND c.service_date_from = ch.service_date_from {_COMPARE}
              AND {KEYS_FILTER.format(alias="c", id="id")}
            RETURNING c.id, c.remittance_id IS NOT NULL, c.reversal_remittance_id IS NOT NULL
            """,
            [
                at,
                ClaimStatus.PENDED.value,
                *keys_params((c.claim_id, c.service_date_from) for c in changes),
            ],
        )
        moved = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
        if len(moved) != len(changes):
            raise StatusConflict([c.claim_id for c in changes if c.claim_id not in moved])
        month_counts_add(_moved_deltas(changes, moved), using=using)
        cursor.execute(
            f"""
            INSERT INTO {history}
                (claim_id, claim_service_date_from, from_status, to_status, changed_at, changed_by_id, source, note)
            SELECT ch.id, ch.service_date_from, ch.from_status, ch.to_status, %s::timestamptz, %s::integer,
                   %s::text, ch.note
            FROM {stage} AS ch
            """,
            [at, actor_id, source],
        )
    return len(changes)


def _moved_deltas(changes: Sequence[StatusChange], facts: Mapping[int, tuple[bool, bool]]) -> MonthDeltas:
    """The month-count deltas of ``changes``: -1 from status, +1 to status, and the unremitted / unreversed
    change; ``facts`` is claim id -> (remitted, reversal sent), as the UPDATE returned them."""
    deltas: Counter[tuple[str, dt.date]] = Counter()
    for c in changes:
        remitted, reversed_ = facts[c.claim_id]
        deltas[(c.from_status, c.service_date_from)] -= 1
        deltas[(c.to_status, c.service_date_from)] += 1
        before = _state_flags(c.from_status, remitted=remitted, reversed_=reversed_)
        after = _state_flags(c.to_status, remitted=remitted, reversed_=reversed_)
        deltas[(STATE_UNREMITTED, c.service_date_from)] += after[0] - before[0]
        deltas[(STATE_UNREVERSED, c.service_date_from)] += after[1] - before[1]
    return deltas


def claim_status_change(
    *,
    claim_id: int,
    service_date_from: dt.date,
    from_status: str,
    to_status: str,
    source: str,
    note: str = "",
    actor: Any = None,
    at: dt.datetime | None = None,
    using: str = "default",
) -> None:
    """``claims_status_change`` for one claim. Raises ``IllegalTransition`` or ``StatusConflict``."""
    claims_status_change(
        changes=[StatusChange(claim_id, service_date_from, from_status, to_status, note)],
        source=source,
        actor=actor,
        at=at,
        using=using,
    )


def history_rows_new_claim(
    *, claim_id: int, service_date_from: dt.date, status: str, at: dt.datetime, source: str, note: str = ""
) -> list[tuple[object, ...]]:
    """History rows (``HISTORY_COLUMNS`` order) of a claim inserted already in ``status``, for COPY.

    A plain new claim gets one row ("" -> received); one decided as it loads (CARC 18 duplicate, a void)
    gets a second (received -> status) carrying ``note``. Raises ``IllegalTransition`` for a status that a
    load cannot set.
    """
    rows: list[tuple[object, ...]] = []
    for old, new in initial_transitions(status):
        rows.append(
            (claim_id, service_date_from, old, new, at, None, source, "" if old == NEW else note[:NOTE_MAX])
        )
    return rows
