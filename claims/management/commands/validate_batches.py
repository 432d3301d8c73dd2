"""Validate with pyx12 the ingest batches that were loaded without it (``ingest_837 --no-validate``).

Each batch's file is read again from where it was ingested (its ``file_name``), or from ``--dir`` by the same
base name; the sha256 must match the batch's, so a changed file is refused, not validated in its place. The 999
outcome is stored on the batch and its claims move out of "received" (``claims.services.validation``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims.services.validation import BatchFileMismatch, batch_validate, batches_not_validated


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--pending",
            action="store_true",
            required=True,
            help="every loaded batch whose validation is still pending",
        )
        parser.add_argument("--dir", type=Path, help="look for the files here (by base name) instead")

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path | None = options["dir"]
        problems: list[str] = []
        done = 0
        for batch in batches_not_validated():
            path = folder / Path(batch.file_name).name if folder else Path(batch.file_name)
            if not path.is_file():
                problems.append(f"batch {batch.pk}: file not found at {path}")
                continue
            try:
                validated = batch_validate(batch_id=batch.pk, path=path)
            except BatchFileMismatch:
                problems.append(
                    f"batch {batch.pk}: {path} is not the file it was ingested from (sha256 differs)"
                )
                continue
            done += 1
            self.stdout.write(f"batch {batch.pk}: {path.name}, pyx12: {validated.validation_status}")
        self.stdout.write(f"validated {done} batch(es), {len(problems)} left pending")
        if problems:
            raise CommandError("\n".join(problems))
