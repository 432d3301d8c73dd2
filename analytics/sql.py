"""SQL of the analytics aggregates: one SELECT per aggregate, shared by its materialized view and, for the
day-grain aggregates, by the incremental summary tables.

Each day-grain SELECT has a ``{day_filter}`` placeholder. The materialized view is the SELECT with ``TRUE``
there (the full refresh, the reference); the incremental path runs the same SELECT with
``c.service_date_from = ANY(%(days)s)`` for only the days a batch touched, which also prunes the claim
partitions (PostgreSQL docs, "Partition Pruning"). One definition, so the two cannot drift apart. The month-grain
PROVIDER_MONTHLY has a ``{groups}`` placeholder instead, over the provider day rows (no view: its full rebuild is
its SELECT for every pair).

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

CLAIMS_DAILY = f"""
SELECT c.service_date_from AS day,
       count(*) AS claims,
       count(DISTINCT c.member_id) AS members,
       sum(c.total_charge) AS billed,
       sum(c.total_paid) AS paid,
       count(*) FILTER (WHERE c.status = {APPROVED}) AS approved,
       count(*) FILTER (WHERE c.status = {DENIED}) AS denied,
       count(*) FILTER (WHERE c.status = {PENDED}) AS pended,
       count(*) FILTER (WHERE c.status IN {NOT_YET_ADJUDICATED}) AS open
FROM claims_claim c
WHERE {EFFECTIVE} AND {{day_filter}}
GROUP BY c.service_date_from
"""

PLAN_DAILY = f"""
SELECT c.service_date_from AS day,
       c.health_plan_id,
       count(*) AS claims,
       count(DISTINCT c.member_id) AS members,
       sum(c.total_charge) AS billed,
       sum(c.total_paid) AS paid,
       count(*) FILTER (WHERE c.status = {APPROVED}) AS approved,
       count(*) FILTER (WHERE c.status = {DENIED}) AS denied,
       count(*) FILTER (WHERE c.status = {PENDED}) AS pended,
       count(c.processed_at) AS processed,
       coalesce(sum(extract(epoch FROM c.processed_at - c.received_at)), 0)::numeric(18, 3)
           AS processing_seconds
FROM claims_claim c
WHERE {EFFECTIVE} AND {{day_filter}}
GROUP BY c.service_date_from, c.health_plan_id
"""

PROVIDER_DAILY = f"""
SELECT c.service_date_from AS day,
       c.billing_provider_id,
       count(*) AS claims,
       count(*) FILTER (WHERE c.status = {APPROVED}) AS approved,
       count(*) FILTER (WHERE c.status = {DENIED}) AS denied,
       sum(c.total_charge) AS billed,
       sum(c.total_paid) AS paid,
       sum(c.line_count) AS lines,
       sum(c.total_rvus) AS rvus
FROM claims_claim c
WHERE {EFFECTIVE} AND {{day_filter}}
GROUP BY c.service_date_from, c.billing_provider_id
"""

# Month grain of PROVIDER_DAILY, rolled up from its summary table rather than from the claims: every column is a
# plain sum, so a (month, provider) row is exactly the sum of its day rows. The day rows it reads must be
# current: analytics.services.summaries recomputes them first, in the same transaction. ``{groups}`` is the
# (month, billing_provider_id) pairs to compute: ALL_PROVIDER_MONTHS, or a batch's pairs. Each pair is one range
# scan of the day rows' (billing_provider_id, day) index (the LATERAL fixes that plan: as a join or semi-join
# filter the planner read all ~770,000 day rows at 1M claims to recompute a batch's ~5,000 pairs); a pair with
# no day rows left gives no row.
PROVIDER_MONTHLY = """
SELECT k.month, k.billing_provider_id, s.claims, s.approved, s.denied, s.billed, s.paid, s.lines, s.rvus
FROM {groups} AS k(month, billing_provider_id)
CROSS JOIN LATERAL (
    SELECT count(*) AS day_rows,
           sum(d.claims) AS claims,
           sum(d.approved) AS approved,
           sum(d.denied) AS denied,
           sum(d.billed) AS billed,
           sum(d.paid) AS paid,
           sum(d.lines) AS lines,
           sum(d.rvus) AS rvus
    FROM analytics_providerdailytotals d
    WHERE d.billing_provider_id = k.billing_provider_id
      AND d.day >= k.month AND d.day < (k.month + interval '1 month')::date
) s
WHERE s.day_rows > 0
"""
ALL_PROVIDER_MONTHS = """(
    SELECT DISTINCT date_trunc('month', day)::date, billing_provider_id FROM analytics_providerdailytotals
)"""
# Every (month, provider) pair of whole months (``month_days``: every day of them).
SOME_PROVIDER_MONTHS = """(
    SELECT DISTINCT date_trunc('month', day)::date, billing_provider_id FROM analytics_providerdailytotals
    WHERE day = ANY(%(month_days)s)
)"""

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
