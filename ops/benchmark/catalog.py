"""The benchmark's catalog: the platform's critical queries, each written once as parameterized SQL.

Table names are unqualified on purpose: the runner executes the same text under
``SET search_path = bench_baseline, public`` (primary keys only, no partitions) and under
``SET search_path = public`` (the platform's indexes and monthly partitions), so both schemas answer the very
same statement. Values are only ever query parameters (``%(name)s``), filled from ``params.BenchParams``;
the SQL never interpolates anything.

Each query names, in ``serves``, the index or partition feature of the platform it exercises (the
``Meta.indexes`` comments in members/, providers/ and claims/models.py name these same queries). Row order is
made total (ties broken by ids or by every selected column) so that both schemas return the same rows, which
the runner checks by a digest of each result.

The analytics queries count "effective" claims only, as the analytics layer does (``analytics.sql.EFFECTIVE``:
a replaced or voided claim's amounts live on in its replacement, or are withdrawn), and each has a
``ViewVariant``: the same question answered from the analytics materialized views and summary tables, run
under ``search_path = public`` only (the baseline schema has no views). A variant selects the base query's
columns, in its order and under its names; the columns the views cannot give are listed in ``unanswered``
(selected as NULL, or as the nearest figure the views hold) and left out of the comparison, and a variant
whose rows cannot match at all says why with ``comparable=False``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Literal

from django.db import models

from analytics.models import (
    ClaimsDailyTotals,
    DiagnosisMonthly,
    PlanDailyTotals,
    ProviderDailyTotals,
    QueueDepthDaily,
    RevenueMonthly,
    StatusFlowMonthly,
)

Group = Literal["oltp", "analytics"]

_PARAM = re.compile(r"%\((\w+)\)s")


def _param_names(sql: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_PARAM.findall(sql)))


@dataclass(frozen=True)
class ViewVariant:
    """An analytics query answered from the views and summary tables instead of the claim tables.

    ``reads``: the views and summary tables the SQL reads (besides small reference tables: plans, providers).
    ``unanswered``: base-query columns the views cannot give; ``note`` says why, and, when ``comparable`` is
    False, why the rows cannot be compared at all.
    """

    sql: str
    reads: tuple[str, ...]
    unanswered: tuple[str, ...] = ()
    comparable: bool = True
    note: str = ""

    @property
    def param_names(self) -> tuple[str, ...]:
        """Names of the ``%(name)s`` parameters the SQL uses, in first-use order."""
        return _param_names(self.sql)


@dataclass(frozen=True)
class CatalogQuery:
    """One critical query: a stable ``name`` (used by ``--only`` and in the reports), what it is, its SQL."""

    name: str
    group: Group
    title: str  # one line: what the query answers
    serves: str  # the platform feature (index, partition pruning) it exercises
    sql: str
    view: ViewVariant | None = None  # analytics queries: the same question from the views

    @property
    def param_names(self) -> tuple[str, ...]:
        """Names of the ``%(name)s`` parameters the SQL uses, in first-use order."""
        return _param_names(self.sql)


@dataclass(frozen=True)
class AdminRequest:
    """One admin page fetched through the Django test client; ``query`` values name ``BenchParams`` fields.

    ``query`` maps a URL query-string key to either ``("param", <BenchParams field>)`` or ``("value", <text>)``.
    """

    name: str
    title: str
    url_name: str  # reversed with django.urls.reverse
    query: tuple[tuple[str, tuple[Literal["param", "value"], str]], ...] = ()


# ICD-10-CM chapters by the first three characters of the code, compared in the "C" collation (byte order:
# digits before letters, so "O9A" > "O99" and "QA0" > "Q99"). Ranges as simple_icd_10_cm 1.5 (the 2025 code
# set) gives them: chapter 17 ends at QA0, chapter 22 holds U00-U85. ops/tests checks every code against it.
# Passed to the ICD-10 query as four parameter arrays and unnested there: a lookup table that is identical
# in both schemas without creating a table in either.
ICD10_CHAPTERS: tuple[tuple[int, str, str, str], ...] = (
    (1, "A00", "B99", "Certain infectious and parasitic diseases"),
    (2, "C00", "D49", "Neoplasms"),
    (
        3,
        "D50",
        "D89",
        "Diseases of the blood and blood-forming organs and certain disorders of the immune mechanism",
    ),
    (4, "E00", "E89", "Endocrine, nutritional and metabolic diseases"),
    (5, "F01", "F99", "Mental, behavioral and neurodevelopmental disorders"),
    (6, "G00", "G99", "Diseases of the nervous system"),
    (7, "H00", "H59", "Diseases of the eye and adnexa"),
    (8, "H60", "H95", "Diseases of the ear and mastoid process"),
    (9, "I00", "I99", "Diseases of the circulatory system"),
    (10, "J00", "J99", "Diseases of the respiratory system"),
    (11, "K00", "K95", "Diseases of the digestive system"),
    (12, "L00", "L99", "Diseases of the skin and subcutaneous tissue"),
    (13, "M00", "M99", "Diseases of the musculoskeletal system and connective tissue"),
    (14, "N00", "N99", "Diseases of the genitourinary system"),
    (15, "O00", "O9A", "Pregnancy, childbirth and the puerperium"),
    (16, "P00", "P96", "Certain conditions originating in the perinatal period"),
    (17, "Q00", "QA0", "Congenital malformations, deformations and chromosomal abnormalities"),
    (
        18,
        "R00",
        "R99",
        "Symptoms, signs and abnormal clinical and laboratory findings, not elsewhere classified",
    ),
    (19, "S00", "T88", "Injury, poisoning and certain other consequences of external causes"),
    (20, "V00", "Y99", "External causes of morbidity"),
    (21, "Z00", "Z99", "Factors influencing health status and contact with health services"),
    (22, "U00", "U85", "Codes for special purposes"),
)

_CHAPTERS_BY_START = sorted(ICD10_CHAPTERS, key=lambda chapter: chapter[1])
_CHAPTER_STARTS = [chapter[1] for chapter in _CHAPTERS_BY_START]


def icd10_chapter(code: str) -> int | None:
    """Chapter number (1-22) of an ICD-10-CM code with or without the dot, as the SQL derives it; None if none.

    Mirrors the ICD-10 query's join condition ``LEFT(code, 3) COLLATE "C" BETWEEN first AND last`` (Python
    compares ASCII strings in the same byte order as the "C" collation).
    """
    head = code.replace(".", "").upper()[:3]
    index = bisect.bisect_right(_CHAPTER_STARTS, head) - 1
    if index < 0:
        return None
    number, _first, last, _title = _CHAPTERS_BY_START[index]
    return number if head <= last else None


# --- OLTP -------------------------------------------------------------------------------------------------

MEMBER_BY_NUMBER = CatalogQuery(
    name="member_by_number",
    group="oltp",
    title="Member by member number (claim intake, admin search)",
    serves="member_number_uniq (unique, covering names and date of birth: index-only scan)",
    sql="""
