"""Write the 835 remittance advice of one payment cycle: every decided claim not yet remitted, one file per
payer and payee (005010X221A1)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from claims.services.remittance import remittances_generate


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, help="also write each 835 into this folder")
        parser.add_argument(
            "--date", type=dt.date.fromisoformat, help="payment date (BPR16), YYYY-MM-DD; default today"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = remittances_generate(payment_date=options["date"], out_dir=options["out"])
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
        rate = run.claims / seconds if seconds else 0.0
        self.stdout.write(
            f"835 cycle {run.payment_date}: {run.payees} files, {run.claims} claims, ${run.total_paid} paid, "
            f"in {seconds:.2f} s ({rate:,.0f} claims/s)"
        )
        if run.error:
            self.stdout.write(f"  note: {run.error}")
