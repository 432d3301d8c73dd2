"""``validate_batches --pending``: batches loaded with ``ingest_837 --no-validate`` validated later."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from claims.models import Claim, ClaimStatus, IngestBatch, ValidationOutcome

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