SELECT member_number, last_name, first_name, date_of_birth
FROM members_member
WHERE member_number = %(member_number)s
""",
)

MEMBER_NAME_SEARCH = CatalogQuery(
    name="member_name_dob_search",
    group="oltp",
    title="Members by last-name prefix, first name and a date-of-birth range, first 50",
    serves="member_name_dob_upper_idx (UPPER(last_name) text_pattern_ops, UPPER(first_name), date_of_birth)",
    sql="""
SELECT id, member_number, last_name, first_name, date_of_birth
FROM members_member
WHERE UPPER(last_name) LIKE %(last_prefix)s
  AND UPPER(first_name) = %(first_name)s
  AND date_of_birth BETWEEN %(dob_from)s AND %(dob_to)s
ORDER BY last_name, first_name, date_of_birth, id
LIMIT 50
""",
)

PROVIDER_DIRECTORY = CatalogQuery(
    name="provider_directory",
    group="oltp",
    title="Provider directory: specialty + state + city, in a plan's network and accepting patients, first 50",
    serves="provider_directory_idx (partial, active) + network_accepting_idx (partial, accepting)",
    sql="""
SELECT p.id, p.last_name, p.first_name, p.organization_name, p.city
FROM providers_provider p
WHERE p.primary_specialty_id = %(specialty_id)s
  AND p.state_code = %(state_code)s
  AND p.city = %(city)s
  AND p.is_active
  AND EXISTS (
      SELECT 1
      FROM providers_providernetwork n
      WHERE n.provider_id = p.id AND n.plan_id = %(network_plan_id)s AND n.accepting_new_patients
  )
ORDER BY p.last_name, p.first_name, p.organization_name, p.id
LIMIT 50
""",
)

PROVIDER_NAME_SEARCH = CatalogQuery(
    name="provider_name_search",
    group="oltp",
    title="Provider name search: UPPER(search_name) contains a fragment, first 50",
    serves="provider_name_trgm_idx (trigram GIN on UPPER(search_name))",
    sql="""
SELECT id, npi, search_name
FROM providers_provider
WHERE UPPER(search_name) LIKE %(name_pattern)s
ORDER BY search_name, id
LIMIT 50
""",
)

WORK_QUEUE = CatalogQuery(
    name="claims_work_queue",
    group="oltp",
    title="Claims work queue: open statuses, oldest received first, first 50",
    serves="claim_work_queue_idx (received_at, id) WHERE status IN open, merged across partitions",
    sql="""
SELECT id, service_date_from, claim_number, status, received_at, total_charge
FROM claims_claim
WHERE status IN (%(received)s, %(validated)s, %(pended)s)
ORDER BY received_at, id
LIMIT 50
""",
)

MEMBER_CLAIM_HISTORY = CatalogQuery(
    name="member_claim_history",
    group="oltp",
    title="A member's claims over 12 months, newest first",
    serves="claim_member_history_idx (member, service_date_from) INCLUDE (...) + pruning to 12 partitions",
    sql="""
SELECT service_date_from, claim_number, status, total_charge, total_paid
FROM claims_claim
WHERE member_id = %(member_id)s
  AND service_date_from >= %(year_from)s AND service_date_from < %(period_end)s
