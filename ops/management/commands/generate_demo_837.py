"""``manage.py generate_demo_837``: write synthetic 837P files for the demo and the ingest benchmark.

The generator is ``ops.synthetic.x12_files.generate_demo_files``.
"""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ops.synthetic.x12_files import DEFAULT_AS_OF, generate_demo_files


def _date(value: str) -> dt.date:
    if value == "today":
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"expected YYYY-MM-DD or 'today', got {value!r}") from None


class Command(BaseCommand):
    help = (
        "Write N synthetic 837P (005010X222A1) files demo_0001.837 ... to --out. Same seed and options give "
        "byte-identical files."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="directory to write into (created)")
        parser.add_argument("--files", type=int, default=1, help="number of files (1..9999)")
        parser.add_argument("--claims-per-file", type=int, default=100, help="claims in each file")
        parser.add_argument("--seed", type=int, default=1, help="random seed")
        parser.add_argument(
            "--as-of",
            type=_date,
            default=DEFAULT_AS_OF,
            help=(
                f"interchange date; service dates fall in the 18 months before it (default {DEFAULT_AS_OF}, "
                "fixed so output is reproducible; 'today' follows the clock)"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            written = generate_demo_files(
                options["out"],
                files=options["files"],
                claims_per_file=options["claims_per_file"],
                seed=options["seed"],
                as_of=options["as_of"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for f in written:
            self.stdout.write(
                f"{f.path}: {f.claims} claims, {f.lines} lines, {f.transactions} transaction set(s), "
                f"{f.segments} segments, total charge ${f.total_charge}, {f.size_bytes:,} bytes, "
                f"{f.seconds:.2f} s ({f.claims / f.seconds:,.0f} claims/s)"
            )
        total_claims = sum(f.claims for f in written)
        self.stdout.write(self.style.SUCCESS(f"wrote {len(written)} file(s), {total_claims} claims"))
