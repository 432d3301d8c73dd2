"""Every declared index is chosen by the planner for the query its comment in ``Meta`` names.

Each case builds that query as a QuerySet, EXPLAINs it (``tests/pgplan.py``) over a few thousand generated rows
per table (after VACUUM ANALYZE) and asserts the *declared* index name: a partition's own index is mapped back to
its parent through ``pg_inherits``. ``test_every_declared_index_has_a_case`` fails when an index is added
without a case. Cases assert the exact set of declared indexes a plan reads, so a plan that drifts to a
neighbouring index (``claim_billing_date_idx`` for the claim-number match, a foreign-key index instead of a
partial one) fails.

No case sets ``enable_seqscan = off``: with these row counts every index wins on cost alone, which is the claim
worth testing. Forcing it would also mislead on the partitioned tables: the empty monthly partitions are then
read through whichever index is cheapest to open (``claim_received_idx`` showed up in the claim-number plan).
Empty partitions are read by a (free) sequential scan; that is why the assertions look at index names, not at
the absence of sequential scans.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from string import ascii_uppercase
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import Count, Q, Sum
from django.db.models.functions import Now, TruncMonth
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.models import (
    OPEN_STATUSES,
    AdjudicationRun,
    Claim,
    ClaimAdjustment,
    ClaimLine,
    ClaimNumber,
    ClaimStatusHistory,
    IngestBatch,
    Remittance,
)
from claims.services.lifecycle import month_counts_rebuild
from members.models import Enrollment, Member, MemberPII
from providers.models import Provider, ProviderNetwork
from tests import pgplan
from tests.owner import owner_execute

MEMBERS = 5_000
PROVIDERS = 8_000
PLANS = 40
# Claims come from the first 300 providers only: 30 claims each, 10 a month, as billing groups send many.
BILLING_PROVIDERS = 300
SPECIALTIES = 30
BATCHES = 3_000
CLAIMS = 9_000  # spread over the three months before this one, all inside pgpartition's range
# Assignee ids of the pended claims: high, so a test can create those users without meeting the sequence's.
QUEUE_EXAMINERS = range(9001, 9006)
STATES = ["TX", "CA", "NY", "FL", "WA", "OH", "IL", "GA", "PA", "AZ"] + [f"Z{c}" for c in ascii_uppercase]


@dataclass(frozen=True)
class Sample:
    """Values the queries filter on, picked from the generated rows."""

    member_id: int
    member_number: str
    plan_id: int
    directory_specialty_id: int  # specialty and city of an active provider in TX
    directory_city: str
    batch_id: int
    claim_id: int
    claim_number: str
    billing_provider_id: int
    month: dt.date  # first day of the month that holds the sample claim


def _months() -> list[dt.date]:
    first = dt.datetime.now(dt.UTC).date().replace(day=1)
    return [first - relativedelta(months=k) for k in (1, 2, 3)]


# Names are drawn from letters A-P (md5 hex digits shifted), so 'S', 'T' and 'CLINIC' only occur where placed:
# every 100th member is a SMITH and every 50th provider a CLINIC, which keeps the searched values selective.
LOAD_SQL = [
    f"""
    INSERT INTO members_healthplan (name, payer_id, plan_type)
    SELECT 'PLAN ' || g, 'PAYER' || g, 'CI' FROM generate_series(1, {PLANS}) g
    """,
    f"""
    INSERT INTO providers_specialty (taxonomy_code, name)
    SELECT lpad(g::text, 9, '0') || 'X', 'SPECIALTY ' || g FROM generate_series(1, {SPECIALTIES}) g
    """,
    f"""
    INSERT INTO members_member (member_number, subscriber_identifier, relationship_code, first_name, last_name,
        date_of_birth, gender, state_code, city, zip_code, is_active, created_at)
    SELECT 'M' || lpad(g::text, 8, '0'), 'SUB' || g, '18',
        CASE WHEN mod(g, 7) = 0 THEN 'JOHN' ELSE translate(substr(md5('f' || g), 1, 8), '0123456789', 'GHIJKLMNOP') END,
        CASE WHEN mod(g, 100) = 0 THEN 'SMITH' || (g / 100)
             ELSE translate(substr(md5('l' || g), 1, 10), '0123456789', 'GHIJKLMNOP') END,
        date '1940-01-01' + mod(g * 37, 25000), 'U',
        (%s::text[])[1 + mod(g + 1, {len(STATES)})], 'CITY' || mod(g, 40), '00000', mod(g, 10) <> 0, now()
    FROM generate_series(1, {MEMBERS}) g
    """,
    # Member PII: only the SSN's keyed hash matters here (the identifiers are ciphertext, never searched); one
    # member in five has no SSN on file (the partial index leaves those out).
    """
    INSERT INTO members_memberpii (member_id, ssn_hmac)
    SELECT id, CASE WHEN mod(id, 5) = 0 THEN '' ELSE encode(sha256(('ssn' || id)::bytea), 'hex') END
    FROM members_member
    """,
    f"""
    INSERT INTO providers_provider (npi, npi_valid, entity_type, first_name, last_name, organization_name,
        state_code, city, zip_code, is_active, created_at, primary_specialty_id)
    SELECT lpad(g::text, 10, '0'), true, '1',
        translate(substr(md5('p' || g), 1, 6), '0123456789', 'GHIJKLMNOP'),
        translate(substr(md5('q' || g), 1, 9), '0123456789', 'GHIJKLMNOP'),
        CASE WHEN mod(g, 50) = 0 THEN 'NORTH CLINIC ' || g ELSE '' END,
        (%s::text[])[1 + mod(g + 1, {len(STATES)})], 'CITY' || mod(g, 40), '00000', mod(g, 10) <> 0, now(),
        s.ids[1 + mod(g, {SPECIALTIES})]
    FROM generate_series(1, {PROVIDERS}) g,
        (SELECT array_agg(id ORDER BY id) AS ids FROM providers_specialty) s
    """,
    # Two enrollments per member: an ended, inactive one and the current one.
    """
    INSERT INTO members_enrollment (member_id, plan_id, effective_date, termination_date, is_active)
    SELECT m.id, p.ids[1 + mod(m.id + k, array_length(p.ids, 1))],
        CASE k WHEN 0 THEN date '2020-01-01' ELSE date '2024-01-01' END,
        CASE k WHEN 0 THEN date '2023-12-31' END,
        k = 1
    FROM members_member m, generate_series(0, 1) k,
        (SELECT array_agg(id ORDER BY id) AS ids FROM members_healthplan) p
    """,
    # Every provider in five plans' networks; a third of them not accepting new patients.
    """
    INSERT INTO providers_providernetwork (provider_id, plan_id, accepting_new_patients, effective_date)
    SELECT pr.id, p.ids[1 + mod(pr.id * 7 + k, array_length(p.ids, 1))], mod(pr.id + k, 3) <> 0, NULL
    FROM providers_provider pr, generate_series(0, 4) k,
        (SELECT array_agg(id ORDER BY id) AS ids FROM members_healthplan) p
    """,
    f"""
    INSERT INTO claims_ingestbatch (file_name, sha256, size_bytes, status, interchange_count, transaction_count,
        claim_count, line_count, total_charge, warning_count, warnings, errors, validation_status,
        validation_errors, ack_999, started_at)
    SELECT 'file' || g || '.837', md5(g::text) || md5('x' || g), 1000, 'loaded', 1, 1, 2, 4, 100, 0,
        '[]', '[]', 'accepted', '[]', '', timestamptz '2024-01-01' + g * interval '1 hour'
    FROM generate_series(1, {BATCHES}) g
    """,
    # One claim in twenty is open (received or pended); every 100th carries E119 among its diagnoses.
    f"""
    INSERT INTO claims_claim (service_date_from, service_date_to, claim_number, place_of_service, frequency_code,
        status, denial_reason_code, received_at, total_charge, total_paid, diagnosis_code_system,
        diagnosis_codes, code_check_errors, payer_claim_control_number, relation, billing_provider_id,
        health_plan_id, member_id, batch_id)
    SELECT d.sdf, d.sdf, 'CLM' || lpad(g::text, 8, '0'), '11', '1',
        CASE mod(g, 20) WHEN 0 THEN 'received' WHEN 1 THEN 'pended' WHEN 2 THEN 'denied' ELSE 'approved' END,
        CASE WHEN mod(g, 20) = 2 THEN 'CO45' ELSE '' END,
        d.sdf + interval '5 days' + g * interval '1 second', 120.00, 80.00, 'icd10cm',
        CASE WHEN mod(g, 100) = 0 THEN ARRAY['I10', 'E119'] ELSE ARRAY['J' || mod(g, 997), 'Z' || mod(g, 89)] END
            ::varchar(8)[],
        '{{}}', '', '',
        pr.ids[1 + mod(g / 3, {BILLING_PROVIDERS})], p.ids[1 + mod(g / 3, {PLANS})],
        m.ids[1 + mod(g, {MEMBERS})], b.ids[1 + mod(g, {BATCHES})]
    FROM generate_series(0, {CLAIMS - 1}) g
        CROSS JOIN LATERAL (SELECT ((%s::date[])[1 + mod(g, 3)] + mod(g / 3, 28)) AS sdf) d,
        (SELECT array_agg(id ORDER BY id) AS ids FROM providers_provider) pr,
        (SELECT array_agg(id ORDER BY id) AS ids FROM members_healthplan) p,
        (SELECT array_agg(id ORDER BY id) AS ids FROM members_member) m,
        (SELECT array_agg(id ORDER BY id) AS ids FROM claims_ingestbatch) b
    """,
    """
    INSERT INTO claims_claimline (claim_id, service_date_from, line_number, procedure_qualifier, procedure_code,
        modifiers, charge, unit_basis, units, place_of_service, diagnosis_pointers, paid, service_date,
        service_date_to)
    SELECT c.id, c.service_date_from, k, 'HC', (99000 + mod(c.id * 3 + k, 300))::text, '{}', 60.00, 'UN', 1, '',
        '{1}', 40.00, c.service_date_from, c.service_date_from
    FROM claims_claim c, generate_series(1, 2) k
    """,
    """
    INSERT INTO claims_claimnumber (claim_id, service_date_from, billing_provider_id, claim_number)
    SELECT id, service_date_from, billing_provider_id, claim_number FROM claims_claim
    """,
    """
    INSERT INTO claims_claimstatushistory (claim_id, claim_service_date_from, from_status, to_status, changed_at,
        source, note)
    SELECT c.id, c.service_date_from, CASE k WHEN 0 THEN '' ELSE 'received' END,
        CASE k WHEN 0 THEN 'received' ELSE c.status END, c.received_at + k * interval '1 day', 'ingest', ''
    FROM claims_claim c, generate_series(0, 1) k
    """,
    # The work queue: pended claims get a pend reason (one in twenty the rare modifier 22) and a quarter of them
    # an examiner (QUEUE_EXAMINERS; assignee has no database FK to auth_user). Every 20th claim is pended,
    # so id / 20 is what varies between them.
    f"""
    UPDATE claims_claim
    SET pend_reason = CASE WHEN mod(id / 20, 20) = 0 THEN 'modifier_22' WHEN mod(id / 20, 2) = 0 THEN 'high_charge'
                           ELSE 'unlisted' END,
        assignee_id = CASE WHEN mod(id / 20, 4) = 0 THEN {QUEUE_EXAMINERS[0]} + mod(id / 80, {len(QUEUE_EXAMINERS)}) END
    WHERE status = 'pended'
    """,
]
LOADED_TABLES = [
    "members_healthplan",
    "members_member",
    "members_memberpii",
    "members_enrollment",
    "providers_specialty",
    "providers_provider",
    "providers_providernetwork",
    "claims_ingestbatch",
    "claims_claim",  # VACUUM and ANALYZE of a partitioned table process every partition
    "claims_claimline",
    "claims_claimnumber",
    "claims_claimstatushistory",
    "claims_claimmonthcount",
]


def _truncate() -> None:
    # CASCADE also empties tables other apps add that point at these (empty in a test database anyway).
    owner_execute(f"TRUNCATE {', '.join(LOADED_TABLES)} CASCADE")  # the owner's: the app may not TRUNCATE


def load_rows() -> Sample:
    """Generate the rows (about 110,000, in ~3 s: mostly the foreign-key checks), then VACUUM ANALYZE them.

    Runs in autocommit (VACUUM refuses a transaction block). ANALYZE gives the planner the statistics it
    chooses by; VACUUM sets the visibility map, so covering indexes are costed - and run - as index-only scans
    with no heap fetches, and it moves new entries out of the GIN pending lists, as autovacuum would in
    production (a GIN index with a long pending list is costed as if it had to read all of it).
    """
    months = _months()
    with connection.cursor() as cursor:
        for statement in LOAD_SQL:
            # Always a parameter list, so every statement is parsed alike (no bare % in them: mod()).
            params: list[Any] = []
            if "%s::text[]" in statement:
                params = [STATES]
            elif "%s::date[]" in statement:
                params = [months]
            cursor.execute(statement, params)
    # The rows bypass the claim-lifecycle writer: count the months each state is in, as it would have.
    month_counts_rebuild()
    owner_execute(f"VACUUM (ANALYZE) {', '.join(LOADED_TABLES)}")  # the owner's
    member = Member.objects.get(member_number="M00000100")
    claim = Claim.objects.filter(member=member).order_by("id").first()
    assert claim is not None
    listed = Provider.objects.filter(is_active=True, state_code="TX").order_by("id").first()
    assert listed is not None and listed.primary_specialty_id is not None
    return Sample(
        member_id=member.pk,
        member_number=member.member_number,
        plan_id=claim.health_plan_id,
        directory_specialty_id=listed.primary_specialty_id,
        directory_city=listed.city,
        batch_id=claim.batch_id or 0,
        claim_id=claim.pk,
        claim_number=claim.claim_number,
        billing_provider_id=claim.billing_provider_id,
        month=claim.service_date_from.replace(day=1),
    )


@pytest.fixture(scope="module")
def sample(django_db_setup: None, django_db_blocker: Any) -> Iterator[Sample]:
    """The rows, committed once for the module (pytest-django's documented way to share costly data).

    Committed rather than per test so VACUUM can run and the suite stays fast; each test still runs in its own
    rolled-back transaction on top. Emptied before (a reused test database may hold an interrupted run's rows)
    and after.
    """
    with django_db_blocker.unblock():
        _truncate()
        try:
            yield load_rows()
        finally:
            _truncate()


@dataclass(frozen=True)
class IndexCase:
    """The query an index serves, and what its plan must show."""

    index: str
    query: Callable[[Sample], models.QuerySet[Any]]
    # The node type every scan of the index must have (an index-only scan for covering indexes), if any.
    node_type: str | None = None


def _end_of(month: dt.date) -> dt.date:
    return month + relativedelta(months=1, days=-1)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


CASES = [
    # --- members ---
    IndexCase(
        "member_number_uniq",
        lambda s: Member.objects.filter(member_number=s.member_number).values(
            "member_number", "first_name", "last_name", "date_of_birth"
        ),
        node_type="Index Only Scan",
    ),
    IndexCase(
        "member_name_dob_upper_idx",
        lambda s: Member.objects.filter(
            last_name__istartswith="smi",
            first_name__iexact="john",
            date_of_birth__range=(dt.date(1950, 1, 1), dt.date(1990, 12, 31)),
        ),
    ),
    IndexCase("member_last_trgm_idx", lambda s: Member.objects.filter(last_name__icontains="mith")),
    # "Which member has this SSN": members.pii.pii_by_ssn, by the keyed hash.
    IndexCase(
        "memberpii_ssn_hmac_idx",
        lambda s: MemberPII.objects.filter(ssn_hmac=hashlib.sha256(f"ssn{s.member_id}".encode()).hexdigest()),
    ),
    IndexCase(
        "member_geo_active_idx",
        lambda s: (
            Member.objects.filter(is_active=True, state_code="TX")
            .values("city")
            .annotate(members=Count("city"))
            .order_by("city")
        ),
        node_type="Index Only Scan",
    ),
    IndexCase(
        "enrollment_active_member_idx",
        lambda s: (
            Enrollment.objects.filter(
                member_id=s.member_id, is_active=True, effective_date__lte=dt.date(2025, 6, 1)
            )
            .filter(Q(termination_date__isnull=True) | Q(termination_date__gte=dt.date(2025, 6, 1)))
            .values("plan_id", "effective_date", "termination_date")
            # Explicit: Meta.ordering's "member" would join members_member (see test_default_ordering_...).
            .order_by("-effective_date")
        ),
        node_type="Index Only Scan",
    ),
    # --- providers ---
    IndexCase("provider_name_trgm_idx", lambda s: Provider.objects.filter(search_name__icontains="clinic")),
    IndexCase(
        "provider_directory_idx",
        lambda s: (
            Provider.objects.filter(
                is_active=True,
                primary_specialty_id=s.directory_specialty_id,
                state_code="TX",
                city=s.directory_city,
            )
            .values("last_name", "first_name", "organization_name")
            .order_by("last_name", "first_name")
        ),
        node_type="Index Only Scan",
    ),
    IndexCase(
        "network_accepting_idx",
        lambda s: ProviderNetwork.objects.filter(plan_id=s.plan_id, accepting_new_patients=True).values(
            "provider_id"
        ),
    ),
    # --- claims ---
    IndexCase(
        "claim_work_queue_idx",
        lambda s: Claim.objects.filter(status__in=OPEN_STATUSES).order_by("received_at", "id")[:50],
    ),
    IndexCase("claim_received_idx", lambda s: Claim.objects.order_by("-received_at", "-id")[:50]),
    IndexCase(
        "claim_processed_idx",
        lambda s: Claim.objects.filter(processed_at__gte=Now() - dt.timedelta(hours=24)).values(
            "processed_at"
        ),
    ),
    IndexCase(
        "claim_status_received_idx",
        # A rare status (the admin filter's case: voided, replaced); for a common one walking
        # claim_received_idx and filtering is cheaper, and the planner rightly does that.
        lambda s: Claim.objects.filter(status="voided").order_by("-received_at", "-id")[:50],
    ),
    IndexCase(
        "claim_member_history_idx",
        lambda s: (
            Claim.objects.filter(member_id=s.member_id, service_date_from__range=(s.month, _end_of(s.month)))
            .values("service_date_from", "claim_number", "status", "total_charge", "total_paid")
            .order_by("-service_date_from")
        ),
        node_type="Index Only Scan",
    ),
    IndexCase("claim_diagnosis_gin_idx", lambda s: Claim.objects.filter(diagnosis_codes__contains=["E119"])),
    IndexCase(
        "claimnumber_billing_idx",
        lambda s: ClaimNumber.objects.filter(
            billing_provider_id=s.billing_provider_id, claim_number=s.claim_number
        ),
    ),
    IndexCase(
        "claimnumber_upper_idx",
        lambda s: ClaimNumber.objects.filter(claim_number__iexact=s.claim_number.lower()),
    ),
    IndexCase(
        "claim_billing_date_idx",
        lambda s: Claim.objects.filter(
            billing_provider_id=s.billing_provider_id,
            service_date_from__range=(s.month, s.month + dt.timedelta(days=13)),
        ),
    ),
    IndexCase(
        "claim_plan_date_idx",
        lambda s: Claim.objects.filter(
            health_plan_id=s.plan_id, service_date_from__range=(s.month, s.month + dt.timedelta(days=6))
        ),
    ),
    IndexCase("claim_batch_idx", lambda s: Claim.objects.filter(batch_id=s.batch_id)),
    # The lines of one claim by claim_id alone, as the claim page asks: every partition's index is probed (no
    # pruning without service_date_from). Ordered explicitly: Meta.ordering's "claim" joins claims_claim.
    IndexCase(
        "claimline_claim_idx",
        lambda s: ClaimLine.objects.filter(claim_id=s.claim_id).order_by("line_number"),
    ),
    IndexCase(
        "claimline_procedure_idx",
        lambda s: (
            ClaimLine.objects.filter(procedure_code="99100", service_date__range=(s.month, _end_of(s.month)))
            .values("service_date")
            .annotate(lines=Count("id"), charged=Sum("charge"))
            .order_by("service_date")
        ),
    ),
    IndexCase(
        "statushistory_claim_idx",
        lambda s: ClaimStatusHistory.objects.filter(claim_id=s.claim_id).order_by("changed_at", "id"),
    ),
    # A person's transitions (as deleting a user asks, to set them NULL); the partial index holds those rows only.
    IndexCase("statushistory_changed_by_idx", lambda s: ClaimStatusHistory.objects.filter(changed_by_id=1)),
    IndexCase(
        "statushistory_at_idx",
        lambda s: (
            ClaimStatusHistory.objects.filter(
                changed_at__gte=_at(s.month), changed_at__lt=_at(s.month + dt.timedelta(days=7))
            )
            .annotate(month=TruncMonth("changed_at"))
            .values("month", "from_status", "to_status")
            .annotate(transitions=Count("*"))
            .order_by()
        ),
        node_type="Index Only Scan",
    ),
    IndexCase("ingestbatch_started_idx", lambda s: IngestBatch.objects.all()[:50]),
    # --- adjudication and remittance ---
    IndexCase(
        "adjustment_claim_idx",
        lambda s: ClaimAdjustment.objects.filter(claim_id=s.claim_id).order_by("line_number"),
    ),
    IndexCase("adjudicationrun_started_idx", lambda s: AdjudicationRun.objects.all()[:50]),
    IndexCase(
        "remittance_payee_idx", lambda s: Remittance.objects.filter(payee_id=s.billing_provider_id)[:50]
    ),
    # --- the examiners' work queue (claims.admin.WorkQueueAdmin) ---
    IndexCase(
        "claim_pended_assignee_idx",
        lambda s: Claim.objects.filter(status="pended", assignee_id=QUEUE_EXAMINERS[1]).order_by(
            "received_at", "id"
        )[:100],
    ),
    IndexCase(
        "claim_pended_reason_idx",
        lambda s: Claim.objects.filter(status="pended", pend_reason="modifier_22").order_by(
            "received_at", "id"
        )[:100],
    ),
]


def declared_indexes() -> set[str]:
    """Every index declared in Meta.indexes, plus unique constraints with INCLUDE, in the three apps."""
    names: set[str] = set()
    for label in ("members", "providers", "claims"):
        for model in apps.get_app_config(label).get_models():
            names.update(index.name for index in model._meta.indexes)
            names.update(
                constraint.name
                for constraint in model._meta.constraints
                if isinstance(constraint, models.UniqueConstraint) and constraint.include
            )
    return names


def test_every_declared_index_has_a_case() -> None:
    assert sorted(case.index for case in CASES) == sorted(declared_indexes())


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.index)
def test_index_is_chosen_for_its_query(case: IndexCase, sample: Sample) -> None:
    plan = pgplan.explain_queryset(case.query(sample))

    assert pgplan.declared_index_names(plan) == {case.index}, pgplan.summary(plan)
    scans = pgplan.scans_of_index(plan, case.index)
    assert scans
    if case.node_type is not None:
        assert {node["Node Type"] for node in scans} == {case.node_type}, pgplan.summary(plan)


COVERING_CASES = [case for case in CASES if case.node_type == "Index Only Scan"]


@pytest.mark.django_db
@pytest.mark.parametrize("case", COVERING_CASES, ids=lambda case: case.index)
def test_covering_index_answers_without_reading_the_table(case: IndexCase, sample: Sample) -> None:
    """EXPLAIN ANALYZE runs the query: an index-only scan over a vacuumed table makes no heap fetches."""
    plan = pgplan.explain_queryset(case.query(sample), analyze=True)

    scans = pgplan.scans_of_index(plan, case.index)
    assert scans, pgplan.summary(plan)
    assert sum(node["Actual Rows"] for node in scans) > 0, "the query should find rows"
    assert [node["Heap Fetches"] for node in scans] == [0] * len(scans)


# Meta.ordering names the FK column (claim_id, member_id), not the relation: ordering by the relation would
# sort by the parent's Meta.ordering and join the parent (for claims, a probe of every claims_claim partition).
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "own_table"),
    [
        (lambda s: ClaimLine.objects.filter(claim_id=s.claim_id), "claims_claimline"),
        (lambda s: ClaimStatusHistory.objects.filter(claim_id=s.claim_id), "claims_claimstatushistory"),
        (lambda s: Enrollment.objects.filter(member_id=s.member_id), "members_enrollment"),
    ],
    ids=["claimline", "statushistory", "enrollment"],
)
def test_default_ordering_of_child_rows_reads_only_their_table(
    query: Callable[[Sample], models.QuerySet[Any]], own_table: str, sample: Sample
) -> None:
    plan = pgplan.explain_queryset(query(sample))

    assert pgplan.parent_table_names(plan) == {own_table}, pgplan.summary(plan)


# The work queue as the admin runs it: every statement its changelist sends to claims_claim (the page and the
# capped count), per filter, and the declared indexes its page may read the claims through. Oldest first, both
# claim_status_received_idx (status = 'pended', walked backwards) and claim_work_queue_idx give the order.
IN_RECEIVED_ORDER = {"claim_status_received_idx", "claim_work_queue_idx"}
QUEUE_PAGES: dict[str, tuple[dict[str, str], set[str]]] = {
    "oldest first": ({}, IN_RECEIVED_ORDER),
    "one examiner": ({"assignee": str(QUEUE_EXAMINERS[1])}, {"claim_pended_assignee_idx"}),
    "pend reason": ({"pend_reason": "modifier_22"}, {"claim_pended_reason_idx"}),
    "31 days or more": ({"age": "31+"}, IN_RECEIVED_ORDER),
}
# The count needs no order: any index holding the pended claims, read index-only.
COUNTED_BY = {*IN_RECEIVED_ORDER, "claim_pended_assignee_idx", "claim_pended_reason_idx"}
CLAIM_INDEXES = {index.name for index in Claim._meta.indexes}


def _nonempty_claim_partitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tableoid::regclass::text FROM claims_claim")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
@pytest.mark.parametrize("page", sorted(QUEUE_PAGES))
def test_work_queue_pages_read_claims_through_the_queue_indexes(
    page: str, sample: Sample, admin_client: Any
) -> None:
    params, allowed = QUEUE_PAGES[page]
    # The page joins the assignee's user (its name is a column), so the examiners must exist.
    get_user_model().objects.bulk_create(
        [get_user_model()(id=pk, username=f"queue-examiner-{pk}") for pk in QUEUE_EXAMINERS]
    )
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse("admin:claims_workqueueclaim_changelist"), params)
    assert response.status_code == 200 and response.context["cl"].result_list
    statements = [q["sql"] for q in queries.captured_queries if 'FROM "claims_claim"' in q["sql"]]
    assert len(statements) == 2, statements  # the capped count and the page

    for sql in statements:
        # The captured SQL has its values inlined: a LIKE's % must not be taken for a placeholder.
        plan = pgplan.explain_sql(sql.replace("%", "%%"))
        # The months with claims: an empty partition costs nothing whichever index reads it, and which one the
        # planner picks there depends on how many empty months earlier tests left (a reused test database).
        used = pgplan.declared_index_names_on(plan, _nonempty_claim_partitions()) & CLAIM_INDEXES
        assert used and used <= (COUNTED_BY if "COUNT(" in sql else allowed), pgplan.summary(plan)
        # Empty monthly partitions cost nothing to scan (module docstring); the months with claims must not be.
        assert not pgplan.seq_scanned_relations(plan) & _nonempty_claim_partitions(), pgplan.summary(plan)