ORDER BY service_date_from DESC, claim_number DESC
""",
)

CLAIM_BY_NUMBER = CatalogQuery(
    name="claim_by_number",
    group="oltp",
    title="Claim by claim number, case-insensitive (admin '=claim_number' search)",
    serves="claimnumber_upper_idx on the claim-number table, then the claim's primary key in its month only",
    sql="""
SELECT c.id, c.service_date_from, c.claim_number, c.member_id, c.status, c.total_charge
FROM claims_claimnumber n
JOIN claims_claim c ON c.id = n.claim_id AND c.service_date_from = n.service_date_from
WHERE UPPER(n.claim_number) = UPPER(%(claim_number)s)
ORDER BY c.service_date_from, c.id
""",
)

CLAIMS_BY_DIAGNOSIS = CatalogQuery(
    name="claims_by_diagnosis_month",
    group="oltp",
    title="Claims carrying a given diagnosis code in one month",
    serves="claim_diagnosis_gin_idx (GIN on diagnosis_codes) + pruning to one partition",
    sql="""
SELECT id, service_date_from, claim_number, member_id, total_charge
FROM claims_claim
WHERE diagnosis_codes @> ARRAY[%(dx_code)s]::varchar(8)[]
  AND service_date_from >= %(month_from)s AND service_date_from < %(period_end)s
ORDER BY service_date_from, id
""",
)

# --- Analytics on the claim tables ------------------------------------------------------------------------


def _table(model: type[models.Model]) -> str:
    return str(model._meta.db_table)


DAILY_SUMMARY_VIEW = ViewVariant(
    sql="""
SELECT d.day,
       d.claims::bigint AS claims,
       d.approved::bigint AS approved,
       d.denied::bigint AS denied,
       (d.open + d.pended)::bigint AS open,
       d.billed,
       ROUND(d.billed / NULLIF(d.claims, 0), 2) AS avg_billed,
       NULL::numeric AS approved_billed,
       d.paid,
       d.members::bigint AS patients,
       (SELECT COUNT(*) FROM analytics_providerdailytotals p WHERE p.day = d.day) AS providers,
       (SELECT COUNT(*) FROM analytics_plandailytotals h WHERE h.day = d.day) AS payers
FROM analytics_claimsdailytotals d
WHERE d.day >= %(day30_from)s AND d.day < %(period_end)s
ORDER BY d.day
""",
    reads=(_table(ClaimsDailyTotals), _table(ProviderDailyTotals), _table(PlanDailyTotals)),
    unanswered=("approved_billed",),
    note="approved_billed: no day-grain view or summary keeps billed dollars by status (only the month-grain "
    "revenue view does). Providers and payers per day are the day's rows in the provider and plan summaries.",
)

DAILY_SUMMARY = CatalogQuery(
    name="daily_claims_summary",
    group="analytics",
    title="Daily claims summary for the 30 days ending with the latest full month",
    serves="partition pruning on service_date_from (1-2 partitions)",
    sql="""
SELECT service_date_from AS day,
       COUNT(*) AS claims,
       COUNT(*) FILTER (WHERE status = %(approved)s) AS approved,
       COUNT(*) FILTER (WHERE status = %(denied)s) AS denied,
       COUNT(*) FILTER (WHERE status IN (%(received)s, %(validated)s, %(pended)s)) AS open,
       SUM(total_charge) AS billed,
       ROUND(AVG(total_charge), 2) AS avg_billed,
       SUM(total_charge) FILTER (WHERE status = %(approved)s) AS approved_billed,
       SUM(total_paid) AS paid,
       COUNT(DISTINCT member_id) AS patients,
       COUNT(DISTINCT billing_provider_id) AS providers,
       COUNT(DISTINCT health_plan_id) AS payers
FROM claims_claim
WHERE service_date_from >= %(day30_from)s AND service_date_from < %(period_end)s
  AND status NOT IN (%(replaced)s, %(voided)s)
GROUP BY service_date_from
ORDER BY service_date_from
""",
    view=DAILY_SUMMARY_VIEW,
)

PROVIDER_PERFORMANCE_VIEW = ViewVariant(
    sql="""
WITH per_provider AS (
    SELECT billing_provider_id,
           SUM(claims) AS claims,
           SUM(approved) AS approved,
           SUM(denied) AS denied,
           SUM(billed) AS billed,
           SUM(paid) AS paid,
           SUM(rvus) AS rvus
    FROM analytics_providerdailytotals
    WHERE day >= %(month_from)s AND day < %(period_end)s
    GROUP BY billing_provider_id
)
SELECT p.npi,
       p.search_name AS name,
       t.claims,
       t.approved,
       t.denied,
       ROUND(100.0 * t.approved / NULLIF(t.approved + t.denied, 0), 2) AS approval_rate_pct,
       t.billed,
       t.paid,
       t.rvus,
       NULL::bigint AS patients
