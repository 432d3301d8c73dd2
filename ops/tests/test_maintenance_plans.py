"""Pure plan() functions of the maintenance jobs: no database."""

from __future__ import annotations

import datetime as dt

from ops import cleanup, partitions, reindex
from ops.partitions import Policy, TableState

TODAY = dt.date(2026, 11, 22)
POLICY = Policy(months_ahead=3, retention_months={"claims": 36, "audit": 24})


def months(*pairs: tuple[int, int]) -> frozenset[dt.date]:
    return frozenset(dt.date(y, m, 1) for y, m in pairs)


def full_state(extra: tuple[tuple[int, int], ...] = ()) -> dict[str, TableState]:
    current = [(2026, 8), (2026, 9), (2026, 10), (2026, 11), (2026, 12), (2027, 1), (2027, 2), *extra]
    return {
        "claims_claimline": TableState(months(*current), {}),
        "claims_claim": TableState(months(*current), {}),
        "ops_auditevent": TableState(months(*current), {}),
    }


def test_plan_with_every_month_present_does_nothing() -> None:
    plan = partitions.plan(full_state(), today=TODAY, policy=POLICY)

    assert plan.actions == ()
    assert plan.describe() == ["nothing to do"]


def test_plan_creates_this_month_and_three_ahead_where_missing() -> None:
    state = full_state()
    state["claims_claim"] = TableState(months((2026, 11), (2026, 12)), {})

    plan = partitions.plan(state, today=TODAY, policy=POLICY)

    assert [(a.kind, a.month, a.tables) for a in plan.actions] == [
        ("create", dt.date(2027, 1, 1), ("claims_claim",)),
        ("create", dt.date(2027, 2, 1), ("claims_claim",)),
    ]


def test_plan_flags_default_rows_as_a_repair_of_the_whole_group_referencing_first() -> None:
    state = full_state()
    state["claims_claim"] = TableState(state["claims_claim"].months, {dt.date(2001, 1, 1): 3})
    state["claims_claimline"] = TableState(state["claims_claimline"].months, {dt.date(2001, 1, 1): 6})

    plan = partitions.plan(state, today=TODAY, policy=POLICY)

    (repair,) = plan.of_kind("repair")
    assert repair.tables == ("claims_claimline", "claims_claim")
    assert dict(repair.rows) == {"claims_claimline": 6, "claims_claim": 3}
    assert repair.describe().startswith("ALERT rows in DEFAULT for 2001-01")
    # Repaired months are never retired in the same run, even though 2001 is past retention.
    assert plan.of_kind("retire") == []


def test_plan_repairs_a_future_month_blocked_by_default_rows_instead_of_creating_it() -> None:
    state = full_state()
    state["ops_auditevent"] = TableState(months((2026, 11), (2026, 12), (2027, 1)), {dt.date(2027, 2, 1): 1})

    plan = partitions.plan(state, today=TODAY, policy=POLICY)

    assert [(a.kind, a.group, a.month) for a in plan.actions] == [("repair", "audit", dt.date(2027, 2, 1))]


def test_plan_retires_months_older_than_each_groups_retention() -> None:
    state = full_state(extra=((2023, 10), (2023, 11), (2024, 10), (2024, 11)))

    plan = partitions.plan(state, today=TODAY, policy=POLICY)

    retired = [(a.group, a.month, a.tables) for a in plan.of_kind("retire")]
    # claims keep 36 full months before November 2026: from November 2023; audit 24: from November 2024.
    assert retired == [
        ("audit", dt.date(2023, 10, 1), ("ops_auditevent",)),
        ("audit", dt.date(2023, 11, 1), ("ops_auditevent",)),
        ("audit", dt.date(2024, 10, 1), ("ops_auditevent",)),
        ("claims", dt.date(2023, 10, 1), ("claims_claimline", "claims_claim")),
    ]


def test_cleanup_plan_cuts_off_at_retention_days() -> None:
    now = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
    targets = (cleanup.CleanupTarget("ops_taskrun", "started_at"), cleanup.CleanupTarget("x", "at", 7))

    steps = cleanup.plan(now=now, targets=targets, retention_days=90)

    assert [(s.table, s.cutoff) for s in steps] == [
        ("ops_taskrun", dt.datetime(2026, 8, 24, 3, 0, tzinfo=dt.UTC)),
        ("x", dt.datetime(2026, 11, 15, 3, 0, tzinfo=dt.UTC)),
    ]


def test_reindex_plan_keeps_large_bloated_indexes_only() -> None:
    stats = [
        reindex.IndexBloat("big_bloated", "t", 50_000_000, 30.0),  # 66.7 % bloat
        reindex.IndexBloat("big_tight", "t", 50_000_000, 88.0),  # 2.2 %
        reindex.IndexBloat("small_bloated", "t", 10_000, 10.0),
    ]

    todo = reindex.plan(stats, threshold_pct=30, min_bytes=1_000_000)

    assert [i.index for i in todo] == ["big_bloated"]
    assert todo[0].bloat_pct == 66.7
