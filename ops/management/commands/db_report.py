"""The ops pages' reports for scripts and CI: text tables, or one JSON document with ``--json``.

Sections: slow_queries, indexes, tables, partitions, advisor (``--section`` repeats to pick some). Exits 0
even when pg_stat_statements is unavailable: the section then carries the message saying how to enable it.

What comes from the catalog alone (partitions and their sizes, the declared indexes' presence and validity)
is read on the read replica when one is usable (ops.platform.replica): a standby's catalog is the primary's.
Statistics (pg_stat_statements, index and table usage, cache hits) and so the advisor are read on the primary
whatever the replica: each server keeps its own, and a standby's describe its own reads (PostgreSQL docs 28.2,
"The Cumulative Statistics System").
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ops import advisor, pg_stats
from ops.platform.replica import reading_alias

SECTIONS = ("slow_queries", "indexes", "tables", "partitions", "advisor")


def _rows(items: Sequence[Any]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(item) for item in items]


def build_report(sections: Sequence[str], *, limit: int, using: str) -> dict[str, Any]:
    """The report as plain data (dicts, lists, numbers, strings, datetimes). ``using`` "default" lets the
    catalog sections read the replica; any other alias is read for every section."""
    catalog = reading_alias(stale_ok=True) if using == "default" else using
    report: dict[str, Any] = {}
    if "slow_queries" in sections:
        try:
            report["slow_queries"] = {"rows": _rows(pg_stats.slow_queries(limit=limit, using=using))}
        except pg_stats.PgStatStatementsUnavailable as error:
            report["slow_queries"] = {"unavailable": str(error), "rows": []}
    if "indexes" in sections:
        usage = pg_stats.index_usage(using=using)
        report["indexes"] = {
            "unused": [i.name for i in pg_stats.unused_indexes(usage)],
            "duplicates": _rows(pg_stats.duplicate_indexes(usage)),
            "invalid": [i.name for i in pg_stats.invalid_indexes(usage)],
            "declared_problems": _rows(
                [c for c in pg_stats.check_declared_indexes(using=catalog) if not c.ok]
            ),
            "usage": [
                {
                    k: v
                    for k, v in dataclasses.asdict(i).items()
                    if k not in ("key_attnums", "opclasses", "options")
                }
                for i in usage
            ],
        }
    if "tables" in sections:
        tables = pg_stats.table_stats(using=using)
        report["tables"] = {
            "cache_hit_ratio": pg_stats.database_cache_hit(using=using).ratio,
            "rows": [
                {
                    **dataclasses.asdict(t),
                    "seq_scan_ratio": t.seq_scan_ratio,
                    "cache_hit_ratio": t.cache_hit_ratio,
                    "missing_index_candidate": t.missing_index_candidate,
                }
                for t in tables
            ],
        }
    if "partitions" in sections:
        report["partitions"] = [
            {**dataclasses.asdict(p), "default_with_rows": p.flagged}
            for p in pg_stats.partitions(using=catalog)
        ]
    if "advisor" in sections:
        result = advisor.advise(limit=limit, using=using)
        report["advisor"] = {
            "hypopg": result.hypopg,
            "message": result.message,
            "statements": [
                {
                    **dataclasses.asdict(s),
                    "suggestions": [{**dataclasses.asdict(g), "saving": g.saving} for g in s.suggestions],
                }
                for s in result.statements
            ],
        }
    return report


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[["" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _slow_queries_text(section: dict[str, Any]) -> list[str]:
    out = ["== Slow queries (pg_stat_statements, by total time)"]
    if "unavailable" in section:
        return [*out, section["unavailable"]]
    rows = [
        [
            f"{r['total_ms']:.1f}",
            f"{r['mean_ms']:.2f}",
            r["calls"],
            r["rows"],
            _pct(r["hit_ratio"]),
            " ".join(r["query"].split())[:100],
        ]
        for r in section["rows"]
    ]
    return [*out, _table(["total ms", "mean ms", "calls", "rows", "hit", "query"], rows)]


def _indexes_text(section: dict[str, Any]) -> list[str]:
    duplicates = ", ".join(f"{d['index']} ({d['kind']} of {d['covered_by']})" for d in section["duplicates"])
    declared = ", ".join(
        f"{p['name']} ({'missing' if not p['exists'] else 'invalid or not attached to every partition'})"
        for p in section["declared_problems"]
    )
    return [
        "\n== Indexes",
        f"unused: {', '.join(section['unused']) or 'none'}",
        f"invalid: {', '.join(section['invalid']) or 'none'}",
        "duplicate/redundant: " + (duplicates or "none"),
        "declared in Meta: " + (declared or "all present and valid"),
    ]


def _tables_text(section: dict[str, Any]) -> list[str]:
    rows = [
        [
            t["name"],
            t["kind"],
            t["partitions"],
            t["total_bytes"],
            t["live_tuples"],
            t["dead_tuples"],
            _pct(t["seq_scan_ratio"]),
            _pct(t["cache_hit_ratio"]),
            "missing index?" if t["missing_index_candidate"] else "",
        ]
        for t in section["rows"]
    ]
    header = ["table", "kind", "parts", "total bytes", "live", "dead", "seq ratio", "cache hit", "flag"]
    return [f"\n== Tables (database cache hit {_pct(section['cache_hit_ratio'])})", _table(header, rows)]


def _partitions_text(section: list[dict[str, Any]]) -> list[str]:
    rows = [
        [
            p["parent"],
            p["name"],
            p["bound"],
            p["rows"],
            p["size_bytes"],
            "ROWS IN DEFAULT" if p["default_with_rows"] else "",
        ]
        for p in section
    ]
    return ["\n== Partitions", _table(["parent", "partition", "bounds", "rows", "bytes", "flag"], rows)]


def _advisor_text(section: dict[str, Any]) -> list[str]:
    out = ["\n== Index advisor" + ("" if section["hypopg"] else " (heuristic, no HypoPG)")]
    if section["message"]:
        out.append(section["message"])
    for s in section["statements"]:
        out.append(f"- {' '.join(s['query'].split())[:120]}")
        if s["skipped"]:
            out.append(f"    skipped: {s['skipped']}")
        for g in s["suggestions"]:
            saving = (
                f" (estimated cost {g['cost_before']:.0f} -> {g['cost_after']:.0f}, {_pct(g['saving'])} less)"
                if g["saving"] is not None
                else ""
            )
            out.append(f"    {g['create_sql']}{saving}")
    return out


# Report sections in print order, each with the function that renders it.
_SECTIONS: tuple[tuple[str, Callable[[Any], list[str]]], ...] = (
    ("slow_queries", _slow_queries_text),
    ("indexes", _indexes_text),
    ("tables", _tables_text),
    ("partitions", _partitions_text),
    ("advisor", _advisor_text),
)


def render_text(report: dict[str, Any]) -> str:
    """The report as plain text: each section present in ``report``, in ``_SECTIONS`` order."""
    out: list[str] = []
    for key, render in _SECTIONS:
        if key in report:
            out += render(report[key])
    return "\n".join(out)


class Command(BaseCommand):
    help = (
        "Database health report: slow queries, indexes, tables, partitions, index advisor (text or --json)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="one JSON document instead of text tables")
        parser.add_argument(
            "--section", action="append", choices=SECTIONS, help="only these sections (repeat)"
        )
        parser.add_argument("--limit", type=int, default=10, help="statements in slow queries and advisor")
        parser.add_argument("--database", default="default", help="Django database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        sections = options["section"] or SECTIONS
        report = build_report(sections, limit=options["limit"], using=options["database"])
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, default=str))
        else:
            self.stdout.write(render_text(report))
