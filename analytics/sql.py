"""SQL of the analytics aggregates: one SELECT per aggregate, shared by its materialized view and, for the
day-grain aggregates, by the incremental summary tables.

Each day-grain SELECT has a ``{day_filter}`` placeholder. The materialized view is the SELECT with ``TRUE``
there (the full refresh, the reference); the incremental path runs the same SELECT with
``c.service_date_from = ANY(%(days)s)`` for only the days a batch touched, which also prunes the claim
partitions (PostgreSQL docs, "Partition Pruning"). One definition, so the two cannot drift apart: the day-grain
SELECTs are built from one table of column expressions (DAY_AGGREGATES), as is DAY_AND_PLAN, the summary tables'
single pass for the day and plan rows. The month-grain PROVIDER_MONTHLY filters the provider day rows instead (no
view: its full rebuild is its SELECT over every day), and PROVIDER_MONTHLY_PAIRS sums the same columns for given
(month, provider) pairs.

"Effective" claims exclude those replaced or voided by a later claim (frequency codes 7 and 8): their
amounts live on in the replacement, or are withdrawn.
"""

from __future__ import annotations

from collections.abc import Iterable

from claims.codes import CodeCheckKind
from claims.models import OPEN_STATUSES, ClaimStatus, IngestStatus


def _literal(value: str) -> str:
    """A choice's value (an identifier such as "approved") as a SQL string literal.

    Raises ValueError for a value with a quote in it: these values are written into view definitions as they
    are, never escaped.
    """
    text = str(value)  # a TextChoices member's str() is its value
    if "'" in text:
        raise ValueError(f"not a plain choice value: {text!r}")
    return f"'{text}'"


def _literals(values: Iterable[str]) -> str:
    """A parenthesised list of SQL string literals, for ``IN``: ``('received', 'validated')``."""
    return "(" + ", ".join(_literal(value) for value in values) + ")"


# Statuses as SQL literals, from the model choices (claims.models), so the SQL follows the choices. A changed
# value changes the materialized views' definitions: django-pgviews then re-creates them on migrate.
APPROVED = _literal(ClaimStatus.APPROVED)
DENIED = _literal(ClaimStatus.DENIED)
PENDED = _literal(ClaimStatus.PENDED)
NOT_YET_ADJUDICATED = _literals((ClaimStatus.RECEIVED, ClaimStatus.VALIDATED))
IN_QUEUE = _literals(OPEN_STATUSES)  # the work queue: received, validated or pended
SUPERSEDED = _literals((ClaimStatus.REPLACED, ClaimStatus.VOIDED))
FILE_REJECTED = _literal(IngestStatus.REJECTED)

ALL_DAYS = "TRUE"
SOME_DAYS = "c.service_date_from = ANY(%(days)s)"

EFFECTIVE = f"c.status NOT IN {SUPERSEDED}"

# The day-grain aggregates, each defined once: its column name and its expression over the effective claims
# (alias c) of a group. CLAIMS_DAILY, PLAN_DAILY and PROVIDER_DAILY are built from these, and so is DAY_AND_PLAN
# (both of the first two in one pass over the claims, for the summary tables), so the views and the incremental
# path cannot drift apart.
DAY_AGGREGATES: dict[str, str] = {
    "claims": "count(*)",
    "members": "count(DISTINCT c.member_id)",
    "billed": "sum(c.total_charge)",
    "paid": "sum(c.total_paid)",
    "approved": f"count(*) FILTER (WHERE c.status = {APPROVED})",
    "denied": f"count(*) FILTER (WHERE c.status = {DENIED})",
    "pended": f"count(*) FILTER (WHERE c.status = {PENDED})",
    "open": f"count(*) FILTER (WHERE c.status IN {NOT_YET_ADJUDICATED})",
    "processed": "count(c.processed_at)",
    "processing_seconds": "coalesce(sum(extract(epoch FROM c.processed_at - c.received_at)), 0)::numeric(18, 3)",
    "lines": "sum(c.line_count)",
    "rvus": "sum(c.total_rvus)",
}
CLAIMS_DAILY_COLUMNS = ("claims", "members", "billed", "paid", "approved", "denied", "pended", "open")
PLAN_DAILY_COLUMNS = (
    "claims",
    "members",
    "billed",
    "paid",
    "approved",
    "denied",
    "pended",
    "processed",
    "processing_seconds",
)
PROVIDER_DAILY_COLUMNS = ("claims", "approved", "denied", "billed", "paid", "lines", "rvus")


def _aggregates(columns: Iterable[str]) -> str:
    """The select-list lines of ``columns`` (DAY_AGGREGATES), "AS name" on a line of its own when long (as the
    views were first written: their text is unchanged)."""
    lines = []
    for name in columns:
        line = f"       {DAY_AGGREGATES[name]} AS {name}"
        lines.append(line if len(line) <= 100 else f"       {DAY_AGGREGATES[name]}\n           AS {name}")
    return ",\n".join(lines)


