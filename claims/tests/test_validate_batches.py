"""``validate_batches --pending``: batches loaded with ``ingest_837 --no-validate`` validated later, in this
process or, for a file of more than ``CLAIMS_VALIDATION_PART_CLAIMS`` claims, in parts on a real worker."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django_celery_results.models import TaskResult

from analytics.tests.test_worker import worker  # noqa: F401 - the real Celery worker fixture, reused
from claims.models import Claim, ClaimStatus, IngestBatch, ValidationOutcome
from claims.tests.test_validation_parallel import _stamp_free
from claims.x12.validation import validate_837
from ops.synthetic.x12_files import generate_demo_files

SAMPLE = "837P/uhin/837.edi"  # one claim, accepted by pyx12


@pytest.fixture
def loaded_unvalidated(shared_x12: Path, tmp_path: Path) -> tuple[IngestBatch, Path]:
    path = tmp_path / "837.edi"
    shutil.copyfile(shared_x12 / SAMPLE, path)
    call_command("ingest_837", "--no-validate", str(path))
    batch = IngestBatch.objects.get()
    assert batch.validation_status == ValidationOutcome.PENDING
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.RECEIVED}
    return batch, path


@pytest.mark.django_db
def test_a_batch_loaded_without_validation_is_validated_later_and_its_claims_move_on(
    loaded_unvalidated: tuple[IngestBatch, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    batch, _ = loaded_unvalidated

    call_command("validate_batches", "--pending")

    batch.refresh_from_db()
    assert batch.validation_status == ValidationOutcome.ACCEPTED
    assert batch.ack_999.startswith("ISA")
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.VALIDATED}
    assert "validated 1 batch(es), 0 left pending" in capsys.readouterr().out
    # Nothing pending any more: a second run has nothing to do.
    call_command("validate_batches", "--pending")
    assert "validated 0 batch(es), 0 left pending" in capsys.readouterr().out


@pytest.mark.django_db
def test_a_batch_whose_file_moved_is_found_with_dir_and_one_whose_file_changed_stays_pending(
    loaded_unvalidated: tuple[IngestBatch, Path], tmp_path: Path
) -> None:
    batch, path = loaded_unvalidated
    moved = tmp_path / "moved"
    moved.mkdir()
    original = path.read_bytes()
    changed = moved / path.name
    changed.write_bytes(original.replace(b"~", b"~\n"))
    path.unlink()

    with pytest.raises(CommandError, match=rf"batch {batch.pk}: file not found"):
        call_command("validate_batches", "--pending")
    with pytest.raises(CommandError, match=rf"batch {batch.pk}: .* is not the file it was ingested from"):
        call_command("validate_batches", "--pending", "--dir", str(moved))
    batch.refresh_from_db()
    assert batch.validation_status == ValidationOutcome.PENDING
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.RECEIVED}

    changed.write_bytes(original)
    call_command("validate_batches", "--pending", "--dir", str(moved))
    batch.refresh_from_db()
    assert batch.validation_status == ValidationOutcome.ACCEPTED
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.VALIDATED}


@pytest.mark.django_db(transaction=True)
def test_a_big_batch_is_caught_up_in_parts_on_the_workers_and_a_small_one_in_process(
    worker,  # noqa: F811 - the real worker fixture, imported above
    loaded_unvalidated: tuple[IngestBatch, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    small, _ = loaded_unvalidated
    # Service dates inside the test database's monthly partitions: a transactional test leaves none behind.
    (demo,) = generate_demo_files(
        tmp_path / "big", files=1, claims_per_file=450, seed=5, as_of=dt.date.today()
    )
    call_command("ingest_837", "--no-validate", str(demo.path))
    big = IngestBatch.objects.exclude(pk=small.pk).get()
    whole = validate_837(demo.path)

    with override_settings(CLAIMS_VALIDATION_PART_CLAIMS=150):
        call_command("validate_batches", "--pending")

    out = capsys.readouterr().out
    assert f"batch {big.pk}: {demo.path.name}, sent to the workers in parts" in out
    assert f"batch {big.pk}: pyx12 in parts on the workers: accepted" in out
    assert f"batch {small.pk}: 837.edi, pyx12: accepted" in out
    assert "validated 2 batch(es), 0 left pending" in out
    big.refresh_from_db()
    assert big.validation_status == whole.outcome == ValidationOutcome.ACCEPTED
    assert _stamp_free(big.ack_999) == _stamp_free(whole.ack_999)
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.VALIDATED}
    parts = TaskResult.objects.filter(task_name="claims.tasks.validate_part", status="SUCCESS").count()
    assert parts == 3
    # Caught up: a second run finds nothing to do.
    with override_settings(CLAIMS_VALIDATION_PART_CLAIMS=150):
        call_command("validate_batches", "--pending")
    assert "validated 0 batch(es), 0 left pending" in capsys.readouterr().out
