"""Write a run as ``<YYYY-MM-DD>-<claims>.json`` (everything measured) and ``.md`` (the table to commit).

The markdown leads with what a reader needs to trust the numbers: machine, PostgreSQL version and the settings
that decide plans, data scale, how the baseline was made, the picked parameters and the one command that
reproduces the run. Then one row per query: p50 / p95 / max in ms under both schemas, their ratio (baseline p50
/ platform p50), rows returned, and what each plan did; then the analytics queries answered from the views
against the same queries on the claim tables, the refresh durations, the analytics pages, and the targets
(``TARGETS``) those are held to.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from ops.benchmark.baseline import BASELINE_SCHEMA
from ops.benchmark.beside import beside_section, claims_of, newest_other_scale, scale_label
from ops.benchmark.pages import PagesBench
from ops.benchmark.refresh import BATCH_CLAIMS, RefreshBench, RefreshPhase
from ops.benchmark.runner import BenchmarkRun, BenchOptions, QueryResult, SchemaResult, ViewResult
from ops.benchmark.stats import Timing

# Option -> command-line flag, for the reproduce line (only options that differ from the defaults).
_FLAGS = {
    "iterations": "--iterations",
    "warmup": "--warmup",
    "only": "--only",
    "skip_admin": "--skip-admin",
    "skip_ingest": "--skip-ingest",
    "skip_refresh": "--skip-refresh",
    "skip_pages": "--skip-pages",
    "skip_adjudicate": "--skip-adjudicate",
    "skip_835": "--skip-835",
    "skip_examiner": "--skip-examiner",
    "skip_work_queue": "--skip-work-queue",
    "adjudicate_claims": "--adjudicate-claims",
    "examiner_actions": "--examiner-actions",
    "ingest_claims": "--ingest-claims",
    "ingest_small_claims": "--ingest-small-claims",
    "ingest_onto_copy": "--ingest-onto-copy",
    "validate_claims": "--validate-claims",
    "rebuild_baseline": "--rebuild-baseline",
    "vacuum_platform": "--no-vacuum",
}


def reproduce_command(options: BenchOptions) -> str:
    """``python manage.py benchmark`` with the flags that differ from the defaults (``--output-dir`` aside)."""
    defaults = BenchOptions()
    parts = ["python manage.py benchmark"]
    for option in fields(BenchOptions):
        flag = _FLAGS.get(option.name)
        value = getattr(options, option.name)
        if flag is None or value == getattr(defaults, option.name):
            continue
        if isinstance(value, bool):
            parts.append(flag)  # every boolean flag switches its default
        elif isinstance(value, tuple):
            parts.append(f"{flag} {','.join(value)}")
        else:
            parts.append(f"{flag} {value}")
    return " ".join(parts)


# The analytics targets (issue "Analytics", section 4 "Measured"), set for 1,000,000 claims.
PAGE_STATEMENT_P95_MS = 20.0  # each statement an analytics page runs, p95
MONTHLY_REPORT_SQL_MS = 100.0  # the monthly report's statements together (page + its chart), p95
VIEW_REFRESH_MS = 5_000.0  # each view's full refresh
ALL_VIEWS_REFRESH_MS = 20_000.0  # every view's full refresh, summed
INCREMENTAL_MS = 1_000.0  # the summaries' incremental refresh after a 10,000-claim batch (wall)
# Issue 9 ("Speed, measured by the benchmark"), set for 1,000,000 claims on file.
ADJUDICATE_CLAIMS_PER_SECOND = 5_000.0  # claims_adjudicate, at least
EXAMINER_ACTION_MS = 100.0  # claims_deny / claims_approve on one claim, p95
WORK_QUEUE_MS = 150.0  # the admin work queue page, p95


def _view_json(view: ViewResult, result: QueryResult) -> dict[str, Any]:
    return {
        "sql": view.sql,
        "reads": list(view.reads),
        "comparable": view.comparable,
        "unanswered": list(view.unanswered),
        "note": view.note,
        "columns_match": view.columns_match,
        "same_answer": view.same_answer,
        "ratio_platform_p95_to_view_p95": result.view_ratio,
        "measured": asdict(view.measured),
    }


def _query_json(result: QueryResult) -> dict[str, Any]:
    target_key = "url" if result.group == "admin" else "sql"
    entry = {
        "name": result.name,
        "group": result.group,
        "title": result.title,
        "serves": result.serves,
        target_key: result.target,
        "ratio_p50": result.ratio,
        "same_answer": result.same_answer,
        "baseline": asdict(result.results["baseline"]),
        "platform": asdict(result.results["platform"]),
    }
    if result.group != "admin":
        entry["view"] = _view_json(result.view, result) if result.view is not None else None
    return entry


def _phase_json(phase: RefreshPhase) -> dict[str, Any]:
    return {
        "call": phase.what,
        "total_ms": phase.total_ms,
        "wall_ms": phase.wall_ms,
        "steps": [asdict(step) for step in phase.steps],
    }


def _refresh_json(refresh: RefreshBench | None, note: str) -> dict[str, Any]:
    if refresh is None:
        return {"note": note}
    return {
        "note": note,
        "views": _phase_json(refresh.views),
        "summaries_full": _phase_json(refresh.summaries_full),
        "summaries_incremental": {
            **_phase_json(refresh.summaries_incremental),
            "batch": {
                "claims": refresh.batch_claims,
                "chosen_as": f"the {BATCH_CLAIMS:,} most recently received claims",
                "service_days": refresh.batch_days,
                "first_day": refresh.batch_first_day,
                "last_day": refresh.batch_last_day,
            },
            "vacuum_before_ms": refresh.vacuum_before_incremental_ms,
        },
    }


def _pages_json(pages: PagesBench | None, note: str) -> dict[str, Any]:
    if pages is None:
        return {"note": note, "pages": []}
    return {
        "note": note,
        "pages": [asdict(page) for page in pages.pages],
        "monthly_report": {
            "urls": list(pages.monthly_report_urls),
            "sql_together": asdict(pages.monthly_report_sql) if pages.monthly_report_sql else None,
        },
    }


def _decisions_json(run: BenchmarkRun) -> dict[str, Any] | None:
    decisions = run.decisions
    if decisions is None:
        return None
    return {
        "rolled_back": decisions.rolled_back,
        "notes": decisions.notes,
        "adjudicate": asdict(decisions.adjudicate) if decisions.adjudicate else None,
        "generate_835": asdict(decisions.remit) if decisions.remit else None,
        "examiner": asdict(decisions.examiner) if decisions.examiner else None,
        "work_queue": asdict(decisions.work_queue) if decisions.work_queue else None,
    }


def targets(run: BenchmarkRun) -> list[dict[str, Any]]:
    """Each target with what this run measured: {target, unit, limit, measured, what, met}, and for the ms targets
    (at most ``limit``) also limit_ms and measured_ms; the claims/s targets are met at ``limit`` or more.

    Targets without a measurement in this run (a section skipped) are left out.
    """
    rows: list[dict[str, Any]] = []

    def add(target: str, limit: float, measured: float, what: str) -> None:
        rows.append(
            {
                "target": target,
                "unit": "ms",
                "limit": limit,
                "measured": measured,
                "limit_ms": limit,
                "measured_ms": measured,
                "what": what,
                "met": measured <= limit,
            }
        )

    def add_rate(target: str, limit: float, measured: float, what: str) -> None:
        rows.append(
            {
                "target": target,
                "unit": "claims/s",
                "limit": limit,
                "measured": measured,
                "what": what,
                "met": measured >= limit,
            }
        )

    if run.pages is not None and run.pages.pages:
        worst = max(run.pages.pages, key=lambda page: page.slowest_statement.p95_ms)
        add(
            "each page's statements, p95",
            PAGE_STATEMENT_P95_MS,
            worst.slowest_statement.p95_ms,
            f"slowest: {worst.name} ({worst.slowest_statement_table or 'no table'})",
        )
        if run.pages.monthly_report_sql is not None:
            add(
                "monthly report's statements together, p95",
                MONTHLY_REPORT_SQL_MS,
                run.pages.monthly_report_sql.p95_ms,
                " + ".join(run.pages.monthly_report_urls),
            )
    if run.refresh is not None and run.refresh.views.steps:
        views = run.refresh.views
        slowest = max(views.steps, key=lambda step: step.ms or 0.0)
        add("each view's full refresh", VIEW_REFRESH_MS, slowest.ms or 0.0, f"slowest: {slowest.name}")
        add(
            "all views' full refresh",
            ALL_VIEWS_REFRESH_MS,
            views.total_ms,
            f"{len(views.steps)} views, summed",
        )
        incremental = run.refresh.summaries_incremental
        add(
            "incremental refresh after a 10,000-claim batch",
            INCREMENTAL_MS,
            incremental.wall_ms,
            f"summaries_refresh_batch, {run.refresh.batch_days} service days, wall",
        )
    decisions = run.decisions
    if decisions is not None and decisions.adjudicate is not None:
        adjudicate = decisions.adjudicate
        add_rate(
            "adjudication throughput (at least)",
            ADJUDICATE_CLAIMS_PER_SECOND,
            adjudicate.claims_per_second,
            f"claims_adjudicate, {adjudicate.decided:,} claims",
        )
    if decisions is not None and decisions.examiner is not None:
        examiner = decisions.examiner
        add(
            "examiner deny, one claim, p95",
            EXAMINER_ACTION_MS,
            examiner.deny.p95_ms,
            f"claims_deny x {examiner.actions}",
        )
        add(
            "examiner approve, one claim, p95",
            EXAMINER_ACTION_MS,
            examiner.approve.p95_ms,
            f"claims_approve x {examiner.actions}",
        )
    if decisions is not None and decisions.work_queue is not None:
        add(
            "work queue page, p95",
            WORK_QUEUE_MS,
            decisions.work_queue.request.p95_ms,
            f"{decisions.work_queue.url}, {decisions.work_queue.pended:,} pended",
        )
    return rows


def to_json(run: BenchmarkRun) -> dict[str, Any]:
    """The run as a JSON-ready dict (see the module docstring for what the fields mean)."""
    return {
        "date": run.started_at.date().isoformat(),
        "started_at": run.started_at.isoformat(),
        "seconds": run.seconds,
        "command": reproduce_command(run.options),
        "database": run.database,
        "environment": asdict(run.environment),
        "options": {**asdict(run.options), "only": list(run.options.only)},
        "scale": run.baseline.platform_rows,
        "baseline": {
            "schema": BASELINE_SCHEMA,
            "what": "same tables, primary keys only, no partitions, no other indexes",
            "reused": run.baseline.reused,
            "reason": run.baseline.reason,
            "check_seconds": round(run.baseline.fingerprint_seconds, 2),
            "build_seconds": round(run.baseline.build_seconds, 2),
            "tables": [asdict(table) for table in run.baseline.tables],
        },
        "platform_vacuum_analyze_seconds": run.platform_vacuum_seconds,
        "params": run.params.describe(),
        "queries": [_query_json(result) for result in run.queries],
        "admin": {"note": run.admin_note, "requests": [_query_json(result) for result in run.admin]},
        "analytics_vacuum_analyze_seconds": run.analytics_vacuum_seconds,
        "views_refreshed_by_run": run.views_refreshed,
        "refresh": _refresh_json(run.refresh, run.refresh_note),
        "pages": _pages_json(run.pages, run.pages_note),
        "decisions": _decisions_json(run),
        "targets": targets(run),
        "ingest": asdict(run.ingest) if run.ingest is not None else None,
        "ingest_error": run.ingest_error,
        "validation": asdict(run.validation) if run.validation is not None else None,
    }


def _times(result: SchemaResult) -> str:
    return f"{result.p50_ms:.2f} / {result.p95_ms:.2f} / {result.max_ms:.2f}"


def _ratio(result: QueryResult) -> str:
    return f"{result.ratio:,.1f}x" if result.ratio is not None else "n/a"


def _rows(result: QueryResult) -> str:
    baseline, platform = result.results["baseline"], result.results["platform"]
    if result.same_answer:
        return f"{platform.rows:,}"
    return f"**DIFFER** {baseline.rows:,} / {platform.rows:,}"


def _plan(result: SchemaResult) -> str:
    return result.plan.brief() if result.plan is not None else ""


def _timing(timing: Timing) -> str:
    return f"{timing.p50_ms:.2f} / {timing.p95_ms:.2f} / {timing.max_ms:.2f}"


def _view_cells(result: QueryResult) -> str:
    """The main table's "view ms" and "platform / view" cells."""
    if result.view is None:
        return " | "
    ratio = f"{result.view_ratio:,.1f}x" if result.view_ratio is not None else "n/a"
    return f"{_times(result.view.measured)} | {ratio}"