# The claim columns DAY_AGGREGATES and the group keys read: what a day-grain SELECT needs of a ``source`` other
# than claims_claim (a set of claims read once for several aggregates; a column missing here fails loudly).
DAY_CLAIM_COLUMNS = (
    "service_date_from",
    "health_plan_id",
    "billing_provider_id",
    "member_id",
    "status",
    "total_charge",
    "total_paid",
    "processed_at",
    "received_at",
    "line_count",
    "total_rvus",
)


def day_select(key: str | None, columns: tuple[str, ...], *, source: str = "claims_claim") -> str:
    """One day-grain aggregate: per service day (and ``key``, a claim column) the ``columns`` of
    DAY_AGGREGATES over the effective claims of ``source`` (a table or CTE with the claims' columns), with a
    ``{day_filter}`` placeholder."""
    keys = f"c.service_date_from, c.{key}" if key else "c.service_date_from"
    key_column = f"       c.{key},\n" if key else ""
    return f"""
SELECT c.service_date_from AS day,
{key_column}{_aggregates(columns)}
FROM {source} c
WHERE {EFFECTIVE} AND {{day_filter}}
GROUP BY {keys}
"""


CLAIMS_DAILY = day_select(None, CLAIMS_DAILY_COLUMNS)
PLAN_DAILY = day_select("health_plan_id", PLAN_DAILY_COLUMNS)
PROVIDER_DAILY = day_select("billing_provider_id", PROVIDER_DAILY_COLUMNS)


# CLAIMS_DAILY and PLAN_DAILY in one pass over the claims: the groups (day, plan) and (day), told apart by
# ``all_plans`` (1 on a day's row, whose health_plan_id is NULL). One sort by (day, plan) serves both grouping
# sets (PostgreSQL docs, 7.2.4 "GROUPING SETS, CUBE, and ROLLUP"), and count(DISTINCT member) is computed per
# group of each set, so both stay exact; the summary tables take their rows from here, the views from the two
# SELECTs above (the tests compare them). A batch's days are read once instead of twice: at 1M claims its
# ~354,000 claims, ~210 ms of reading each time. ``source`` as in day_select.
def day_and_plan_select(*, source: str = "claims_claim") -> str:
    return f"""
SELECT c.service_date_from AS day,
       c.health_plan_id,
       grouping(c.health_plan_id) AS all_plans,
{_aggregates(dict.fromkeys(CLAIMS_DAILY_COLUMNS + PLAN_DAILY_COLUMNS))}
FROM {source} c
WHERE {EFFECTIVE} AND {{day_filter}}
GROUP BY GROUPING SETS ((c.service_date_from, c.health_plan_id), (c.service_date_from))
"""


DAY_AND_PLAN = day_and_plan_select()

# Month grain of PROVIDER_DAILY, rolled up from its summary table rather than from the claims: every column is a
# plain sum, so a (month, provider) row is exactly the sum of its day rows. The day rows it reads must be
# current: analytics.services.summaries recomputes them first, in the same transaction. Two forms of the same
# sums (PROVIDER_MONTH_SUMS, the one definition):
#
# * PROVIDER_MONTHLY, a plain GROUP BY of the day rows with a ``{day_filter}`` over them (alias d): every pair
#   (``TRUE``, the full rebuild and the reference) or whole months (every day of them). One pass over the day
#   rows: at 1M claims ~1 s for all ~163,000 pairs, where one index range scan per pair took 4-5.5 s.
# * PROVIDER_MONTHLY_PAIRS, for a batch's (month, billing_provider_id) pairs (``{groups}``): each pair is one
#   range scan of the day rows' (billing_provider_id, day) index. The LATERAL fixes that plan: as a join or
#   semi-join filter the planner read all ~770,000 day rows at 1M claims to recompute a batch's ~5,000 pairs. A
#   pair with no day rows left gives no row.
PROVIDER_MONTH_SUMS = ("claims", "approved", "denied", "billed", "paid", "lines", "rvus")
_MONTH_SUMS = ",\n".join(f"       sum(d.{name}) AS {name}" for name in PROVIDER_MONTH_SUMS)
PROVIDER_MONTHLY = f"""
SELECT date_trunc('month', d.day)::date AS month,
       d.billing_provider_id,
{_MONTH_SUMS}
FROM analytics_providerdailytotals d
WHERE {{day_filter}}
GROUP BY 1, d.billing_provider_id
"""
PROVIDER_MONTHLY_PAIRS = f"""
SELECT k.month, k.billing_provider_id, {", ".join(f"s.{name}" for name in PROVIDER_MONTH_SUMS)}
FROM {{groups}} AS k(month, billing_provider_id)
CROSS JOIN LATERAL (
    SELECT count(*) AS day_rows,
{_MONTH_SUMS}
    FROM analytics_providerdailytotals d
    WHERE d.billing_provider_id = k.billing_provider_id
      AND d.day >= k.month AND d.day < (k.month + interval '1 month')::date
) s
WHERE s.day_rows > 0
"""
# Every day of whole months (``month_days``), over the day rows.
SOME_MONTH_DAYS = "d.day = ANY(%(month_days)s)"

