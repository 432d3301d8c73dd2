"""Write a run as ``<YYYY-MM-DD>.json`` (everything measured) and ``<YYYY-MM-DD>.md`` (the table to commit).

The markdown leads with what a reader needs to trust the numbers: machine, PostgreSQL version and the settings
that decide plans, data scale, how the baseline was made, the picked parameters and the one command that
reproduces the run. Then one row per query: p50 / p95 / max in ms under both schemas, their ratio (baseline p50
/ platform p50), rows returned, and what each plan did.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from ops.benchmark.baseline import BASELINE_SCHEMA
from ops.benchmark.runner import BenchmarkRun, BenchOptions, QueryResult, SchemaResult

# Option -> command-line flag, for the reproduce line (only options that differ from the defaults).
_FLAGS = {
    "iterations": "--iterations",
    "warmup": "--warmup",
    "only": "--only",
    "skip_admin": "--skip-admin",
    "skip_ingest": "--skip-ingest",
    "ingest_claims": "--ingest-claims",
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


def _query_json(result: QueryResult) -> dict[str, Any]:
    target_key = "url" if result.group == "admin" else "sql"
    return {
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
        "ingest": asdict(run.ingest) if run.ingest is not None else None,
        "ingest_error": run.ingest_error,
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
        f"VACUUM ANALYZE before timing: {run.platform_vacuum_seconds:.1f} s"
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
        f"| machine | {env.cpu_count} cores, {env.memory_gib} GiB RAM, {env.system}, Python {env.python} |",
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
        "Times are p50 / p95 / max in ms. Ratio = baseline p50 / platform p50. Rows: returned by both schemas "
        "(same rows, checked by digest). Plan: the scan that read most buffers, partitions read, shared buffers "
        "hit / read, from one EXPLAIN (ANALYZE, BUFFERS) each.",
        "",
        "| query | what | baseline ms | platform ms | ratio | rows | baseline plan | platform plan |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for result in run.queries:
        baseline_result, platform_result = result.results["baseline"], result.results["platform"]
        lines.append(
            f"| {result.name} | {_cell(result.title)} | {_times(baseline_result)} | {_times(platform_result)} | "
            f"{_ratio(result)} | {_rows(result)} | {_cell(_plan(baseline_result))} | "
            f"{_cell(_plan(platform_result))} |"
        )
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
            f"`{ingest.scratch_database}` (created, migrated and partitioned in {ingest.setup_seconds:.1f} s, "
            "dropped afterwards). Wall time of the process, start-up included.",
            "",
            "| step | claims | seconds | claims/s | notes |",
            "|---|---:|---:|---:|---|",
            f"| ingest_837 --no-validate | {ingest.claims_loaded:,} | {ingest.ingest_seconds:.1f} | "
            f"{ingest.claims_per_second:,.0f} | peak RSS {ingest.peak_rss_mib:,.0f} MiB |",
            f"| pyx12 validation (validate_837) | {ingest.validate_claims:,} | {ingest.validate_seconds:.1f} | "
            f"{ingest.validate_claims_per_second:,.0f} | outcome: {ingest.validate_outcome} |",
        ]
    elif run.ingest_error:
        lines.append(f"FAILED: {_cell(run.ingest_error)}")
    else:
        lines.append("skipped (--skip-ingest)")
    lines.append("")
    return "\n".join(lines)


def write_reports(run: BenchmarkRun, output_dir: Path) -> tuple[Path, Path]:
    """Write ``<date>.json`` and ``<date>.md`` into ``output_dir`` (created); returns both paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    stem = run.started_at.date().isoformat()
    json_path = output_dir / f"{stem}.json"
    md_path = output_dir / f"{stem}.md"
    json_path.write_text(json.dumps(to_json(run), indent=2, default=str) + "\n")
    md_path.write_text(to_markdown(run))
    return json_path, md_path
