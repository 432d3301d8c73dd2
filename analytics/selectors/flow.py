"""5. Status flow: claim status transitions over months, as an acyclic graph for a Sankey diagram."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Sum

from analytics.models import StatusFlowMonthly
from analytics.periods import MonthRange

FLOW_SOURCES = (StatusFlowMonthly,)
NEW = "new"
# Lifecycle stage of each status (claims.models.ClaimStatus): a Sankey link must go to a later stage.
STAGES: dict[str, int] = {
    "": 0,
    "received": 1,
    "validated": 2,
    "pended": 3,
    "approved": 4,
    "denied": 4,
    "replaced": 5,
    "voided": 5,
}


@dataclass(frozen=True)
class Transition:
    from_status: str  # "" for a claim's first status
    to_status: str
    count: int


@dataclass(frozen=True)
class SankeyLink:
    source: str
    target: str
    value: int


@dataclass(frozen=True)
class Sankey:
    nodes: list[str]
    links: list[SankeyLink]
    self_loops: int  # transitions from a status to itself, not drawn
    revisits: int  # transitions back to an earlier or same stage, drawn into an "(again)" node
    total: int  # every transition, drawn or not


def status_transitions(*, months: MonthRange) -> list[Transition]:
    """Transitions summed over ``months`` (months of the status change), most frequent first."""
    rows = (
        StatusFlowMonthly._default_manager.filter(month__range=(months.first, months.last))
        .order_by()
        .values("from_status", "to_status")
        .annotate(n=Sum("transitions"))
        .order_by("-n", "from_status", "to_status")
    )
    return [Transition(row["from_status"], row["to_status"], row["n"]) for row in rows]


def _stage(status: str) -> int:
    return STAGES.get(status, max(STAGES.values()) + 1)


def sankey_graph(transitions: Iterable[Transition]) -> Sankey:
    """The transitions as an acyclic graph, which a Sankey diagram needs (ECharts refuses a cycle).

    Statuses repeat (received -> pended -> validated -> pended), so the transition graph can have cycles.
    A link that moves to a later lifecycle stage (``STAGES``) joins the two status nodes; one that goes back
    to an earlier or the same stage ends in a separate node "<status> (again)" that has no outgoing links,
    so no path can return to a node. What happens after a revisit is drawn from the status's main node:
    the view counts transitions, not paths, so that is all it can say. Self-transitions are left out.
    """
    links: dict[tuple[str, str], int] = defaultdict(int)
    self_loops = revisits = total = 0
    for t in transitions:
        total += t.count
        if t.from_status == t.to_status:
            self_loops += t.count
            continue
        source = t.from_status or NEW
        if _stage(t.to_status) > _stage(t.from_status):
            target = t.to_status
        else:
            target = f"{t.to_status} (again)"
            revisits += t.count
        links[(source, target)] += t.count
    names = {name for pair in links for name in pair}
    main = sorted((n for n in names if "(again)" not in n), key=lambda n: (_stage("" if n == NEW else n), n))
    again = sorted(n for n in names if "(again)" in n)
    return Sankey(
        nodes=[*main, *again],
        links=[SankeyLink(s, t, v) for (s, t), v in sorted(links.items(), key=lambda item: -item[1])],
        self_loops=self_loops,
        revisits=revisits,
        total=total,
    )