FROM per_provider t
JOIN providers_provider p ON p.id = t.billing_provider_id
ORDER BY t.billed DESC, p.id
""",
    reads=(_table(ProviderDailyTotals),),
    unanswered=("patients",),
    note="patients: distinct patients over a month cannot be summed from day rows (the provider summary "
    "keeps none).",
)

PROVIDER_PERFORMANCE = CatalogQuery(
    name="provider_performance_month",
    group="analytics",
    title="Provider performance for a month: claims, approval rate, billed, paid, RVUs, patients",
    serves="partition pruning on claims and lines (lines carry the claim's service_date_from)",
    sql="""
WITH line_totals AS (
    SELECT claim_id, service_date_from, SUM(rvus) AS rvus
    FROM claims_claimline
    WHERE service_date_from >= %(month_from)s AND service_date_from < %(period_end)s
    GROUP BY claim_id, service_date_from
)
SELECT p.npi,
       p.search_name AS name,
       COUNT(*) AS claims,
       COUNT(*) FILTER (WHERE c.status = %(approved)s) AS approved,
       COUNT(*) FILTER (WHERE c.status = %(denied)s) AS denied,
       ROUND(100.0 * COUNT(*) FILTER (WHERE c.status = %(approved)s)
             / NULLIF(COUNT(*) FILTER (WHERE c.status IN (%(approved)s, %(denied)s)), 0), 2) AS approval_rate_pct,
       SUM(c.total_charge) AS billed,
       SUM(c.total_paid) AS paid,
       COALESCE(SUM(l.rvus), 0) AS rvus,
       COUNT(DISTINCT c.member_id) AS patients
FROM claims_claim c
JOIN providers_provider p ON p.id = c.billing_provider_id
LEFT JOIN line_totals l ON l.claim_id = c.id AND l.service_date_from = c.service_date_from
WHERE c.service_date_from >= %(month_from)s AND c.service_date_from < %(period_end)s
  AND c.status NOT IN (%(replaced)s, %(voided)s)
GROUP BY p.id, p.npi, p.search_name
ORDER BY billed DESC, p.id
""",
    view=PROVIDER_PERFORMANCE_VIEW,
)

PAYER_ANALYSIS_VIEW = ViewVariant(
    sql="""
WITH plan_months AS (
    SELECT date_trunc('month', day)::date AS month,
           health_plan_id,
           SUM(approved) AS approved,
           SUM(denied) AS denied
    FROM analytics_plandailytotals
    WHERE day >= %(quarter_from)s AND day < %(period_end)s
    GROUP BY 1, 2
)
SELECT r.month,
       hp.payer_id,
       hp.name,
       hp.plan_type,
       r.claims::bigint AS claims,
       r.billed,
       CASE WHEN m.approved > 0 THEN r.approved_billed END AS approved_billed,
       CASE WHEN m.denied > 0 THEN r.denied_billed END AS denied_billed,
       m.denied AS denied_claims,
       r.paid,
       ROUND(r.billed / NULLIF(r.claims, 0), 2) AS avg_billed,
       ROUND(100.0 * r.paid / NULLIF(r.billed, 0), 2) AS paid_to_billed_pct,
       r.rvus,
       NULL::bigint AS patients,
       NULL::bigint AS providers
FROM analytics_revenue_monthly_mv r
JOIN plan_months m ON m.month = r.month AND m.health_plan_id = r.health_plan_id
JOIN members_healthplan hp ON hp.id = r.health_plan_id
WHERE r.month >= %(quarter_from)s AND r.month < %(period_end)s
ORDER BY r.month, r.billed DESC, hp.id
""",
    reads=(_table(RevenueMonthly), _table(PlanDailyTotals)),
    unanswered=("patients", "providers"),
    note="patients, providers: distinct counts over a month cannot be summed from day rows. The revenue "
    "view's approved and denied billed are 0 where the claim tables' FILTER sums are NULL (no such claims): "
    "the plan summary's counts tell the two apart.",
)

PAYER_ANALYSIS = CatalogQuery(
    name="payer_analysis_quarter",
    group="analytics",
    title="Health plan (payer) analysis per month over a quarter: billed, approved, denied, paid, RVUs",
    serves="partition pruning to 3 partitions of claims and lines",
    sql="""
WITH line_totals AS (
    SELECT claim_id, service_date_from, SUM(rvus) AS rvus
    FROM claims_claimline
    WHERE service_date_from >= %(quarter_from)s AND service_date_from < %(period_end)s
    GROUP BY claim_id, service_date_from
)
SELECT date_trunc('month', c.service_date_from)::date AS month,
       hp.payer_id,
       hp.name,
       hp.plan_type,
       COUNT(*) AS claims,
       SUM(c.total_charge) AS billed,
       SUM(c.total_charge) FILTER (WHERE c.status = %(approved)s) AS approved_billed,
       SUM(c.total_charge) FILTER (WHERE c.status = %(denied)s) AS denied_billed,
       COUNT(*) FILTER (WHERE c.status = %(denied)s) AS denied_claims,
       SUM(c.total_paid) AS paid,
       ROUND(AVG(c.total_charge), 2) AS avg_billed,
       ROUND(100.0 * SUM(c.total_paid) / NULLIF(SUM(c.total_charge), 0), 2) AS paid_to_billed_pct,
       COALESCE(SUM(l.rvus), 0) AS rvus,
       COUNT(DISTINCT c.member_id) AS patients,
       COUNT(DISTINCT c.billing_provider_id) AS providers