REVENUE_MONTHLY = f"""
SELECT date_trunc('month', c.service_date_from)::date AS month,
       c.health_plan_id,
       count(*) AS claims,
       sum(c.total_charge) AS billed,
       coalesce(sum(c.total_charge) FILTER (WHERE c.status = {APPROVED}), 0) AS approved_billed,
       coalesce(sum(c.total_charge) FILTER (WHERE c.status = {DENIED}), 0) AS denied_billed,
       sum(c.total_paid) AS paid,
       sum(c.total_rvus) AS rvus
FROM claims_claim c
WHERE {EFFECTIVE}
GROUP BY 1, 2
"""

# Chapter -> block -> code by the principal diagnosis (HI01, qualifier ABK), the usual grain of claims
# analytics: each claim counts once at every level and its charge once with it. Patients are distinct at each
# level (GROUPING SETS, so they are right per chapter and block, not summed from codes). '' marks "all blocks" /
# "all codes" of the row's level.
DIAGNOSIS_MONTHLY = f"""
SELECT date_trunc('month', c.service_date_from)::date AS month,
       c.health_plan_id,
       coalesce(i.chapter, '?') AS chapter,
       CASE WHEN grouping(i.block) = 0 THEN coalesce(i.block, '?') ELSE '' END AS block,
       CASE WHEN grouping(c.diagnosis_codes[1]) = 0 THEN c.diagnosis_codes[1] ELSE '' END AS code,
       count(DISTINCT c.member_id) AS patients,
       count(*) AS claims,
       sum(c.total_charge) AS billed,
       round(avg(c.total_charge), 2) AS average_charge
FROM claims_claim c
LEFT JOIN analytics_icd10code i ON i.code = c.diagnosis_codes[1]
WHERE {EFFECTIVE} AND cardinality(c.diagnosis_codes) > 0
GROUP BY GROUPING SETS (
    (1, 2, i.chapter),
    (1, 2, i.chapter, i.block),
    (1, 2, i.chapter, i.block, c.diagnosis_codes[1])
)
"""

# Code-check problems are classified by the message shapes claims.codes.claim_code_problems writes, with the
# LIKE patterns kept beside those messages (claims.codes.CodeCheckKind); the kind is a CodeCheckKind value.
CODE_CHECK_KIND = f"""
{CodeCheckKind.sql_case("e.problem")}
"""

FAILED_MONTHLY = f"""
SELECT date_trunc('month', c.service_date_from)::date AS month,
       c.health_plan_id,
       'denied' AS kind,
       c.denial_reason_code AS reason,
       count(*) AS claims,
       sum(c.total_charge) AS billed
FROM claims_claim c
WHERE c.status = {DENIED}
GROUP BY 1, 2, 4
UNION ALL
SELECT month, health_plan_id, 'code_check', kind, count(*), sum(total_charge)
FROM (
    SELECT DISTINCT c.id, date_trunc('month', c.service_date_from)::date AS month, c.health_plan_id,
           c.total_charge, {CODE_CHECK_KIND} AS kind
    FROM claims_claim c
    CROSS JOIN LATERAL unnest(c.code_check_errors) AS e(problem)
    WHERE cardinality(c.code_check_errors) > 0
) problems
GROUP BY 1, 2, 4
UNION ALL
SELECT date_trunc('month', b.started_at)::date, 0, 'file_' || b.status, coalesce(b.errors -> 0 ->> 'segment', ''),
       count(*), 0
FROM claims_ingestbatch b
WHERE b.status = {FILE_REJECTED}
GROUP BY 1, 4, b.status
"""

PROCESSING_REALTIME = f"""
SELECT date_trunc('minute', c.processed_at) AS minute,
       count(*) AS processed,
       count(*) FILTER (WHERE c.status = {APPROVED}) AS approved,
       count(*) FILTER (WHERE c.status = {DENIED}) AS denied,
       count(*) FILTER (WHERE c.status = {PENDED}) AS pended,
       round(avg(extract(epoch FROM c.processed_at - c.received_at))::numeric, 3) AS mean_seconds,
       round((percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM c.processed_at - c.received_at)))
             ::numeric, 3) AS p95_seconds
FROM claims_claim c
WHERE c.processed_at >= now() - interval '24 hours'
GROUP BY 1
"""

# Open = received, validated or pended. +1 when a claim enters the open set, -1 when it leaves; the running
# sum is the depth at the end of each day.
QUEUE_DEPTH_DAILY = f"""
WITH moves AS (
    SELECT h.changed_at::date AS day,
           count(*) FILTER (WHERE h.to_status IN {IN_QUEUE}
                            AND h.from_status NOT IN {IN_QUEUE}) AS entered,
           count(*) FILTER (WHERE h.from_status IN {IN_QUEUE}
                            AND h.to_status NOT IN {IN_QUEUE}) AS left_queue
    FROM claims_claimstatushistory h
    GROUP BY 1
)
SELECT day, entered, left_queue,
       (sum(entered - left_queue) OVER (ORDER BY day))::bigint AS depth
FROM moves
"""

STATUS_FLOW_MONTHLY = """
SELECT date_trunc('month', h.changed_at)::date AS month,
       h.from_status,
       h.to_status,
       count(*) AS transitions
FROM claims_claimstatushistory h
GROUP BY 1, 2, 3
"""
