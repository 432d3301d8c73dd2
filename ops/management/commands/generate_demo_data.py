"""``manage.py generate_demo_data``: replace the database's claims, members and providers with a synthetic plan.

The generator is ``ops.synthetic.history.generate.demo_data_generate``.
"""

from __future__ import annotations

import datetime as dt
import time
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from claims.models import Claim
from claims.services.lifecycle import month_counts_rebuild
from ops.synthetic.history.generate import GenerationReport, demo_data_generate


def _date(value: str) -> dt.date:
    if value == "today":
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"expected YYYY-MM-DD or 'today', got {value!r}") from None


class Command(BaseCommand):
    help = (
        "REPLACES ALL claims, claim lines, status history, ingest batches, members (with PII and enrollments), "
        "providers, specialties, provider networks and health plans with synthetic data: --claims claims over "
        "the 24 months before --as-of, members = claims/5, up to 20,000 providers, 10 plans. Every claim is "
        "decided by the adjudication engine (CAS adjustments, per-line decisions, deductible accumulators, "
        "examiner releases of pended claims), so the history is what adjudication would write. Loads with COPY in "
        "one transaction (foreign keys and indexes dropped and made again, monthly partitions created first), "
        "then VACUUM (ANALYZE). "
        "Same --claims, --seed and --as-of give identical tables."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--claims", type=int, default=1_000_000, help="number of claims (default 1,000,000)"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--as-of",
            type=_date,
            default=None,
            help="the day the data is as of: service dates end the day before, every timestamp is before its "
            "midnight UTC (YYYY-MM-DD; default today, UTC)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the database already holds claims (make setup: a second run keeps the data)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        claims: int = options["claims"]
        as_of: dt.date = options["as_of"] or dt.datetime.now(dt.UTC).date()
        if claims < 1:
            raise CommandError(f"--claims must be at least 1, got {claims}")
        if options["if_empty"] and Claim.objects.exists():
            self.stdout.write(
                "generate_demo_data: the database already holds claims; nothing replaced (--if-empty)"
            )
            return
        with tqdm(
            total=claims, unit="claim", unit_scale=True, disable=options["no_progress"], desc="claims"
        ) as bar:
            report = demo_data_generate(claims=claims, seed=options["seed"], as_of=as_of, progress=bar.update)
        # The claims were written by COPY, past the claim-lifecycle writer: count the months each state is in, as
        # it would have, or the work queue, the status filter and the 835 cycle would not find them.
        started = time.perf_counter()
        month_counts_rebuild()
        self._summary(report)
        self.stdout.write(f"month counts recounted from the claims in {time.perf_counter() - started:.1f} s")

    def _summary(self, report: GenerationReport) -> None:
        out = self.stdout.write
        out(
            f"seed {report.seed}, as of {report.as_of}: service dates {report.first_service_date} .. "
            f"{report.last_service_date}"
        )
        out("rows:")
        for table, count in report.rows.items():
            out(f"  {table:28s} {count:>12,}")
        out("phases (s):")
        for name, seconds in report.phases.items():
            out(f"  {name:28s} {seconds:>12.2f}")
        copy = sum(report.copy_seconds.values())
        out(
            f"COPY {copy:.1f} s in total; waited {report.generator_wait_seconds:.1f} s for the generator; "
            f"{len(report.foreign_key_seconds)} foreign keys re-added and validated in "
            f"{sum(report.foreign_key_seconds.values()):.1f} s; {len(report.index_seconds)} indexes built in "
            f"{sum(report.index_seconds.values()):.1f} s"
        )
        if report.partitions_created:
            out(f"partitions created: {', '.join(report.partitions_created)}")
        out(f"rows in DEFAULT partitions: {report.default_partition_rows}")
        rate = report.rows.get(Claim._meta.db_table, 0) / report.total_seconds
        self.stdout.write(
            self.style.SUCCESS(
                f"done in {report.total_seconds:.1f} s ({rate:,.0f} claims/s, all phases included)"
            )
        )