FROM claims_claim c
JOIN members_healthplan hp ON hp.id = c.health_plan_id
LEFT JOIN line_totals l ON l.claim_id = c.id AND l.service_date_from = c.service_date_from
WHERE c.service_date_from >= %(quarter_from)s AND c.service_date_from < %(period_end)s
  AND c.status NOT IN (%(replaced)s, %(voided)s)
GROUP BY 1, hp.id, hp.payer_id, hp.name, hp.plan_type
ORDER BY month, billed DESC, hp.id
""",
    view=PAYER_ANALYSIS_VIEW,
)

REVENUE_SUMMARY_VIEW = ViewVariant(
    sql="""
WITH plan_months AS (
    SELECT date_trunc('month', day)::date AS month,
           health_plan_id,
           SUM(approved) AS approved,
           SUM(denied) AS denied,
           SUM(claims - approved - denied) AS open
    FROM analytics_plandailytotals
    WHERE day >= %(year_from)s AND day < %(period_end)s
    GROUP BY 1, 2
)
SELECT r.month,
       hp.plan_type,
       SUM(r.claims)::bigint AS claims,
       NULL::numeric AS lines,
       SUM(r.billed) AS billed,
       CASE WHEN SUM(m.approved) > 0 THEN SUM(r.approved_billed) END AS approved_billed,
       CASE WHEN SUM(m.denied) > 0 THEN SUM(r.denied_billed) END AS denied_billed,
       CASE WHEN SUM(m.open) > 0 THEN SUM(r.billed - r.approved_billed - r.denied_billed) END AS outstanding,
       SUM(r.paid) AS paid,
       ROUND(100.0 * SUM(r.paid) / NULLIF(SUM(r.billed), 0), 2) AS collection_rate_pct,
       SUM(r.rvus) AS rvus,
       ROUND(SUM(r.paid) / NULLIF(SUM(r.rvus), 0), 2) AS paid_per_rvu
FROM analytics_revenue_monthly_mv r
JOIN plan_months m ON m.month = r.month AND m.health_plan_id = r.health_plan_id
JOIN members_healthplan hp ON hp.id = r.health_plan_id
WHERE r.month >= %(year_from)s AND r.month < %(period_end)s
GROUP BY r.month, hp.plan_type
ORDER BY r.month, hp.plan_type
""",
    reads=(_table(RevenueMonthly), _table(PlanDailyTotals)),
    unanswered=("lines",),
    note="lines: claim lines are summarised per provider and day, not per plan. Outstanding is billed minus "
    "approved and denied billed: an effective claim is open, approved or denied.",
)

REVENUE_SUMMARY = CatalogQuery(
    name="revenue_summary_year",
    group="analytics",
    title="Revenue summary per month and plan type over 12 months: billed, paid, outstanding, RVUs, $/RVU",
    serves="partition pruning to 12 partitions (most of the table: little to gain without a summary)",
    sql="""
WITH line_totals AS (
    SELECT claim_id, service_date_from, COUNT(*) AS lines, SUM(rvus) AS rvus
    FROM claims_claimline
    WHERE service_date_from >= %(year_from)s AND service_date_from < %(period_end)s
    GROUP BY claim_id, service_date_from
)
SELECT date_trunc('month', c.service_date_from)::date AS month,
       hp.plan_type,
       COUNT(*) AS claims,
       COALESCE(SUM(l.lines), 0) AS lines,
       SUM(c.total_charge) AS billed,
       SUM(c.total_charge) FILTER (WHERE c.status = %(approved)s) AS approved_billed,
       SUM(c.total_charge) FILTER (WHERE c.status = %(denied)s) AS denied_billed,
       SUM(c.total_charge) FILTER (WHERE c.status IN (%(received)s, %(validated)s, %(pended)s)) AS outstanding,
       SUM(c.total_paid) AS paid,
       ROUND(100.0 * SUM(c.total_paid) / NULLIF(SUM(c.total_charge), 0), 2) AS collection_rate_pct,
       COALESCE(SUM(l.rvus), 0) AS rvus,
       ROUND(SUM(c.total_paid) / NULLIF(SUM(l.rvus), 0), 2) AS paid_per_rvu
FROM claims_claim c
JOIN members_healthplan hp ON hp.id = c.health_plan_id
LEFT JOIN line_totals l ON l.claim_id = c.id AND l.service_date_from = c.service_date_from
WHERE c.service_date_from >= %(year_from)s AND c.service_date_from < %(period_end)s
  AND c.status NOT IN (%(replaced)s, %(voided)s)
GROUP BY 1, hp.plan_type
ORDER BY month, hp.plan_type
""",
    view=REVENUE_SUMMARY_VIEW,
)

ICD10_AGGREGATION_VIEW = ViewVariant(
    sql="""