def _comparable(view: ViewResult) -> str:
    if not view.comparable:
        return "no (see note)"
    if view.unanswered:
        return "yes, but not " + ", ".join(view.unanswered)
    return "yes, every column"


def _answer(view: ViewResult, refreshed: bool) -> str:
    if view.same_answer is None:
        return "n/a"
    if view.same_answer:
        return "same"
    return "**differs**" if refreshed else "differs (views not refreshed by this run)"


def _view_section(run: BenchmarkRun) -> list[str]:
    with_views = [result for result in run.queries if result.view is not None]
    lines = ["", "## View-backed analytics", ""]
    if not with_views:
        return [*lines, "no analytics query ran (filtered out by --only)"]
    freshness = (
        "refreshed by this run (see Refresh)"
        if run.views_refreshed
        else f"as found: {run.refresh_note or 'a refresh failed (see Refresh)'}"
    )
    lines += [
        "Each analytics query on the claim tables (platform schema) against the same question answered from the "
        f"materialized views and summary tables, views {freshness}. Times in ms; base-table and view p95, and "
        "view p50 / p95 / max. Ratio = base-table p95 / view p95. Comparable: the columns compared row for "
        "row (numbers by value); answer: whether they agreed.",
        "",
        "| query | reads | base-table p95 | view ms | ratio | rows base / view | comparable | answer | view plan |",
        "|---|---|---:|---:|---:|---:|---|---|---|",
    ]
    for result in with_views:
        view = result.view
        assert view is not None
        ratio = f"{result.view_ratio:,.1f}x" if result.view_ratio is not None else "n/a"
        lines.append(
            f"| {result.name} | {', '.join(view.reads)} | {result.results['platform'].p95_ms:.2f} | "
            f"{_times(view.measured)} | {ratio} | {view.base_rows:,} / {view.measured.rows:,} | "
            f"{_cell(_comparable(view))} | {_answer(view, run.views_refreshed)} | "
            f"{_cell(_plan(view.measured))} |"
        )
    lines += ["", "Notes:", ""]
    lines += [
        f"- `{result.name}`: {result.view.note}" for result in with_views if result.view and result.view.note
    ]
    return lines


