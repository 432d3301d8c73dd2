"""Decide every claim waiting for a decision (status "validated"): approved, denied or pended, line by line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from claims.services.adjudication import claims_adjudicate


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, help="only the claims of this ingest batch (IngestBatch id)")
        parser.add_argument(
            "--dry-run", action="store_true", help="decide the first chunk, print the counts, roll back"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = claims_adjudicate(batch_id=options["batch"], dry_run=options["dry_run"], trigger="command")
        run = result.run
        rate = result.claims / (float(run.duration_ms) / 1000) if run.duration_ms and result.claims else 0.0
        label = "would decide" if options["dry_run"] else "decided"
        self.stdout.write(
            f"{label} {result.claims} claims in {run.duration_ms} ms ({rate:,.0f} claims/s): "
            f"approved {run.approved}, denied {run.denied}, pended {run.pended}"
        )
        for edit, count in sorted(result.edits.items(), key=lambda kv: -kv[1]):
            self.stdout.write(f"  {edit}: {count}")