WITH chapters AS (
    SELECT * FROM unnest(%(chapter_no)s::int[], %(chapter_title)s::text[]) AS ch(chapter, title)
)
SELECT ch.chapter,
       ch.title,
       NULLIF(d.code, '') AS code,
       SUM(d.claims)::bigint AS mentions,
       SUM(d.patients)::bigint AS patients
FROM analytics_diagnosis_monthly_mv d
LEFT JOIN chapters ch ON ch.chapter::text = d.chapter
WHERE d.month >= %(quarter_from)s AND d.month < %(period_end)s
  AND d.health_plan_id = %(plan_id)s
  AND (d.block = '' OR d.code <> '')
GROUP BY d.chapter, ch.chapter, ch.title, d.code
ORDER BY ch.chapter NULLS LAST, d.chapter, code NULLS FIRST
""",
    reads=(_table(DiagnosisMonthly),),
    unanswered=("mentions", "patients"),
    comparable=False,
    note="Not comparable: the view counts each claim once, by its principal diagnosis (the first code), where "
    "the query counts every code a claim carries (mentions); it puts codes in chapters by the ICD-10-CM code "
    "set (unknown codes, ICD-9-CM ones included, under '?') where the query maps the first three characters "
    "of ICD-10-CM claims' codes to chapter ranges; and its patients are distinct per month, so a quarter's "
    "are patient-months.",
)

ICD10_AGGREGATION = CatalogQuery(
    name="icd10_by_chapter_and_code",
    group="analytics",
    title="ICD-10 aggregation by chapter and code for a quarter and one plan: mentions, distinct patients",
    serves="claim_plan_date_idx (health_plan, service_date_from) + pruning to 3 partitions",
    sql="""
WITH dx AS (
    SELECT c.member_id, d.code
    FROM claims_claim c
    CROSS JOIN LATERAL unnest(c.diagnosis_codes) AS d(code)
    WHERE c.service_date_from >= %(quarter_from)s AND c.service_date_from < %(period_end)s
      AND c.health_plan_id = %(plan_id)s
      AND c.diagnosis_code_system = %(icd10)s
      AND c.status NOT IN (%(replaced)s, %(voided)s)
),
chapters AS (
    SELECT *
    FROM unnest(%(chapter_no)s::int[], %(chapter_first)s::text[], %(chapter_last)s::text[],
                %(chapter_title)s::text[]) AS ch(chapter, first_code, last_code, title)
)
SELECT ch.chapter, ch.title, dx.code,
       COUNT(*) AS mentions,
       COUNT(DISTINCT dx.member_id) AS patients
FROM dx
JOIN chapters ch ON LEFT(dx.code, 3) COLLATE "C" BETWEEN ch.first_code AND ch.last_code
GROUP BY GROUPING SETS ((ch.chapter, ch.title), (ch.chapter, ch.title, dx.code))
ORDER BY ch.chapter, dx.code NULLS FIRST
""",
    view=ICD10_AGGREGATION_VIEW,
)

PERIOD_COMPARISON_VIEW = ViewVariant(
    sql="""
WITH per_period AS (
    SELECT health_plan_id,
           day >= %(quarter_from)s AS is_current,
           SUM(claims) AS claims,
           SUM(billed) AS billed,
           SUM(paid) AS paid
    FROM analytics_plandailytotals
    WHERE day >= %(prev_quarter_from)s AND day < %(period_end)s
    GROUP BY health_plan_id, is_current
)
SELECT hp.payer_id, hp.name,
       cur.claims AS claims_current, prev.claims AS claims_previous,
       ROUND(100.0 * (cur.claims - prev.claims) / NULLIF(prev.claims, 0), 2) AS claims_change_pct,
       cur.billed AS billed_current, prev.billed AS billed_previous,
       ROUND(100.0 * (cur.billed - prev.billed) / NULLIF(prev.billed, 0), 2) AS billed_change_pct,
       cur.paid AS paid_current, prev.paid AS paid_previous,
       NULL::bigint AS patients_current, NULL::bigint AS patients_previous
FROM members_healthplan hp
LEFT JOIN per_period cur ON cur.health_plan_id = hp.id AND cur.is_current
LEFT JOIN per_period prev ON prev.health_plan_id = hp.id AND NOT prev.is_current
WHERE cur.claims IS NOT NULL OR prev.claims IS NOT NULL
ORDER BY hp.payer_id, hp.id
""",
    reads=(_table(PlanDailyTotals),),
    unanswered=("patients_current", "patients_previous"),
    note="patients: distinct patients over a quarter cannot be summed from day rows.",
)

PERIOD_COMPARISON = CatalogQuery(
    name="period_comparison_quarter",
    group="analytics",
    title="A quarter against the previous quarter, per plan: claims, billed, paid, patients, change in %",
    serves="partition pruning to 6 partitions",
    sql="""
