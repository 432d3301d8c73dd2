"""``make bench SCALE=N``: the run is refused on a database of another size, and its report sits beside the newest
earlier report at another scale (ops/benchmark/beside.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from ops.benchmark.beside import beside_section, newest_other_scale, scale_label


def _report(
    claims: int, started: str, p95: dict[str, float], *, ingest: float | None = None
) -> dict[str, Any]:
    return {
        "started_at": started,
        "scale": {"claims_claim": claims},
        "queries": [
            {"name": n, "platform": {"p95_ms": v}} for n, v in p95.items() if not n.startswith("admin")
        ],
        "admin": {
            "requests": [
                {"name": n, "platform": {"p95_ms": v}} for n, v in p95.items() if n.startswith("admin")
            ]
        },
        "ingest": {"claims_per_second": ingest, "peak_rss_mib": 200.0} if ingest else None,
    }


def test_each_figure_is_shown_at_both_scales_with_its_growth() -> None:
    earlier = _report(
        1_000_000, "2026-11-30T10:00", {"claim_by_number": 2.0, "admin_claims": 100.0}, ingest=5000.0
    )
    now = _report(
        10_000_000,
        "2026-12-01T10:00",
        {"claim_by_number": 3.0, "admin_claims": 125.0, "new_query": 1.0},
        ingest=4000.0,
    )
    lines = beside_section(now, earlier, "2026-11-30-1m.json")
    text = "\n".join(lines)
    assert lines[0] == "## Beside 1,000,000 claims (2026-11-30-1m.json)"
    assert "(10.0x the claims)" in text
    assert "| claim_by_number | 2.00 | 3.00 | 1.50x |" in lines
    assert "| admin_claims | 100.00 | 125.00 | 1.25x |" in lines
    assert "| new_query |  | 1.00 |  |" in lines  # measured only now: left blank, not guessed
    assert "| ingest claims/s | 5000.00 | 4000.00 | 0.80x |" in lines


def test_the_newest_report_at_another_scale_is_chosen(tmp_path: Path) -> None:
    for name, report in {
        "a.json": _report(1_000_000, "2026-11-20T10:00", {"q": 1.0}),
        "b.json": _report(1_000_000, "2026-11-30T10:00", {"q": 1.0}),
        "c.json": _report(10_000_000, "2026-12-01T09:00", {"q": 1.0}),  # the same scale as the run
        "d.json": {
            "started_at": "2026-12-02T00:00",
            "scale": {"claims_claim": 5},
            "queries": [],
        },  # timed nothing
    }.items():
        (tmp_path / name).write_text(json.dumps(report))
    (tmp_path / "broken.json").write_text("{")
    assert newest_other_scale(tmp_path, 10_000_000) == tmp_path / "b.json"
    assert newest_other_scale(tmp_path, 1_000_000) == tmp_path / "c.json"
    assert newest_other_scale(tmp_path, 1_000_000, exclude=tmp_path / "c.json") is None


def test_scale_labels_name_the_report_files() -> None:
    assert [scale_label(n) for n in (10_000_000, 1_000_000, 300_000, 1234)] == ["10m", "1m", "300k", "1234"]


@pytest.mark.django_db
def test_a_run_on_a_database_of_another_size_is_refused_with_how_to_fill_it(tmp_path: Path) -> None:
    with pytest.raises(
        CommandError, match=r"holds 0 claims, not 10,000,000: fill it first with `make data SCALE"
    ):
        call_command("benchmark", "--expect-claims", "10000000", "--output-dir", str(tmp_path))
    assert not list(tmp_path.iterdir())
