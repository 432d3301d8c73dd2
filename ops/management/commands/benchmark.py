"""``manage.py benchmark``: time the critical queries before (baseline schema) and after (platform) indexing,
the analytics queries from the views, the analytics refresh paths and the analytics pages.

Writes ``<output-dir>/<YYYY-MM-DD>.json`` and ``.md``; see ops/benchmark/ for what is measured and how.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from ops.benchmark.baseline import BASELINE_SCHEMA, drop_baseline
from ops.benchmark.catalog import ADMIN_REQUESTS, CATALOG, select
from ops.benchmark.decisions import DecisionsError
from ops.benchmark.pages import PageError, analytics_pages
from ops.benchmark.params import NoDataError
from ops.benchmark.report import write_reports
from ops.benchmark.runner import AdminPageError, BenchOptions, SchemaSwitchError, run_benchmark


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def _not_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


def claims_on_file_count() -> int:
    """Claims in the database (an exact count: the number the run is labelled with)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM claims_claim")
        return int(cursor.fetchone()[0])


def _every_name() -> tuple[str, ...]:
    """Every name ``--only`` can select: catalog queries, admin requests, analytics pages."""
    return (
        *(query.name for query in CATALOG),
        *(request.name for request in ADMIN_REQUESTS),
        *(page.name for page in analytics_pages()),
    )