WITH per_period AS (
    SELECT health_plan_id,
           service_date_from >= %(quarter_from)s AS is_current,
           COUNT(*) AS claims,
           SUM(total_charge) AS billed,
           SUM(total_paid) AS paid,
           COUNT(DISTINCT member_id) AS patients
    FROM claims_claim
    WHERE service_date_from >= %(prev_quarter_from)s AND service_date_from < %(period_end)s
      AND status NOT IN (%(replaced)s, %(voided)s)
    GROUP BY health_plan_id, is_current
)
SELECT hp.payer_id, hp.name,
       cur.claims AS claims_current, prev.claims AS claims_previous,
       ROUND(100.0 * (cur.claims - prev.claims) / NULLIF(prev.claims, 0), 2) AS claims_change_pct,
       cur.billed AS billed_current, prev.billed AS billed_previous,
       ROUND(100.0 * (cur.billed - prev.billed) / NULLIF(prev.billed, 0), 2) AS billed_change_pct,
       cur.paid AS paid_current, prev.paid AS paid_previous,
       cur.patients AS patients_current, prev.patients AS patients_previous
FROM members_healthplan hp
LEFT JOIN per_period cur ON cur.health_plan_id = hp.id AND cur.is_current
LEFT JOIN per_period prev ON prev.health_plan_id = hp.id AND NOT prev.is_current
WHERE cur.claims IS NOT NULL OR prev.claims IS NOT NULL
ORDER BY hp.payer_id, hp.id
""",
    view=PERIOD_COMPARISON_VIEW,
)

STATUS_FLOW_VIEW = ViewVariant(
    sql="""
SELECT from_status, to_status, SUM(transitions)::bigint AS transitions
FROM analytics_status_flow_monthly_mv
WHERE month >= (%(flow_from)s AT TIME ZONE 'UTC')::date AND month < (%(flow_to)s AT TIME ZONE 'UTC')::date
GROUP BY from_status, to_status
ORDER BY transitions DESC, from_status, to_status
""",
    reads=(_table(StatusFlowMonthly),),
    note="The window is whole calendar months (UTC), the view's grain.",
)

STATUS_FLOW = CatalogQuery(
    name="claim_status_flow",
    group="analytics",
    title="Claim status flow over three calendar months: transitions counted by (from, to)",
    serves="statushistory_at_idx (changed_at) INCLUDE (from_status, to_status)",
    sql="""
SELECT from_status, to_status, COUNT(*) AS transitions
FROM claims_claimstatushistory
WHERE changed_at >= %(flow_from)s AND changed_at < %(flow_to)s
GROUP BY from_status, to_status
ORDER BY transitions DESC, from_status, to_status
""",
    view=STATUS_FLOW_VIEW,
)

MONTHLY_REPORT_VIEW = ViewVariant(
    sql="""
WITH kpis AS (
    SELECT COALESCE(SUM(claims), 0)::bigint AS claims,
           SUM(billed) AS billed,
           SUM(paid) AS paid,
           COALESCE(SUM(approved), 0)::bigint AS approved,
           COALESCE(SUM(denied), 0)::bigint AS denied,
           COALESCE(SUM(claims - approved - denied), 0)::bigint AS open,
           ROUND(100.0 * SUM(approved) / NULLIF(SUM(approved) + SUM(denied), 0), 2) AS approval_rate_pct,
           COUNT(DISTINCT health_plan_id) AS payers
    FROM analytics_plandailytotals
    WHERE day >= %(month_from)s AND day < %(period_end)s
),
provider_kpis AS (
    SELECT COUNT(DISTINCT billing_provider_id) AS providers,
           COALESCE(SUM(lines), 0)::bigint AS lines,
           SUM(rvus) AS rvus
    FROM analytics_providerdailytotals
    WHERE day >= %(month_from)s AND day < %(period_end)s
),
top_codes AS (
    SELECT json_agg(json_build_object('code', code, 'claims', n) ORDER BY n DESC, code) AS top_diagnoses
    FROM (
        SELECT code, SUM(claims)::bigint AS n
        FROM analytics_diagnosis_monthly_mv
        WHERE month = %(month_from)s AND code <> ''
        GROUP BY code
        ORDER BY n DESC, code
        LIMIT 10
    ) ranked
),
queue AS (
    SELECT COALESCE((SELECT depth FROM analytics_queue_depth_daily_mv ORDER BY day DESC LIMIT 1), 0)::bigint
           AS open_claims_all_months
)
SELECT kpis.claims, kpis.billed, kpis.paid, kpis.approved, kpis.denied, kpis.open, kpis.approval_rate_pct,
       NULL::numeric AS avg_days_service_to_receipt,
       NULL::bigint AS patients,
       provider_kpis.providers, kpis.payers,
       provider_kpis.lines, provider_kpis.rvus,
       NULL::bigint AS procedures,
       top_codes.top_diagnoses,
       queue.open_claims_all_months
