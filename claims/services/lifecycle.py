"""The one writer of claim status: a compare-and-set on the claim, and a ``ClaimStatusHistory`` row per change.

Every status change goes through ``claims_status_change`` (validation, adjudication with the replacements and
voids it ends, examiner and supervisor actions, the tests); claims written with their history in one COPY
(ingest's new claims, the synthetic history generator's) get their history rows from
``history_rows_new_claim``. The rules (statuses, allowed moves, sources) are ``claims.lifecycle``.

Why compare-and-set: a claim read as "validated" by one worker and changed by an examiner meanwhile must not be
overwritten; ``UPDATE ... WHERE status = <the status read>`` changes it only if nobody did, and the row count
says whether every claim moved (healthchecks ``sendalerts.py``, STYLE.md 3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from claims.lifecycle import NEW, ClaimStatus, check_transition, initial_transitions
from claims.models import Claim, ClaimStatusHistory
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
            RETURNING c.id
            """,
            [
                at,
                ClaimStatus.PENDED.value,
                *keys_params((c.claim_id, c.service_date_from) for c in changes),
            ],
        )
        moved = {row[0] for row in cursor.fetchall()}
        if len(moved) != len(changes):
            raise StatusConflict([c.claim_id for c in changes if c.claim_id not in moved])
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
