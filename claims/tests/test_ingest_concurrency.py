"""Two ingests of the same file at once (pretix style: two threads, two connections, real PostgreSQL).

Both pass the sha256 check at the top of ``batch_ingest`` before either loads; the second must find, under the
ingest lock, the batch the first committed, and say "already ingested" (``created=False``). The negative
control takes away that re-check and shows the second then collides on the sha256.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, connection

from claims.models import Claim, IngestBatch, IngestStatus
from claims.services import ingest
from claims.services.ingest import IngestResult, batch_ingest

SAMPLE = "837P/imsweb/x12_valid.txt"  # 2 claims


def _both_past_the_first_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold each ingest after its sha256 check, before the ingest lock, until the other has got there too."""
    barrier = threading.Barrier(2, timeout=30)
    session_lock = ingest.locks.session_lock

    def wait_then_lock(*args: Any, **kwargs: Any) -> Any:
        barrier.wait()
        return session_lock(*args, **kwargs)

    monkeypatch.setattr(ingest.locks, "session_lock", wait_then_lock)


def _ingest_twice_at_once(path: Path) -> tuple[list[IngestResult], list[BaseException]]:
    results: list[IngestResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(batch_ingest(path=path))
        except BaseException as exc:  # noqa: BLE001 - the thread's failure is the test's evidence
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


@pytest.fixture
def sample(shared_x12: Path) -> Path:
    return shared_x12 / SAMPLE


@pytest.mark.django_db(transaction=True)
def test_the_same_file_ingested_twice_at_once_loads_once_and_the_second_says_already_ingested(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _both_past_the_first_check(monkeypatch)
    results, errors = _ingest_twice_at_once(sample)

    assert errors == []
    assert sorted(r.created for r in results) == [False, True]
    assert results[0].batch.pk == results[1].batch.pk
    assert IngestBatch.objects.count() == 1
    assert IngestBatch.objects.get().status != IngestStatus.REJECTED
    assert Claim.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_negative_control_without_the_check_under_the_lock_the_second_ingest_collides(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _both_past_the_first_check(monkeypatch)
    monkeypatch.setattr(ingest, "_batch_of", lambda sha: None)
    results, errors = _ingest_twice_at_once(sample)

    assert [r.created for r in results] == [True]
    assert len(errors) == 1 and isinstance(errors[0], IntegrityError)
    assert Claim.objects.count() == 2
