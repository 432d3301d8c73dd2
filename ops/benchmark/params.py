"""Query parameters for the catalog, picked deterministically from the data (the same for both schemas).

Every pick is a query with a total order (ties broken by ids or codes), run once under ``search_path = public``
before any timing, so a given database always gives the same member, month, code and plan.

Periods are calendar months anchored on the latest service date on file: the "latest full month" is the
month before the one holding that date (unless that date is a month's last day), ``period_end`` its
exclusive end; a quarter is the three months ending there, the previous quarter the three before, a year the
twelve. The status-flow window is the three calendar months (UTC) ending with the month of the latest status
change: whole months, the grain of the status-flow view, so the view can give the very same answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connections

from claims.models import ClaimStatus, DiagnosisCodeSystem
from ops.benchmark.catalog import ICD10_CHAPTERS


class NoDataError(Exception):
    """The database holds no claims to benchmark."""


# Picks that identify a person or their claim (PHI on real data): used in the queries, never written to the
# reports, which are meant to be committed. The member is reported by internal id only.
IDENTIFYING = frozenset(
    {"member_number", "last_prefix", "first_name", "dob_from", "dob_to", "member_search_term", "claim_number"}
)


@dataclass(frozen=True)
class BenchParams:
    """Values the catalog's ``%(name)s`` parameters take. Dates are ``[from, to)`` half-open ranges."""

    period_end: dt.date  # first day after the latest full month
    month_from: dt.date  # first day of the latest full month
    day30_from: dt.date  # period_end - 30 days
    quarter_from: dt.date  # period_end - 3 months
    prev_quarter_from: dt.date  # period_end - 6 months
    year_from: dt.date  # period_end - 12 months
    flow_from: dt.datetime  # status-flow window, UTC: the first instant of a month ...
    flow_to: dt.datetime  # ... and of the month after the latest status change
    member_id: int  # the member with most claims in the year window
    member_number: str
    last_prefix: str  # LIKE pattern: first 3 letters of that member's upper-cased last name + '%'
    first_name: str  # that member's upper-cased first name
    dob_from: dt.date  # that member's date of birth +- 5 years
    dob_to: dt.date
    member_search_term: str  # that member's last name (admin member search)
    claim_number: str  # that member's latest claim in the year window
    dx_code: str  # the most frequent diagnosis code in the latest full month
    plan_id: int  # the plan with most claims in the quarter
    specialty_id: int  # provider directory: the (specialty, state, city, plan) with most listed providers
    state_code: str
    city: str
    network_plan_id: int
    name_pattern: (
        str  # LIKE pattern '%FRAG%': 4 letters inside the busiest billing provider's longest name word
    )

    def query_params(self) -> dict[str, Any]:
        """Picked values plus the fixed ones (status codes, ICD-10 chapter table) as one parameter dict."""
        values: dict[str, Any] = asdict(self)
        values.update(
            received=ClaimStatus.RECEIVED.value,
            validated=ClaimStatus.VALIDATED.value,
            pended=ClaimStatus.PENDED.value,
            approved=ClaimStatus.APPROVED.value,
            denied=ClaimStatus.DENIED.value,
            replaced=ClaimStatus.REPLACED.value,
            voided=ClaimStatus.VOIDED.value,
            icd10=DiagnosisCodeSystem.ICD10CM.value,
            chapter_no=[chapter[0] for chapter in ICD10_CHAPTERS],
            chapter_first=[chapter[1] for chapter in ICD10_CHAPTERS],
            chapter_last=[chapter[2] for chapter in ICD10_CHAPTERS],
            chapter_title=[chapter[3] for chapter in ICD10_CHAPTERS],
        )
        return values

    def describe(self) -> dict[str, str]:
        """The picks as short strings for the reports, identifying fields (``IDENTIFYING``) left out."""
        return {key: str(value) for key, value in asdict(self).items() if key not in IDENTIFYING}


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after (negative: before) the month of ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_end_for(latest: dt.date) -> dt.date:
    """Exclusive end of the latest full month given the latest service date on file."""
    next_day = latest + dt.timedelta(days=1)
    # The latest date closes its month only when it is the month's last day.
    return next_day if next_day.day == 1 else add_months(latest, 0)


