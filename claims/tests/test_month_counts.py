"""The months each claim state is in (``ClaimMonthCount``), kept by the claim-lifecycle writer.

What the work queue, the status filter, adjudication's take and the 835 cycle read to bound their statements to
a few month partitions: it must follow every status change, and stay right with two writers at once (real
PostgreSQL, two threads, each its own connection). The negative control swaps the append-only delta write for a
writer that keeps one total row per (state, month), rewritten from what it read, and shows a count lost.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction

from claims.lifecycle import ClaimStatus, StatusSource
from claims.models import Claim, ClaimMonthCount
from claims.services import lifecycle
from claims.services.lifecycle import (
    STATE_UNREMITTED,
    STATE_UNREVERSED,
    StatusChange,
    claims_status_change,
    month_counts_compact,
    month_counts_loaded,
    month_counts_rebuild,
    month_counts_remitted,
    month_days,
    months_holding,
)
from claims.tests.factories import ClaimFactory

MONTH = dt.date(2025, 3, 1)

# The naive writer: one total row per (state, month), replaced by the total it read plus its delta.
_REWRITE_TOTALS = f"""
WITH d(state, month, claims) AS (SELECT * FROM unnest(%b::text[], %b::date[], %b::bigint[])),
cur AS (SELECT t.state, t.month, sum(t.claims) AS claims FROM {lifecycle.COUNTS_TABLE} t
        JOIN d ON t.state = d.state AND t.month = d.month GROUP BY 1, 2),