FROM kpis, provider_kpis, top_codes, queue
""",
    reads=(
        _table(PlanDailyTotals),
        _table(ProviderDailyTotals),
        _table(DiagnosisMonthly),
        _table(QueueDepthDaily),
    ),
    unanswered=(
        "avg_days_service_to_receipt",
        "patients",
        "procedures",
        "top_diagnoses",
        "open_claims_all_months",
    ),
    note="avg_days_service_to_receipt, procedures: no view keeps receipt lag or procedure codes; patients: "
    "distinct over a month cannot be summed from day rows; top_diagnoses: the view counts claims by principal "
    "diagnosis, the query every code a claim carries; open_claims_all_months: the queue "
    "view's latest depth is a running sum of status-history moves, not a count of claims' current status.",
)

MONTHLY_REPORT = CatalogQuery(
    name="monthly_report",
    group="analytics",
    title="Monthly report, all KPIs in one statement: volumes, money, rates, lines, RVUs, top codes, queue",
    serves="pruning to one partition of claims and lines; claim_work_queue_idx for the queue depth",
    sql="""
WITH month_claims AS (
    SELECT id, service_date_from, status, total_charge, total_paid, member_id, billing_provider_id,
           health_plan_id, service_date_to, received_at, diagnosis_codes
    FROM claims_claim
    WHERE service_date_from >= %(month_from)s AND service_date_from < %(period_end)s
      AND status NOT IN (%(replaced)s, %(voided)s)
),
kpis AS (
    SELECT COUNT(*) AS claims,
           SUM(total_charge) AS billed,
           SUM(total_paid) AS paid,
           COUNT(*) FILTER (WHERE status = %(approved)s) AS approved,
           COUNT(*) FILTER (WHERE status = %(denied)s) AS denied,
           COUNT(*) FILTER (WHERE status IN (%(received)s, %(validated)s, %(pended)s)) AS open,
           ROUND(100.0 * COUNT(*) FILTER (WHERE status = %(approved)s)
                 / NULLIF(COUNT(*) FILTER (WHERE status IN (%(approved)s, %(denied)s)), 0), 2)
               AS approval_rate_pct,
           ROUND(AVG(received_at::date - service_date_to), 1) AS avg_days_service_to_receipt,
           COUNT(DISTINCT member_id) AS patients,
           COUNT(DISTINCT billing_provider_id) AS providers,
           COUNT(DISTINCT health_plan_id) AS payers
    FROM month_claims
),
line_kpis AS (
    SELECT COUNT(*) AS lines, SUM(l.rvus) AS rvus, COUNT(DISTINCT l.procedure_code) AS procedures
    FROM claims_claimline l
    JOIN month_claims c ON c.id = l.claim_id AND c.service_date_from = l.service_date_from
    WHERE l.service_date_from >= %(month_from)s AND l.service_date_from < %(period_end)s
),
top_codes AS (
    SELECT json_agg(json_build_object('code', code, 'claims', n) ORDER BY n DESC, code) AS top_diagnoses
    FROM (
        SELECT d.code, COUNT(*) AS n
        FROM month_claims CROSS JOIN LATERAL unnest(month_claims.diagnosis_codes) AS d(code)
        GROUP BY d.code
        ORDER BY n DESC, d.code
        LIMIT 10
    ) ranked
),
queue AS (
    SELECT COUNT(*) AS open_claims_all_months
    FROM claims_claim
    WHERE status IN (%(received)s, %(validated)s, %(pended)s)
)
SELECT * FROM kpis, line_kpis, top_codes, queue
""",
    view=MONTHLY_REPORT_VIEW,
)

CATALOG: tuple[CatalogQuery, ...] = (
    MEMBER_BY_NUMBER,
    MEMBER_NAME_SEARCH,
    PROVIDER_DIRECTORY,
    PROVIDER_NAME_SEARCH,
    WORK_QUEUE,
    MEMBER_CLAIM_HISTORY,
    CLAIM_BY_NUMBER,
    CLAIMS_BY_DIAGNOSIS,
    DAILY_SUMMARY,
    PROVIDER_PERFORMANCE,
    PAYER_ANALYSIS,
    REVENUE_SUMMARY,
    ICD10_AGGREGATION,
    PERIOD_COMPARISON,
    STATUS_FLOW,
    MONTHLY_REPORT,
)

# --- Admin pages ------------------------------------------------------------------------------------------

ADMIN_REQUESTS: tuple[AdminRequest, ...] = (
    AdminRequest(
        name="admin_claims_changelist",
        title="Claims changelist, first page (newest received first, estimated count)",
        url_name="admin:claims_claim_changelist",
    ),
    AdminRequest(
        name="admin_claims_denied",
        title="Claims changelist filtered to status = denied",
        url_name="admin:claims_claim_changelist",
        query=(("status__exact", ("value", "denied")),),
    ),
    AdminRequest(
        name="admin_claims_search_number",
        title="Claims changelist searched by a claim number",
        url_name="admin:claims_claim_changelist",
        query=(("q", ("param", "claim_number")),),
    ),
    AdminRequest(
        name="admin_member_search",
        title="Members changelist searched by a last name",
        url_name="admin:members_member_changelist",
        query=(("q", ("param", "member_search_term")),),
    ),
)


def select(names: tuple[str, ...], patterns: tuple[str, ...]) -> tuple[str, ...]:
    """The ``names`` that contain any of ``patterns`` (all of them when ``patterns`` is empty), in order."""
    if not patterns:
        return names
    return tuple(name for name in names if any(pattern in name for pattern in patterns))
