"""Validate with pyx12 the ingest batches that were loaded without it (``ingest_837 --no-validate``).

Each batch's file is read again from where it was ingested (its ``file_name``), or from ``--dir`` by the same
base name; the sha256 must match the batch's, so a changed file is refused, not validated in its place. The 999
outcome is stored on the batch and its claims move out of "received" (``claims.services.validation``).

A file bigger than ``CLAIMS_VALIDATION_PART_CLAIMS`` claims is validated in parts by the Celery workers when
any answer; the command then waits for them (``--wait-seconds``), or only sends the work (``--no-wait``).
The workers must be able to read the file at the path given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims.models import IngestBatch, ValidationOutcome
from claims.services.validation import (
    BatchFileMismatch,
    batch_validate,
    batches_not_validated,
    batches_wait_validated,
)


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
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="validate every file in this process, never on the workers",
        )
        parser.add_argument(
            "--no-wait", action="store_true", help="send files to the workers and return without waiting"
        )
        parser.add_argument(
            "--wait-seconds",
            type=float,
            default=3600.0,
            help="how long to wait for the workers' results (default 3600)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path | None = options["dir"]
        problems: list[str] = []
        done = 0
        sent: list[int] = []
        for batch in batches_not_validated():
            path = folder / Path(batch.file_name).name if folder else Path(batch.file_name)
            if not path.is_file():
                problems.append(f"batch {batch.pk}: file not found at {path}")
                continue
            try:
                validated = batch_validate(
                    batch_id=batch.pk, path=path.resolve(), parallel=not options["in_process"]
                )
            except BatchFileMismatch:
                problems.append(
                    f"batch {batch.pk}: {path} is not the file it was ingested from (sha256 differs)"
                )
                continue
            if validated.validation_status == ValidationOutcome.PENDING:
                sent.append(batch.pk)
                self.stdout.write(f"batch {batch.pk}: {path.name}, sent to the workers in parts")
                continue
            done += 1
            self.stdout.write(f"batch {batch.pk}: {path.name}, pyx12: {validated.validation_status}")
        summary = ""
        if sent and options["no_wait"]:
            summary = f", {len(sent)} sent to the workers"
        elif sent:
            waiting = batches_wait_validated(batch_ids=sent, timeout=options["wait_seconds"])
            for batch in IngestBatch.objects.filter(pk__in=sent).exclude(pk__in=waiting).order_by("pk"):
                done += 1
                self.stdout.write(
                    f"batch {batch.pk}: pyx12 in parts on the workers: {batch.validation_status}"
                )
            problems += [f"batch {pk}: the workers have not finished it yet" for pk in waiting]
        self.stdout.write(f"validated {done} batch(es), {len(problems)} left pending{summary}")
        if problems:
            raise CommandError("\n".join(problems))