gone AS (DELETE FROM {lifecycle.COUNTS_TABLE} t USING d WHERE t.state = d.state AND t.month = d.month)
INSERT INTO {lifecycle.COUNTS_TABLE} (state, month, claims)
SELECT d.state, d.month, d.claims + COALESCE(cur.claims, 0)
FROM d LEFT JOIN cur ON cur.state = d.state AND cur.month = d.month
"""


def counts() -> dict[tuple[str, dt.date], int]:
    """(state, month) -> claims, the sums of the delta rows, zeros left out."""
    totals: dict[tuple[str, dt.date], int] = {}
    for state, month, n in ClaimMonthCount.objects.values_list("state", "month", "claims"):
        totals[(state, month)] = totals.get((state, month), 0) + n
    return {key: n for key, n in totals.items() if n}


def _move(claim: Claim, from_status: str, to_status: str) -> None:
    claims_status_change(
        changes=[StatusChange(claim.pk, claim.service_date_from, from_status, to_status)],
        source=StatusSource.ADJUDICATION,
    )


@pytest.mark.django_db
def test_counts_follow_a_claim_from_receipt_to_its_reversal() -> None:
    claim = ClaimFactory(service_date_from=dt.date(2025, 3, 17))
    assert counts() == {(ClaimStatus.RECEIVED, MONTH): 1}
    assert months_holding([ClaimStatus.RECEIVED]) == [MONTH]

    _move(claim, ClaimStatus.RECEIVED, ClaimStatus.VALIDATED)
    _move(claim, ClaimStatus.VALIDATED, ClaimStatus.APPROVED)
    assert counts() == {(ClaimStatus.APPROVED, MONTH): 1, (STATE_UNREMITTED, MONTH): 1}
    assert months_holding(OPEN := [ClaimStatus.RECEIVED, ClaimStatus.VALIDATED, ClaimStatus.PENDED]) == []

    # The 835 marks it remitted; a later replacement ends it, and its reversal is owed.
    month_counts_remitted(remitted=[claim.service_date_from])
    assert months_holding([STATE_UNREMITTED]) == []
    # Remitted, as the 835 cycle leaves it (no Remittance row: the deferred foreign key is never checked, the test's
    # transaction is rolled back).
    Claim.objects.filter(pk=claim.pk).update(remittance_id=1)
    _move(claim, ClaimStatus.APPROVED, ClaimStatus.REPLACED)
    assert counts() == {(ClaimStatus.REPLACED, MONTH): 1, (STATE_UNREVERSED, MONTH): 1}
    month_counts_remitted(reversed_=[claim.service_date_from])
    assert counts() == {(ClaimStatus.REPLACED, MONTH): 1}
    assert months_holding(OPEN) == []


@pytest.mark.django_db
def test_a_claim_ended_before_it_was_remitted_owes_no_reversal() -> None:
    claim = ClaimFactory(service_date_from=MONTH, status=ClaimStatus.DENIED, denial_reason_code="50")
    _move(claim, ClaimStatus.DENIED, ClaimStatus.VOIDED)
    assert counts() == {(ClaimStatus.VOIDED, MONTH): 1}


@pytest.mark.django_db
def test_loaded_claims_are_counted_and_compaction_keeps_the_sums() -> None:
    month_counts_loaded({(ClaimStatus.RECEIVED, dt.date(2025, 3, 9)): 3, (ClaimStatus.DENIED, MONTH): 1})
    month_counts_loaded({(ClaimStatus.RECEIVED, dt.date(2025, 4, 30)): 2})
    month_counts_loaded({(ClaimStatus.RECEIVED, dt.date(2025, 4, 1)): -2})
    before = counts()
    assert before == {
        (ClaimStatus.RECEIVED, MONTH): 3,
        (ClaimStatus.DENIED, MONTH): 1,
        (STATE_UNREMITTED, MONTH): 1,
    }
    assert month_counts_compact() == 3
    assert counts() == before
    assert ClaimMonthCount.objects.count() == 3
    assert months_holding([ClaimStatus.RECEIVED, ClaimStatus.DENIED]) == [MONTH]


@pytest.mark.django_db
def test_rebuild_counts_what_the_claims_hold() -> None:
    ClaimFactory(service_date_from=dt.date(2025, 3, 2), status=ClaimStatus.PENDED)
    ClaimFactory(service_date_from=dt.date(2025, 5, 2), status=ClaimStatus.APPROVED)
    kept = counts()
    ClaimMonthCount.objects.all().delete()
    month_counts_rebuild()
    assert (
        counts()
        == kept
        == {
            (ClaimStatus.PENDED, MONTH): 1,
            (ClaimStatus.APPROVED, dt.date(2025, 5, 1)): 1,
            (STATE_UNREMITTED, dt.date(2025, 5, 1)): 1,
        }
    )


def test_month_days_lists_every_day_of_the_months() -> None:
    days = month_days([dt.date(2024, 2, 1), dt.date(2025, 3, 15)])
    assert len(days) == 29 + 31
    assert (days[0], days[28], days[29], days[-1]) == (
        dt.date(2024, 2, 1),
        dt.date(2024, 2, 29),
        dt.date(2025, 3, 1),
        dt.date(2025, 3, 31),
    )


# --- two writers at once ----------------------------------------------------------------------------------------


def _lock_waiters() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def _two_writers(first: Callable[[], None], second: Callable[[], None]) -> list[BaseException]:
    """``first`` writes in a transaction it keeps open until ``second`` (another connection) has finished or
    waits on a lock; then it commits. Returns what either raised."""
    wrote = threading.Event()
    second_done = threading.Event()
    errors: list[BaseException] = []

    def actor_one() -> None:
        try:
            with transaction.atomic():
                first()
                wrote.set()
                deadline = time.monotonic() + 10
                while not second_done.is_set() and not _lock_waiters() and time.monotonic() < deadline:
                    time.sleep(0.02)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            wrote.set()
            connection.close()

    def actor_two() -> None:
        try:
            assert wrote.wait(10)
            with transaction.atomic():
                second()
        except BaseException as exc:
            errors.append(exc)
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=actor_one), threading.Thread(target=actor_two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors


def _two_claims_moved_at_once() -> dict[tuple[str, dt.date], int]:
    a = ClaimFactory(service_date_from=MONTH, status=ClaimStatus.VALIDATED)
    b = ClaimFactory(service_date_from=dt.date(2025, 3, 20), status=ClaimStatus.VALIDATED)
    errors = _two_writers(
        lambda: _move(a, ClaimStatus.VALIDATED, ClaimStatus.PENDED),
        lambda: _move(b, ClaimStatus.VALIDATED, ClaimStatus.PENDED),
    )
    assert not errors, errors
    assert sorted(Claim.objects.values_list("status", flat=True)) == [ClaimStatus.PENDED] * 2
    return counts()


@pytest.mark.django_db(transaction=True)
def test_two_writers_at_once_both_count_and_neither_waits() -> None:
    assert _two_claims_moved_at_once() == {(ClaimStatus.PENDED, MONTH): 2}
    assert months_holding([ClaimStatus.VALIDATED]) == []


@pytest.mark.django_db(transaction=True)
def test_negative_control_one_total_row_rewritten_from_what_was_read_loses_a_writers_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lifecycle, "_COUNTS_WRITE", _REWRITE_TOTALS)
    # The second writer read the two validated claims before the first committed, and writes 2 - 1 back.
    assert _two_claims_moved_at_once() == {(ClaimStatus.PENDED, MONTH): 2, (ClaimStatus.VALIDATED, MONTH): 2}


@pytest.mark.django_db(transaction=True)
def test_compaction_beside_an_open_writer_keeps_its_count() -> None:
    a = ClaimFactory(service_date_from=MONTH, status=ClaimStatus.VALIDATED)
    ClaimFactory(service_date_from=MONTH, status=ClaimStatus.VALIDATED)
    errors = _two_writers(lambda: _move(a, ClaimStatus.VALIDATED, ClaimStatus.PENDED), month_counts_compact)
    assert not errors, errors
    assert counts() == {(ClaimStatus.PENDED, MONTH): 1, (ClaimStatus.VALIDATED, MONTH): 1}