def _one(sql: str, params: list[Any], *, using: str) -> tuple[Any, ...] | None:
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def pick_params(*, using: str = "default") -> BenchParams:
    """Pick every parameter from the public schema's data. Raises ``NoDataError`` when there are no claims."""
    latest = _one("SELECT MAX(service_date_from) FROM claims_claim", [], using=using)
    if latest is None or latest[0] is None:
        raise NoDataError("no claims on file: load some first (generate_demo_data or ingest_837)")
    period_end = period_end_for(latest[0])
    month_from = add_months(period_end, -1)
    quarter_from = add_months(period_end, -3)
    year_from = add_months(period_end, -12)

    member = _one(
        """
        SELECT m.id, m.member_number, m.last_name, m.first_name, m.date_of_birth
        FROM (
            SELECT member_id, COUNT(*) AS n
            FROM claims_claim
            WHERE service_date_from >= %s AND service_date_from < %s
            GROUP BY member_id
        ) busiest
        JOIN members_member m ON m.id = busiest.member_id
        WHERE m.date_of_birth IS NOT NULL AND m.first_name <> '' AND m.last_name <> ''
        ORDER BY busiest.n DESC, m.id
        LIMIT 1
        """,
        [year_from, period_end],
        using=using,
    )
    if member is None:
        raise NoDataError(f"no claims of a named member with a date of birth in [{year_from}, {period_end})")
    member_id, member_number, last_name, first_name, dob = member

    claim = _one(
        """
        SELECT claim_number FROM claims_claim
        WHERE member_id = %s AND service_date_from >= %s AND service_date_from < %s
        ORDER BY service_date_from DESC, id DESC
        LIMIT 1
        """,
        [member_id, year_from, period_end],
        using=using,
    )
    if claim is None:  # cannot happen: the member was picked for having claims in this window
        raise NoDataError(f"member {member_number} has no claims in [{year_from}, {period_end})")

    dx = _one(
        """
        SELECT d.code
        FROM claims_claim c CROSS JOIN LATERAL unnest(c.diagnosis_codes) AS d(code)
        WHERE c.service_date_from >= %s AND c.service_date_from < %s
        GROUP BY d.code
        ORDER BY COUNT(*) DESC, d.code
        LIMIT 1
        """,
        [month_from, period_end],
        using=using,
    )
    plan = _one(
        """
        SELECT health_plan_id FROM claims_claim
        WHERE service_date_from >= %s AND service_date_from < %s
        GROUP BY health_plan_id
        ORDER BY COUNT(*) DESC, health_plan_id
        LIMIT 1
        """,
        [quarter_from, period_end],
        using=using,
    )
    plan_id = plan[0] if plan is not None else 0

    directory = _one(
        """
        SELECT p.primary_specialty_id, p.state_code, p.city, n.plan_id
        FROM providers_provider p
        JOIN providers_providernetwork n ON n.provider_id = p.id AND n.accepting_new_patients
        WHERE p.is_active AND p.primary_specialty_id IS NOT NULL AND p.state_code <> '' AND p.city <> ''
        GROUP BY 1, 2, 3, 4
        ORDER BY COUNT(*) DESC, 1, 2, 3, 4
        LIMIT 1
        """,
        [],
        using=using,
    )
    if directory is None:
        # No network rows (ingest alone creates none): the busiest active listing, with the quarter's plan.
        # The directory query then legitimately returns no rows, in both schemas.
        listing = _one(
            """
            SELECT primary_specialty_id, state_code, city
            FROM providers_provider
            WHERE is_active AND primary_specialty_id IS NOT NULL AND state_code <> '' AND city <> ''
            GROUP BY 1, 2, 3
            ORDER BY COUNT(*) DESC, 1, 2, 3
            LIMIT 1
            """,
            [],
            using=using,
        )
        directory = (*listing, plan_id) if listing is not None else (0, "", "", plan_id)

    provider = _one(
        """
        SELECT p.search_name
        FROM claims_claim c JOIN providers_provider p ON p.id = c.billing_provider_id
        WHERE c.service_date_from >= %s AND c.service_date_from < %s
        GROUP BY p.id, p.search_name
        ORDER BY COUNT(*) DESC, p.id
        LIMIT 1
        """,
        [month_from, period_end],
        using=using,
    )
    words = sorted((provider[0] if provider else "").split(), key=lambda word: (-len(word), word))
    longest = words[0] if words else "A"
    # Inside the word, not its start, so the search is a real "contains"; 4 letters give the trigram index
    # two trigrams to intersect.
    fragment = longest[1:5] if len(longest) >= 5 else longest

    flow = _one("SELECT MAX(changed_at) FROM claims_claimstatushistory", [], using=using)
    if flow is not None and flow[0] is not None:
        latest_change: dt.datetime = flow[0]
        flow_end = add_months(latest_change.astimezone(dt.UTC).date(), 1)
    else:
        flow_end = period_end
    flow_to = dt.datetime.combine(flow_end, dt.time(), dt.UTC)

    return BenchParams(
        period_end=period_end,
        month_from=month_from,
        day30_from=period_end - dt.timedelta(days=30),
        quarter_from=quarter_from,
        prev_quarter_from=add_months(period_end, -6),
        year_from=year_from,
        flow_from=dt.datetime.combine(add_months(flow_end, -3), dt.time(), dt.UTC),
        flow_to=flow_to,
        member_id=member_id,
        member_number=member_number,
        last_prefix=_like_escape(last_name.upper()[:3]) + "%",
        first_name=first_name.upper(),
        dob_from=dob - dt.timedelta(days=5 * 365),
        dob_to=dob + dt.timedelta(days=5 * 365),
        member_search_term=last_name.upper(),
        claim_number=claim[0],
        dx_code=dx[0] if dx is not None else "",
        plan_id=plan_id,
        specialty_id=directory[0],
        state_code=directory[1],
        city=directory[2],
        network_plan_id=directory[3],
        name_pattern="%" + _like_escape(fragment) + "%",
    )