def _refresh_section(run: BenchmarkRun) -> list[str]:
    lines = ["", "## Refresh", ""]
    refresh = run.refresh
    if refresh is None:
        return [*lines, run.refresh_note]
    days = (
        f"{refresh.batch_days} service days, {refresh.batch_first_day} .. {refresh.batch_last_day}"
        if refresh.batch_days
        else "no service days"
    )
    vacuumed = (
        f"the summary tables vacuumed in between ({refresh.vacuum_before_incremental_ms / 1000:.1f} s), as "
        "autovacuum would have"
        if refresh.vacuum_before_incremental_ms is not None
        else "the summary tables not vacuumed in between (--no-vacuum)"
    )
    after = (
        f"Then VACUUM ANALYZE of every view and summary before timing: {run.analytics_vacuum_seconds:.1f} s."
        if run.options.vacuum_platform
        else ""
    )
    lines += [
        "Full: `views_refresh` over every view (REFRESH MATERIALIZED VIEW, CONCURRENTLY unless the kind says "
        "plain; one at a time), ms from "
        "each view's RefreshLog (refresh + row count); `summaries_rebuild` (delete and re-insert every day, one "
        "transaction). Incremental: `summaries_refresh_batch` (the post-ingest path: only the (day), (day, plan) and "
        "(day, provider) groups the batch touched) for a 10,000-claim batch, the batch "
        f"being the {refresh.batch_claims:,} most recently received claims ({days}: their service days and those "
        f"of the claims they replaced or voided; assigned to a scratch batch in a transaction rolled back after), "
        f"after the rebuild, {vacuumed}. Rows: in the view after the "
        f"refresh; inserted into a summary table. {after}",
        "",
        "| view or table | kind | ms | rows | outcome |",
        "|---|---|---:|---:|---|",
    ]
    for phase in refresh.phases:
        for step in phase.steps:
            ms = f"{step.ms:,.1f}" if step.ms is not None else ""
            rows = f"{step.rows:,}" if step.rows is not None else ""
            outcome = step.outcome + (f": {_cell(step.error)}" if step.error else "")
            kind = step.kind + {True: ", concurrently", False: ", plain", None: ""}[step.concurrently]
            lines.append(f"| {step.name} | {kind} | {ms} | {rows} | {outcome} |")
        rows_total = sum(step.rows or 0 for step in phase.steps)
        lines.append(
            f"| **{phase.what}, total** (wall {phase.wall_ms:,.1f}) | {phase.steps[0].kind if phase.steps else ''} "
            f"| **{phase.total_ms:,.1f}** | {rows_total:,} | |"
        )
    return lines


