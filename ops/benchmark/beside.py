"""A run beside an earlier run at another scale: how each figure grew from, say, 1,000,000 to 10,000,000 claims.

``make bench SCALE=10000000`` benchmarks a database holding 10,000,000 claims; its report then carries a "Beside"
section with the newest earlier report (``bench/results/*.json``) of another number of claims: every query's and
admin page's platform p95 at both scales and the growth factor, and the ingest and validation rates. Pure: it
reads two reports' JSON (``report.to_json``), nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CLAIMS_TABLE = "claims_claim"


def claims_of(report: dict[str, Any]) -> int:
    """Claims on file in the benchmarked database of a report (``scale`` holds the row count per table)."""
    return int((report.get("scale") or {}).get(CLAIMS_TABLE, 0))


def scale_label(claims: int) -> str:
    """``10000000`` -> "10m", ``300000`` -> "300k", ``1234`` -> "1234": for file names."""
    if claims >= 1_000_000 and claims % 1_000_000 == 0:
        return f"{claims // 1_000_000}m"
    if claims >= 1_000 and claims % 1_000 == 0:
        return f"{claims // 1_000}k"
    return str(claims)


def newest_other_scale(results: Path, claims: int, *, exclude: Path | None = None) -> Path | None:
    """The newest report in ``results`` (by its ``started_at``) whose benchmarked database held another number of
    claims than ``claims`` and that timed queries; None when there is none. Unreadable files are skipped."""
    best: tuple[str, Path] | None = None
    for path in sorted(results.glob("*.json")):
        if exclude is not None and path.resolve() == exclude.resolve():
            continue
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(report, dict) or not report.get("queries"):
            continue
        other = claims_of(report)
        if other in (0, claims):
            continue
        started = str(report.get("started_at", ""))
        if best is None or started > best[0]:
            best = (started, path)
    return best[1] if best else None


def _growth(before: float | None, after: float | None) -> str:
    if not before or after is None:
        return ""
    return f"{after / before:.2f}x"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _timed(report: dict[str, Any], group: str) -> list[dict[str, Any]]:
    if group == "queries":
        return list(report.get("queries") or [])
    return list((report.get("admin") or {}).get("requests") or [])


def _p95(entries: list[dict[str, Any]]) -> dict[str, float]:
    return {e["name"]: float(e["platform"]["p95_ms"]) for e in entries if e.get("platform")}


def beside_section(report: dict[str, Any], earlier: dict[str, Any], earlier_name: str) -> list[str]:
    """Markdown lines: ``report`` beside ``earlier`` (named ``earlier_name``), figure by figure.

    Rows: every query and admin page of either report (platform p95, ms, at each scale, and after / before);
    ingest (claims/s, peak RSS MiB) and validation (claims/s) when both measured them. A figure one report lacks
    is left blank, never guessed.
    """
    now, then = claims_of(report), claims_of(earlier)
    lines = [
        f"## Beside {then:,} claims ({earlier_name})",
        "",
        f"How each figure grew from {then:,} to {now:,} claims on file ({now / then:.1f}x the claims). Platform "
        "p95 in ms; growth = this run / that run.",
        "",
        f"| query or page | p95 ms at {then:,} | p95 ms at {now:,} | growth |",
        "|---|---:|---:|---:|",
    ]
    for group in ("queries", "admin"):
        before, after = _p95(_timed(earlier, group)), _p95(_timed(report, group))
        for name in [*after, *(n for n in before if n not in after)]:
            b, a = before.get(name), after.get(name)
            lines.append(f"| {name} | {_ms(b)} | {_ms(a)} | {_growth(b, a)} |")
    rates: list[tuple[str, float | None, float | None]] = []
    ingest_now, ingest_then = report.get("ingest") or {}, earlier.get("ingest") or {}
    for key, what in (
        ("claims_per_second", "ingest claims/s"),
        ("peak_rss_mib", "ingest peak RSS MiB"),
        ("validate_claims_per_second", "pyx12 validation claims/s (one process)"),
    ):
        rates.append((what, ingest_then.get(key), ingest_now.get(key)))
    if any(b is not None or a is not None for _, b, a in rates):
        lines += ["", f"| rate | at {then:,} | at {now:,} | growth |", "|---|---:|---:|---:|"]
        for what, b, a in rates:
            lines.append(f"| {what} | {_ms(b)} | {_ms(a)} | {_growth(b, a)} |")
    return [*lines, ""]
