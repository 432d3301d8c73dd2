"""Decide every claim waiting for a decision (status "validated"): approved, denied or pended, line by line."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from claims.services.adjudication import claims_adjudicate, claims_adjudicate_parallel


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, help="only the claims of this ingest batch (IngestBatch id)")
        parser.add_argument(
            "--dry-run", action="store_true", help="decide the first chunk, print the counts, roll back"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="processes deciding side by side, members split between them (default: the CPU count)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            result = claims_adjudicate(batch_id=options["batch"], dry_run=True, trigger="command")
            self.stdout.write(f"would decide {result.claims} claims: " + _outcomes(result.decided))
            edits = result.edits
        else:
            parallel = claims_adjudicate_parallel(
                workers=max(1, options["workers"]), batch_id=options["batch"], trigger="command"
            )
            rate = parallel.claims / parallel.seconds if parallel.seconds and parallel.claims else 0.0
            self.stdout.write(
                f"decided {parallel.claims} claims in {parallel.seconds * 1000:.0f} ms ({rate:,.0f} claims/s, "
                f"{len(parallel.runs)} worker(s)): " + _outcomes(parallel.decided)
            )
            edits = parallel.edits
        for edit, count in sorted(edits.items(), key=lambda kv: -kv[1]):
            self.stdout.write(f"  {edit}: {count}")


def _outcomes(decided: Any) -> str:
    return ", ".join(f"{status} {decided.get(status, 0)}" for status in ("approved", "denied", "pended"))