class Command(BaseCommand):
    help = (
        "Run the catalog of critical queries (and admin pages, and ingest) against a primary-key-only baseline "
        "schema and against the platform's indexed, partitioned tables, the analytics queries against the "
        "views, the analytics refresh paths and pages; write bench/results/<date>-<claims>.json and .md "
        "(e.g. 2026-12-01-10m)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = BenchOptions()
        names = ", ".join(_every_name())
        parser.add_argument(
            "--iterations",
            type=_positive,
            default=defaults.iterations,
            help="timed runs per query and schema",
        )
        parser.add_argument(
            "--warmup", type=_not_negative, default=defaults.warmup, help="untimed runs before the timed ones"
        )
        parser.add_argument(
            "--only",
            default="",
            help=f"comma-separated name substrings to run (default: all). Names: {names}",
        )
        parser.add_argument("--skip-admin", action="store_true", help="do not time the admin pages")
        parser.add_argument("--skip-ingest", action="store_true", help="do not measure ingest throughput")
        parser.add_argument(
            "--skip-refresh",
            action="store_true",
            help="do not refresh (and time) the analytics views and summaries: read them as last refreshed",
        )
        parser.add_argument("--skip-pages", action="store_true", help="do not time the analytics pages")
        parser.add_argument(
            "--skip-adjudicate",
            action="store_true",
            help="do not time claims_adjudicate (then generate_835 has no claims to remit and is not run either)",
        )
        parser.add_argument(
            "--skip-835", action="store_true", help="do not time generate_835 and 835 validation"
        )
        parser.add_argument(
            "--skip-examiner", action="store_true", help="do not time the examiner's deny and approve actions"
        )
        parser.add_argument(
            "--skip-work-queue", action="store_true", help="do not time the admin work queue page"
        )
        parser.add_argument(
            "--adjudicate-claims",
            type=_positive,
            default=defaults.adjudicate_claims,
            help="decided claims set back to validated and adjudicated again (in a rolled-back transaction)",
        )
        parser.add_argument(
            "--examiner-actions",
            type=_positive,
            default=defaults.examiner_actions,
            help="single-claim denials, and as many approvals, timed (in a rolled-back transaction)",
        )
        parser.add_argument(
            "--ingest-claims",
            type=_positive,
            default=defaults.ingest_claims,
            help="claims in the generated 837P loaded into the scratch database",
        )
        parser.add_argument(
            "--ingest-small-claims",
            type=int,
            default=defaults.ingest_small_claims,
            help="also load a file of this many claims (0: none), to compare peak RSS across file sizes",
        )
        parser.add_argument(
            "--ingest-onto-copy",
            action="store_true",
            help="load into a file copy of the benchmarked database (its claims on file), not an empty one",
        )
        parser.add_argument(
            "--validate-claims",
            type=_positive,
            default=defaults.validate_claims,
            help="claims in the file timed through pyx12 validation",
        )
        parser.add_argument(
            "--output-dir",
            type=Path,
            default=Path(settings.BASE_DIR) / "bench" / "results",
            help="where <date>-<claims>.json and .md go (default: bench/results)",
        )
        parser.add_argument(
            "--rebuild-baseline",
            action="store_true",
            help="rebuild the bench_baseline schema even when it matches public",
        )
        parser.add_argument(
            "--no-vacuum",
            action="store_true",
            help="skip VACUUM (ANALYZE) of the public tables before timing (tests: keeps their statistics as found)",
        )
        parser.add_argument(
            "--expect-claims",
            type=_not_negative,
            default=0,
            help="refuse to run unless the database holds exactly this many claims (make bench SCALE=N passes N; "
            "fill it with make data SCALE=N); 0: any",
        )
        parser.add_argument(
            "--beside",
            type=Path,
            default=None,
            help="an earlier report (.json) at another scale to compare with, figure by figure (default: the "
            "newest such report in --output-dir)",
        )
        parser.add_argument(
            "--drop-baseline",
            action="store_true",
            help="drop the bench_baseline schema (a full copy of the claim tables) and exit",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["drop_baseline"]:
            drop_baseline()
            self.stdout.write(f"dropped schema {BASELINE_SCHEMA}")
            return
        bench = BenchOptions(
            iterations=options["iterations"],
            warmup=options["warmup"],
            only=tuple(part.strip() for part in options["only"].split(",") if part.strip()),
            skip_admin=options["skip_admin"],
            skip_ingest=options["skip_ingest"],
            skip_refresh=options["skip_refresh"],
            skip_pages=options["skip_pages"],
            skip_adjudicate=options["skip_adjudicate"],
            skip_835=options["skip_835"],
            skip_examiner=options["skip_examiner"],
            skip_work_queue=options["skip_work_queue"],
            adjudicate_claims=options["adjudicate_claims"],
            examiner_actions=options["examiner_actions"],
            ingest_claims=options["ingest_claims"],
            ingest_small_claims=options["ingest_small_claims"],
            ingest_onto_copy=options["ingest_onto_copy"],
            validate_claims=options["validate_claims"],
            rebuild_baseline=options["rebuild_baseline"],
            vacuum_platform=not options["no_vacuum"],
        )
        if options["expect_claims"]:
            on_file = claims_on_file_count()
            if on_file != options["expect_claims"]:
                raise CommandError(
                    f"the database holds {on_file:,} claims, not {options['expect_claims']:,}: fill it first with "
                    f"`make data SCALE={options['expect_claims']}` (replaces its claims, members and providers)"
                )
        every = _every_name()
        if bench.only and not select(every, bench.only):
            raise CommandError(f"--only {options['only']!r} matches none of: {', '.join(every)}")
        try:
            run = run_benchmark(bench, log=self.stdout.write)
        except (NoDataError, SchemaSwitchError, AdminPageError, PageError, DecisionsError) as exc:
            raise CommandError(str(exc)) from exc
        json_path, md_path = write_reports(run, options["output_dir"], beside=options["beside"])
        differ = [result.name for result in (*run.queries, *run.admin) if not result.same_answer]
        # Views the run did not refresh may simply be stale: their differences are reported, not fatal.
        views_differ = [
            result.name
            for result in run.queries
            if result.view is not None and result.view.same_answer is False and run.views_refreshed
        ]
        self.stdout.write(f"wrote {json_path} and {md_path} ({run.seconds:.0f} s)")
        if differ:
            raise CommandError(f"baseline and platform answered differently: {', '.join(differ)}")
        if views_differ:
            raise CommandError(f"freshly refreshed views answered differently: {', '.join(views_differ)}")
        if run.refresh is not None and not run.views_refreshed:
            raise CommandError("an analytics refresh did not succeed (failed or skipped): see the report")
        if run.decisions is not None and not run.decisions.rolled_back:
            raise CommandError("the decisions benchmark's transaction was not rolled back")
        if run.ingest_error:
            raise CommandError(f"ingest benchmark failed: {run.ingest_error}")
        self.stdout.write(self.style.SUCCESS("benchmark done"))
