"""The load test's report: each group's p50 / p95 / max and errors against the targets, for every step of users.

Reads what scripts/loadtest.sh leaves in a run's folder: ``timings-<users>.json`` (written by locustfile.py: every
response time in ms, by group, counted from the moment all users were spawned) and ``locust-<users>_stats.csv``
(locust's own table: requests per second). Writes ``report.md`` there and prints it.

Targets (issue 12): admin p95 <= 500 ms, analytics p95 <= 200 ms, no errors, at 50 concurrent users. "Held"
means every target met; the report names the most users held among the steps run.

Usage: ``python -m ops.loadtest.report RUN_DIR`` (no Django needed). Errors: SystemExit when RUN_DIR has no
timings file.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

TARGET_P95_MS = {"admin": 500.0, "analytics": 200.0}
GROUPS = ("admin", "analytics", "ops")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Step:
    users: int
    requests: dict[str, int]
    p50: dict[str, float]
    p95: dict[str, float]
    worst: dict[str, float]
    errors: dict[str, int]
    rps: float
    cache: dict[str, int]  # analytics JSON answers by X-Cache: hit, miss, bypass

    @property
    def hit_rate(self) -> float:
        """Cache hits over all analytics JSON answers, 0..1; NaN when none was counted."""
        total = sum(self.cache.values())
        return self.cache.get("hit", 0) / total if total else math.nan

    @property
    def held(self) -> bool:
        if any(self.errors.get(g, 0) for g in GROUPS):
            return False
        return all(self.p95.get(g, math.nan) <= limit for g, limit in TARGET_P95_MS.items())


def read_step(run: Path, users: int) -> Step:
    data = json.loads((run / f"timings-{users}.json").read_text(encoding="utf-8"))
    timings: dict[str, list[float]] = data["timings_ms"]
    errors: dict[str, int] = data["errors"]
    rps = 0.0
    stats = run / f"locust-{users}_stats.csv"
    if stats.exists():
        with stats.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row["Name"] == "Aggregated":
                    rps = float(row["Requests/s"])
    return Step(
        users=users,
        requests={g: len(timings.get(g, [])) for g in GROUPS},
        p50={g: percentile(timings.get(g, []), 50) for g in GROUPS},
        p95={g: percentile(timings.get(g, []), 95) for g in GROUPS},
        worst={g: max(timings.get(g, []), default=math.nan) for g in GROUPS},
        errors={g: int(errors.get(g, 0)) for g in GROUPS},
        rps=rps,
        cache={k: int(v) for k, v in data.get("analytics_cache", {}).items()},
    )


def render(run: Path, steps: list[Step], header: str = "") -> str:
    lines = [f"# Load test {run.name}", ""]
    if header:
        lines += [header, ""]
    lines += [
        "| users | group | requests | p50 ms | p95 ms | max ms | errors | target p95 | met |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for step in steps:
        for g in GROUPS:
            target = TARGET_P95_MS.get(g)
            met = "" if target is None else ("yes" if step.p95[g] <= target and not step.errors[g] else "NO")
            lines.append(
                f"| {step.users} | {g} | {step.requests[g]} | {step.p50[g]:.0f} | {step.p95[g]:.0f} | "
                f"{step.worst[g]:.0f} | {step.errors[g]} | {'' if target is None else f'{target:.0f}'} | {met} |"
            )
    lines.append("")
    lines += [
        f"- {s.users} users: {s.rps:.1f} requests/s, {'held' if s.held else 'NOT held'}; analytics JSON cache: "
        f"{s.cache.get('hit', 0)} hits of {sum(s.cache.values())} answers ({s.hit_rate:.1%})"
        for s in steps
    ]
    held = [s.users for s in steps if s.held]
    lines.append(f"- most users held among the steps run: {max(held) if held else 'none'}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    run = Path(argv[1])
    users = sorted(int(p.stem.split("-", 1)[1]) for p in run.glob("timings-*.json"))
    if not users:
        raise SystemExit(f"{run}: no timings-<users>.json: did locust run?")
    header = (run / "header.md").read_text(encoding="utf-8").strip() if (run / "header.md").exists() else ""
    text = render(run, [read_step(run, u) for u in users], header)
    (run / "report.md").write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