def _pages_section(run: BenchmarkRun) -> list[str]:
    lines = ["", "## Pages", ""]
    pages = run.pages
    if pages is None:
        return [*lines, run.pages_note or "not run (filtered out by --only)"]
    lines += [
        "Every URL of analytics/urls.py with its default parameters (the latest data on file), through the "
        "Django test client as a superuser created for the run. Request: the whole request, p50 / p95 / max ms. "
        "Every statement timed around `execute` (parameters not kept): statements per request, their sum per "
        "request (p50 / p95), and the slowest statement's p95 over all requests, with its first table. Claim "
        "tables: statements naming claims_claim, claims_claimline or claims_claimstatushistory (must be 0).",
        "",
        "| page | URL | status | request ms | statements | SQL ms per request | slowest statement p95 | "
        "slowest reads | claim tables |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for page in pages.pages:
        lines.append(
            f"| {page.name} | `{page.url}` | {page.status} | {_timing(page.request)} | {page.statements} | "
            f"{page.sql_total.p50_ms:.2f} / {page.sql_total.p95_ms:.2f} | {page.slowest_statement.p95_ms:.2f} | "
            f"{page.slowest_statement_table} | {page.claim_table_statements} |"
        )
    together = pages.monthly_report_sql
    if together is not None:
        lines += [
            "",
            f"Monthly report's statements together ({' + '.join(f'`{url}`' for url in pages.monthly_report_urls)}, "
            f"summed per opening): {_timing(together)} ms (p50 / p95 / max).",
        ]
    return lines


def _targets_section(run: BenchmarkRun) -> list[str]:
    rows = targets(run)
    lines = ["", "## Targets", ""]
    if not rows:
        return [*lines, "nothing measured (refresh, pages and the decision sections skipped)"]
    claims = run.baseline.platform_rows.get("claims_claim", 0)
    lines += [
        f"Set for 1,000,000 claims; this run has {claims:,}. An ms target is a ceiling, a claims/s one a floor.",
        "",
        "| target | limit | measured | what | met |",
        "|---|---:|---:|---|---|",
    ]
    for row in rows:
        met = "yes" if row["met"] else "**no**"
        lines.append(
            f"| {row['target']} | {row['limit']:,.0f} {row['unit']} | {row['measured']:,.2f} {row['unit']} | "
            f"{_cell(row['what'])} | {met} |"
        )
    return lines


def _decisions_section(run: BenchmarkRun) -> list[str]:
    lines = ["", "## Adjudication, examiner actions, work queue, 835s", ""]
    decisions = run.decisions
    if decisions is None:
        return [*lines, "skipped (--skip-adjudicate --skip-835 --skip-examiner --skip-work-queue)"]
    lines += [
        "Adjudicate first, committed as production runs it: decided claims of the latest months set back to "
        "validated (CAS rows deleted, line decisions cleared, their deductible given back), then every validated "
        "claim on file decided by `claims_adjudicate_parallel` with one worker process per CPU; those rows are put "
        "back as they were afterwards. The rest in one transaction rolled back at the end "
        f"({'rolled back' if decisions.rolled_back else '**NOT rolled back**'}): the 835s of the first 20,000 "
        "decided claims written by the per-payee path of `remittances_generate` restricted to "
        "them, and the largest files validated with pyx12 (`validate_835`); other decided claims made pended, then "
        "`claims_deny` and `claims_approve` on single claims; the admin work queue through the test client as "
        "a superuser. Wall times.",
        "",
        "| step | claims | seconds | claims/s | notes |",
        "|---|---:|---:|---:|---|",
    ]
    adjudicate, remit = decisions.adjudicate, decisions.remit
    if adjudicate is not None:
        outcomes = ", ".join(f"{status} {count:,}" for status, count in adjudicate.outcomes.items())
        lines.append(
            f"| claims_adjudicate | {adjudicate.decided:,} | {adjudicate.seconds:.2f} | "
            f"{adjudicate.claims_per_second:,.0f} | {outcomes}; {adjudicate.workers} workers, "
            f"chunks of {adjudicate.chunk:,}; service {adjudicate.first_day} .. {adjudicate.last_day} |"
        )
    if remit is not None:
        lines += [
            f"| generate_835 | {remit.claims:,} | {remit.seconds:.2f} | {remit.claims_per_second:,.0f} | "
            f"{remit.files:,} files; {remit.left_out:,} left out (not balanced); {remit.placeholder_tax_ids:,} "
            f"payees given a placeholder tax id; {remit.refused_groups:,} payee "
            f"groups ({remit.refused_claims:,} claims) refused by the writer"
            + (f", first: {_cell(remit.refusal)}" if remit.refusal else "")
            + " |",
            f"| pyx12 validation (validate_835) | {remit.validate_claims:,} | {remit.validate_seconds:.2f} | "
            f"{remit.validate_claims_per_second:,.0f} | {remit.validate_files} files; outcome: "
            f"{remit.validate_outcome} |",
        ]
    lines += ["", "| action or page | p50 / p95 / max ms | runs | notes |", "|---|---:|---:|---|"]
    if decisions.examiner is not None:
        examiner = decisions.examiner
        approved = ", ".join(f"{status} {count}" for status, count in examiner.approve_outcomes.items())
        lines += [
            f"| claims_deny (one pended claim) | {_timing(examiner.deny)} | {examiner.deny.iterations} | CARC |",
            f"| claims_approve (one pended claim) | {_timing(examiner.approve)} | {examiner.approve.iterations} "
            f"| engine decided: {approved} |",
        ]
    if decisions.work_queue is not None:
        queue = decisions.work_queue
        lines.append(
            f"| work queue `{queue.url}` | {_timing(queue.request)} | {queue.request.iterations} | "
            f"{queue.rows} rows listed, {queue.pended:,} pended |"
        )
    for section, note in decisions.notes.items():
        lines.append(f"- {section}: {note}")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(run: BenchmarkRun) -> str:
    """The run as a markdown document: header, data scale, query table, admin table, ingest table."""
    env = run.environment
    date = run.started_at.date().isoformat()
    baseline = run.baseline
    if baseline.reused:
        baseline_line = f"reused ({baseline.reason}; checked in {baseline.fingerprint_seconds:.1f} s)"
    else:
        baseline_line = (
            f"built in {baseline.build_seconds:.1f} s (copy, primary key, VACUUM ANALYZE; {baseline.reason})"
        )
    vacuum_line = (
        f"VACUUM ANALYZE before timing: {run.platform_vacuum_seconds:.1f} s; analytics views and summaries "
        f"{run.analytics_vacuum_seconds:.1f} s"
        if run.options.vacuum_platform
        else "not vacuumed or analyzed first (--no-vacuum)"
    )
    settings_line = ", ".join(f"{name}={value}" for name, value in env.settings.items())
    p = run.params
    lines = [
        f"# Query benchmark, {date}",
        "",
        f"Reproduce: `{reproduce_command(run.options)}` (or `make bench`), database `{run.database}`.",
        "",
        "| | |",
        "|---|---|",
        f"| machine | {env.cpu_count} cores ({env.cpu_model}), {env.memory_gib} GiB RAM, {env.system}, "
        f"Python {env.python} |",
        f"| host speed | pure-Python loop {env.calibration_python_ms} ms, PostgreSQL count of 2,000,000 "
        f"{env.calibration_postgres_ms} ms (best of 3; compare runs across hosts by these) |",
        f"| PostgreSQL | {env.postgres_version}: {settings_line} |",
        f"| timing | {run.options.iterations} timed runs after {run.options.warmup} warm-up runs per query and "
        "schema; `time.perf_counter` around execute + fetchall (admin: the whole test-client request); ms |",
        f"| baseline | schema `{BASELINE_SCHEMA}`: the same tables with primary keys only, no partitions, no "
        f"other indexes; {baseline_line} |",
        f"| platform | schema `public`: the platform's indexes and monthly partitions ({vacuum_line}) |",
        f"| periods | month [{p.month_from}, {p.period_end}), quarter from {p.quarter_from} (previous from "
        f"{p.prev_quarter_from}), 12 months from {p.year_from}, 30 days from {p.day30_from}, status flow "
        f"[{p.flow_from:%Y-%m-%d}, {p.flow_to:%Y-%m-%d}) |",
        f"| picks | member id {p.member_id} (most claims in 12 months; its name, birth date and latest claim "
        f"number drive the member and claim lookups, not written here), diagnosis {p.dx_code}, plan id "
        f"{p.plan_id}, directory specialty id {p.specialty_id} / {p.state_code} / {p.city} / plan id "
        f"{p.network_plan_id}, provider name `{p.name_pattern}` |",
        f"| run | {run.seconds:.0f} s in all |",
        "",
        "## Data scale",
        "",
        "| table | rows |",
        "|---|---:|",
        *(f"| {table} | {rows:,} |" for table, rows in run.baseline.platform_rows.items()),
        "",
        "## Queries",
        "",
        "Times are p50 / p95 / max in ms. Ratio = baseline p50 / platform p50. View: the analytics queries "
        "answered from the views and summary tables (see View-backed analytics), platform / view = platform p95 "
        "/ view p95. Rows: returned by both schemas (same rows, checked by digest). Plan: the scan that read "
        "most buffers, partitions read, shared buffers hit / read, from one EXPLAIN (ANALYZE, BUFFERS) each.",
        "",
        "| query | what | baseline ms | platform ms | ratio | view ms | platform / view | rows | baseline plan "
        "| platform plan |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for result in run.queries:
        baseline_result, platform_result = result.results["baseline"], result.results["platform"]
        lines.append(
            f"| {result.name} | {_cell(result.title)} | {_times(baseline_result)} | {_times(platform_result)} | "
            f"{_ratio(result)} | {_view_cells(result)} | {_rows(result)} | {_cell(_plan(baseline_result))} | "
            f"{_cell(_plan(platform_result))} |"
        )
    lines += _view_section(run)
    lines += _refresh_section(run)
    lines += _pages_section(run)
    lines += _decisions_section(run)
    lines += _targets_section(run)
    lines += ["", "## Admin pages", ""]
    if run.admin:
        lines += [
            "Django test client as a superuser created for the run; the baseline runs the same pages with the "
            "session's search_path set to the baseline schema. Rows: rows in the changelist table.",
            "",
            "| page | URL | baseline ms | platform ms | ratio | rows | SQL statements |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for result in run.admin:
            baseline_result, platform_result = result.results["baseline"], result.results["platform"]
            lines.append(
                f"| {result.name} | `{_cell(result.target)}` | {_times(baseline_result)} | "
                f"{_times(platform_result)} | {_ratio(result)} | {_rows(result)} | "
                f"{platform_result.sql_statements} |"
            )
    else:
        lines.append(run.admin_note or "not run (filtered out by --only)")
    lines += ["", "## Ingest", ""]
    ingest = run.ingest
    if ingest is not None:
        lines += [
            f"A generated {ingest.claims:,}-claim 837P ({ingest.lines:,} lines, {ingest.file_mb} MB) loaded by "
            f"`manage.py ingest_837 --no-validate` in a separate process into the scratch database "
            f"`{ingest.scratch_database}` ("
            + (
                f"a file copy of the benchmarked database, {ingest.claims_on_file:,} claims on file"
                if ingest.claims_on_file
                else "created empty, migrated and partitioned"
            )
            + f", ready in {ingest.setup_seconds:.1f} s, dropped afterwards). Wall time of the process, start-up "
            "included.",
            "",
            "| step | claims | seconds | claims/s | notes |",
            "|---|---:|---:|---:|---|",
            f"| ingest_837 --no-validate | {ingest.claims_loaded:,} | {ingest.ingest_seconds:.1f} | "
            f"{ingest.claims_per_second:,.0f} | peak RSS {ingest.peak_rss_mib:,.0f} MiB |",
            *(
                [
                    f"| ingest_837 --no-validate, smaller file | {ingest.small_claims:,} | "
                    f"{ingest.small_seconds:.1f} | {ingest.small_claims_per_second:,.0f} | "
                    f"peak RSS {ingest.small_peak_rss_mib:,.0f} MiB |"
                ]
                if ingest.small_claims
                else []
            ),
            f"| pyx12 validation (validate_837) | {ingest.validate_claims:,} | {ingest.validate_seconds:.1f} | "
            f"{ingest.validate_claims_per_second:,.0f} | outcome: {ingest.validate_outcome} |",
        ]
    elif run.ingest_error:
        lines.append(f"FAILED: {_cell(run.ingest_error)}")
    else:
        lines.append("skipped (--skip-ingest)")
    lines += ["", "## Validation in parts (pyx12 on Celery workers)", ""]
    validation = run.validation
    if validation is not None:
        lines += [
            f"A generated {validation.claims:,}-claim 837P ({validation.file_mb} MB) split into {validation.parts} "
            f"parts of ~{validation.part_claims:,} claims (planned in {validation.plan_seconds:.1f} s), validated "
            f"by a chord on N worker processes ({validation.cpu_count} cores here) and merged into one 999.",
            "",
            "| workers | seconds | claims/s | claims/s per worker | outcome |",
            "|---:|---:|---:|---:|---|",
            *(
                f"| {r.workers} | {r.seconds:.1f} | {r.claims_per_second:,.0f} | "
                f"{r.claims_per_second_per_worker:,.0f} | {r.outcome} |"
                for r in validation.runs
            ),
        ]
    else:
        lines.append("not run (--skip-ingest, or it failed: see the log)")
    lines.append("")
    return "\n".join(lines)


def write_reports(run: BenchmarkRun, output_dir: Path, *, beside: Path | None = None) -> tuple[Path, Path]:
    """Write ``<date>-<claims>.json`` and ``.md`` (e.g. ``2026-12-01-10m``) into ``output_dir`` (created); returns
    both paths. ``beside``: an earlier report's JSON at another scale, compared figure by figure in the markdown
    ("Beside" section, ``ops.benchmark.beside``); by default the newest such report in ``output_dir``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    data = to_json(run)
    claims = claims_of(data)
    stem = f"{run.started_at.date().isoformat()}-{scale_label(claims)}"
    json_path = output_dir / f"{stem}.json"
    md_path = output_dir / f"{stem}.md"
    markdown = to_markdown(run)
    earlier = beside or newest_other_scale(output_dir, claims, exclude=json_path)
    if earlier is not None:
        markdown += "\n" + "\n".join(beside_section(data, json.loads(earlier.read_text()), earlier.name))
    json_path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    md_path.write_text(markdown)
    return json_path, md_path
