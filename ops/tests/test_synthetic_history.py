"""Synthetic data at scale (``ops.synthetic.history``, ``manage.py generate_demo_data``), at a tiny scale: counts,
partitions, money, statuses, foreign keys, statistics and determinism, on real PostgreSQL.

The generator commits (one transaction of its own, then VACUUM outside any), so the data is made once per module
with the test blocker lifted and emptied again afterwards; the read-only tests look at it inside their usual
rolled-back transactions. The determinism test makes its own runs (transactional).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.db import connection, connections, transaction

from claims.codes import icd10cm_problem
from claims.models import Claim, ClaimLine, ClaimStatus
from claims.services.lifecycle import months_holding
from members.models import HealthPlan, Member, MemberPII
from members.pii import ENCRYPTED_FIELDS, ssn_hmac
from ops.platform.partitioning import existing_partitions, partitions_ensure
from ops.synthetic.history import db as demo_db
from ops.synthetic.history.copy_text import copy_columns
from ops.synthetic.history.generate import TABLES, GenerationReport, demo_data_generate, service_window
from providers.models import Provider, Specialty

CLAIMS = 2000
SEED = 7
# A day long past, so the months' partitions are made (and dropped again) by these tests alone: ANALYZE leaves
# column statistics on a partition even after it is emptied, and other tests' plans (tests/test_indexes.py)
# assume none on the partitions they leave empty.
AS_OF = dt.date(2012, 7, 15)


def fetch(sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return list(cursor.fetchall())


def scalar(sql: str, params: list[object] | None = None) -> object:
    return fetch(sql, params)[0][0]


def foreign_key_catalog() -> set[tuple[object, ...]]:
    """Every foreign key of the database with its definition and validity, per-partition clones included.

    A key declared on a partitioned table has a clone per partition (same name) and, when it references a
    partitioned table, one per referenced partition, which PostgreSQL names itself (``..._fkey``, ``_fkey1``,
    ... in creation order): those are identified by the key they were cloned from instead of their own name.
    """
    return set(
        fetch(
            "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, pg_get_constraintdef(c.oid), "
            "c.convalidated, CASE WHEN c.conname = p.conname OR p.oid IS NULL THEN c.conname "
            "ELSE 'clone of ' || p.conname END "
            "FROM pg_constraint c LEFT JOIN pg_constraint p ON p.oid = c.conparentid WHERE c.contype = 'f'"
        )
    )


def index_catalog() -> set[tuple[object, ...]]:
    """Every index of the filled tables and of their partitions: table, name, definition, validity and the
    partitioned index it is attached to."""
    return set(
        fetch(
            "WITH RECURSIVE rel(oid) AS (SELECT unnest(%s::regclass[])::oid "
            "UNION ALL SELECT i.inhrelid FROM pg_inherits i JOIN rel ON i.inhparent = rel.oid) "
            "SELECT x.indrelid::regclass::text, x.indexrelid::regclass::text, pg_get_indexdef(x.indexrelid), "
            "x.indisvalid, x.indisunique, ih.inhparent::regclass::text "
            "FROM pg_index x LEFT JOIN pg_inherits ih ON ih.inhrelid = x.indexrelid "
            "WHERE x.indrelid IN (SELECT oid FROM rel)",
            [list(TABLES)],
        )
    )


def table_digests() -> dict[str, str]:
    """md5 over every row of each filled table, in primary-key order; for the member PII, over the decrypted
    values (each encryption is randomised, so the same identifiers never give the same ciphertext twice)."""
    digests = {}
    for table in TABLES:
        if table == MemberPII._meta.db_table:
            rows = MemberPII.objects.order_by("member_id").values_list(
                "member_id", *ENCRYPTED_FIELDS, "ssn_hmac"
            )
            digests[table] = hashlib.md5(repr(list(rows)).encode(), usedforsecurity=False).hexdigest()
            continue
        key = "claim_id" if table == "claims_claimnumber" else "id"
        digests[table] = str(scalar(f"SELECT md5(string_agg(t::text, '|' ORDER BY t.{key})) FROM {table} t"))
    return digests


def drop_window_partitions() -> None:
    """Empty the filled tables and detach and drop the monthly partitions of the test window."""
    with transaction.atomic(using="owner"):  # the owner's (TRUNCATE, DETACH, DROP)
        demo_db.truncate(TABLES, using="owner")
    first, last = service_window(AS_OF)
    with connections["owner"].cursor() as cursor:
        for parent in (
            ClaimLine._meta.db_table,
            Claim._meta.db_table,
        ):  # lines first: their keys reference claims
            present = existing_partitions(parent)
            month = first
            while month <= last:
                name = f"{parent}_{month:p%Y_%m}"
                if name in present:
                    cursor.execute(f"ALTER TABLE {parent} DETACH PARTITION {name}")
                    cursor.execute(f"DROP TABLE {name}")
                month += relativedelta(months=1)


@pytest.fixture(scope="module")
def generated(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, object]]:
    with django_db_blocker.unblock():
        drop_window_partitions()  # left behind by an interrupted run on a reused test database
        # The window's partitions first, so the snapshot includes their per-partition clones of the keys.
        first, last = service_window(AS_OF)
        partitions_ensure(group="claims", months=[first + relativedelta(months=k) for k in range(25)])
        before = foreign_key_catalog()
        indexes = index_catalog()
        try:
            report = demo_data_generate(claims=CLAIMS, seed=SEED, as_of=AS_OF)
            yield {"report": report, "foreign_keys_before": before, "indexes_before": indexes}
        finally:
            drop_window_partitions()


@pytest.fixture
def report(generated: dict[str, object], db: None) -> GenerationReport:
    value = generated["report"]
    assert isinstance(value, GenerationReport)
    return value


def test_counts_follow_the_requested_scale(report: GenerationReport) -> None:
    assert Claim.objects.count() == CLAIMS == report.rows["claims_claim"]
    assert Member.objects.count() == CLAIMS // 5 == MemberPII.objects.count()
    assert HealthPlan.objects.count() == 10
    assert Provider.objects.count() == max(20, CLAIMS // 50)
    assert Specialty.objects.count() >= 50
    lines = ClaimLine.objects.count()
    assert lines == report.rows["claims_claimline"]
    assert 2 <= lines / CLAIMS <= 4
    assert scalar("SELECT count(*) FROM claims_claimstatushistory") >= CLAIMS
    assert set(fetch("SELECT DISTINCT state_code FROM members_member")) > {("CA",), ("TX",)}


def test_lines_sit_in_their_claims_partition_and_nothing_lands_in_default(report: GenerationReport) -> None:
    joined = scalar(
        "SELECT count(*) FROM claims_claimline l JOIN claims_claim c "
        "ON c.id = l.claim_id AND c.service_date_from = l.service_date_from"
    )
    assert joined == ClaimLine.objects.count()
    # Same partition, by name: each line's table is its claim's table with "claimline" for "claim".
    mismatched = scalar(
        "SELECT count(*) FROM claims_claimline l JOIN claims_claim c "
        "ON c.id = l.claim_id AND c.service_date_from = l.service_date_from "
        "WHERE replace(l.tableoid::regclass::text, 'claimline', 'claim') <> c.tableoid::regclass::text"
    )
    assert mismatched == 0
    assert scalar("SELECT count(*) FROM claims_claim_default") == 0
    assert scalar("SELECT count(*) FROM claims_claimline_default") == 0
    assert report.default_partition_rows == 0
    outside = scalar(
        "SELECT count(*) FROM claims_claimline l JOIN claims_claim c "
        "ON c.id = l.claim_id AND c.service_date_from = l.service_date_from "
        "WHERE l.service_date < c.service_date_from OR l.service_date > c.service_date_to"
    )
    assert outside == 0
    first, last = (
        scalar("SELECT min(service_date_from) FROM claims_claim"),
        scalar("SELECT max(service_date_to) FROM claims_claim"),
    )
    assert report.first_service_date <= first and last <= AS_OF - dt.timedelta(days=1)  # type: ignore[operator]


def test_status_mix_looks_like_a_plan(report: GenerationReport) -> None:
    # The decisions are the adjudication engine's (ops/tests/test_synthetic_decisions.py checks each one).
    share = {
        status: n / CLAIMS for status, n in fetch("SELECT status, count(*) FROM claims_claim GROUP BY 1")
    }
    assert 0.80 <= share[ClaimStatus.APPROVED] <= 0.95
    assert 0.03 <= share[ClaimStatus.DENIED] <= 0.10
    assert 0.002 <= share[ClaimStatus.PENDED] <= 0.05
    assert share.get(ClaimStatus.REPLACED, 0) + share.get(ClaimStatus.VOIDED, 0) > 0
    assert report.outcomes == {status: round(s * CLAIMS) for status, s in share.items()}
    carcs = {
        code
        for (code,) in fetch("SELECT DISTINCT denial_reason_code FROM claims_claim WHERE status = 'denied'")
    }
    assert "" not in carcs and len(carcs) >= 5
    # The engine's (and ingest's) CARCs, and the examiners' after review.
    assert carcs <= {"16", "18", "26", "27", "29", "242", "50", "96", "97", "197", "252"}
    # Replacements and voids point at their original, which they replaced or voided once the engine decided
    # them (before that, the original is as it was).
    decided = "r.status NOT IN ('received', 'validated')"
    bad_links = scalar(
        "SELECT count(*) FROM claims_claim r JOIN claims_claim o "
        "ON o.id = r.related_claim_id AND o.service_date_from = r.related_service_date_from "
        f"WHERE ({decided} AND r.frequency_code = '7' AND o.status <> 'replaced') "
        f"OR ({decided} AND r.frequency_code = '8' AND o.status <> 'voided') "
        f"OR (NOT {decided} AND o.status IN ('replaced', 'voided')) "
        "OR o.claim_number <> r.claim_number"
    )
    assert bad_links == 0
    assert scalar("SELECT count(*) FROM claims_claim WHERE frequency_code = '8' AND status = 'voided'") > 0


def test_money_is_decimal_and_lines_add_up_to_their_claim(report: GenerationReport) -> None:
    claim = Claim.objects.filter(status=ClaimStatus.APPROVED, total_paid__gt=0).first()
    assert claim is not None
    assert isinstance(claim.total_charge, Decimal) and isinstance(claim.total_paid, Decimal)
    assert isinstance(claim.allowed, Decimal) and isinstance(claim.patient_responsibility, Decimal)
    line = claim.lines.first()
    assert line is not None and isinstance(line.paid, Decimal) and isinstance(line.rvus, Decimal)
    mismatched = scalar(
        "SELECT count(*) FROM claims_claim c JOIN ("
        "  SELECT claim_id, service_date_from, sum(paid) paid, sum(allowed) allowed, sum(charge) charge "
        "  FROM claims_claimline GROUP BY 1, 2"
        ") l ON l.claim_id = c.id AND l.service_date_from = c.service_date_from "
        "WHERE l.paid <> c.total_paid OR l.allowed <> c.allowed OR l.charge <> c.total_charge"
    )
    assert mismatched == 0
    # Nothing is paid on a claim that is denied, pended or not decided yet; a replaced or voided claim keeps
    # the decision it had (the 835 reverses its payment).
    assert scalar("SELECT count(*) FROM claims_claim WHERE status = 'denied' AND total_paid <> 0") == 0
    assert (
        scalar(
            "SELECT count(*) FROM claims_claim WHERE status IN ('denied', 'pended', 'received', 'validated') "
            "AND (total_paid <> 0 OR allowed <> 0 OR patient_responsibility <> 0)"
        )
        == 0
    )
    bad = scalar(
        "SELECT count(*) FROM claims_claimline WHERE NOT (0 <= paid AND paid <= allowed AND allowed <= charge)"
    )
    assert bad == 0
    # The plans pay a share of what is billed: neither nothing nor everything.
    paid, charged = fetch(
        "SELECT sum(total_paid), sum(total_charge) FROM claims_claim WHERE status = 'approved'"
    )[0]
    assert Decimal("0.2") <= paid / charged <= Decimal("0.7")  # type: ignore[operator]
    # Every CAS row belongs to a decided claim, and the accumulators hold what the engine spent.
    assert (
        scalar(
            "SELECT count(*) FROM claims_claimadjustment a WHERE NOT EXISTS (SELECT 1 FROM claims_claim c "
            "WHERE c.id = a.claim_id AND c.service_date_from = a.claim_service_date_from)"
        )
        == 0
    )
    assert report.rows["claims_claimadjustment"] == scalar("SELECT count(*) FROM claims_claimadjustment") > 0
    assert (
        report.rows["members_memberaccumulator"]
        == scalar("SELECT count(*) FROM members_memberaccumulator")
        > 0
    )


def test_claims_carry_billable_diagnoses_and_a_consistent_history(report: GenerationReport) -> None:
    codes = [code for (code,) in fetch("SELECT DISTINCT unnest(diagnosis_codes) FROM claims_claim")]
    assert all(re.fullmatch(r"[A-Z][0-9A-Z]{2,6}", code) for code in codes)  # stored without the dot
    assert (
        scalar("SELECT count(*) FROM claims_claim WHERE cardinality(diagnosis_codes) NOT BETWEEN 1 AND 4")
        == 0
    )
    # A few claims send their principal diagnosis as its category: the code problem is recorded as ingest
    # records it (claims.codes), and every other code is billable.
    problems = {
        tuple(diagnoses): tuple(errors)
        for diagnoses, errors in fetch(
            "SELECT diagnosis_codes, code_check_errors FROM claims_claim WHERE code_check_errors <> '{}'"
        )
    }
    assert 0 < len(problems) < CLAIMS * 0.03
    for diagnoses, errors in problems.items():
        assert errors == tuple(p for code in diagnoses if (p := icd10cm_problem(code)))
    flawed = {code for diagnoses in problems for code in diagnoses if icd10cm_problem(code)}
    assert [code for code in codes if icd10cm_problem(code) and code not in flawed] == []
    assert set(fetch("SELECT DISTINCT diagnosis_code_system FROM claims_claim")) == {("icd10cm",)}
    # History: starts at received from nothing, each step from the previous status, time strictly increasing,
    # and ends at the claim's status.
    broken = scalar(
        """
        SELECT count(*) FROM (
            SELECT h.claim_id, h.from_status, h.to_status, h.changed_at,
                   lag(h.to_status) OVER w AS previous, lag(h.changed_at) OVER w AS previous_at,
                   row_number() OVER w AS n
            FROM claims_claimstatushistory h WINDOW w AS (PARTITION BY h.claim_id ORDER BY h.id)
        ) s
        WHERE (n = 1 AND (from_status <> '' OR to_status <> 'received'))
           OR (n > 1 AND (from_status <> previous OR changed_at <= previous_at))
        """
    )
    assert broken == 0
    final_mismatch = scalar(
        "SELECT count(*) FROM claims_claim c JOIN LATERAL (SELECT to_status FROM claims_claimstatushistory h "
        "WHERE h.claim_id = c.id ORDER BY h.id DESC LIMIT 1) last ON true WHERE last.to_status <> c.status"
    )
    assert final_mismatch == 0
    midnight = dt.datetime.combine(AS_OF, dt.time(), dt.UTC)
    assert scalar("SELECT max(greatest(received_at, processed_at)) FROM claims_claim") < midnight  # type: ignore[operator]
    assert scalar("SELECT max(changed_at) FROM claims_claimstatushistory") < midnight  # type: ignore[operator]
    assert scalar("SELECT count(*) FROM claims_claim WHERE processed_at < received_at") == 0


def test_direct_identifiers_are_synthetic_by_construction(report: GenerationReport) -> None:
    # Stored encrypted, as the platform stores them (members/pii.py), with the SSN's keyed hash beside.
    stored = fetch("SELECT ssn, ssn_hmac FROM members_memberpii")
    assert stored and all(ssn.startswith("gAAAAA") and len(digest) == 64 for ssn, digest in stored)
    people = list(MemberPII.objects.values_list("ssn", "phone", "email", "ssn_hmac"))
    ssns = [ssn for ssn, _, _, _ in people]
    assert ssns and all(re.fullmatch(r"9\d\d-\d\d-\d{4}", ssn) for ssn in ssns)
    assert len(set(ssns)) == len(ssns)
    assert all(digest == ssn_hmac(ssn) for ssn, _, _, digest in people)
    phones = [phone for _, phone, _, _ in people if phone]
    assert phones and all(re.fullmatch(r"\d{3}-555-01\d\d", phone) for phone in phones)
    emails = [email for _, _, email, _ in people if email]
    assert emails and all(e.endswith(("@example.com", "@example.net", "@example.org")) for e in emails)
    assert scalar("SELECT count(*) FROM members_enrollment WHERE termination_date IS NOT NULL") > 0


def test_foreign_keys_come_back_as_found_and_tables_are_analyzed(
    generated: dict[str, object], report: GenerationReport
) -> None:
    assert foreign_key_catalog() == generated["foreign_keys_before"]
    # The indexes dropped for the load are back under their names and definitions, all valid and attached.
    assert index_catalog() == generated["indexes_before"]
    assert report.index_seconds and "claim_diagnosis_gin_idx" in report.index_seconds
    # The lines' keys to their claims are per month partition now (ops migration 0010), dropped for the load
    # and made again.
    line_keys = "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conname LIKE 'claims_claimline_%%_claim_fk'"
    line_partitions = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'claims_claimline'::regclass"
    assert scalar(line_keys, []) == scalar(line_partitions)
    assert f"claims_claimline_p{report.last_service_date:%Y_%m}_claim_fk" in {
        key.split(".")[1] for key in report.foreign_key_seconds
    }
    assert scalar("SELECT count(*) FROM claims_claimnumber") == scalar("SELECT count(*) FROM claims_claim")
    assert "claims_claim.claim_related_claim_fk" in report.foreign_key_seconds
    partition = f"claims_claim_p{report.last_service_date:%Y_%m}"
    analyzed, vacuumed = fetch(
        "SELECT last_analyze, last_vacuum FROM pg_stat_user_tables WHERE relname = %s", [partition]
    )[0]
    assert analyzed is not None and vacuumed is not None
    assert scalar("SELECT reltuples FROM pg_class WHERE relname = %s", [partition]) > 0  # type: ignore[operator]
    # Identity sequences continue after the copied ids.
    assert scalar("SELECT nextval(pg_get_serial_sequence('claims_claim', 'id'))") == CLAIMS + 1


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_same_seed_gives_identical_tables_rerun_replaces_and_another_seed_differs(
    generated: dict[str, object],
) -> None:
    demo_data_generate(claims=400, seed=11, as_of=AS_OF)
    first = table_digests()
    out = io.StringIO()
    call_command(
        "generate_demo_data", "--claims", "400", "--seed", "11", "--as-of", AS_OF.isoformat(), "--no-progress",
        stdout=out,
    )  # fmt: skip
    assert "rows in DEFAULT partitions: 0" in out.getvalue()
    assert Claim.objects.count() == 400  # replaced, not appended
    # Counted in their months as the lifecycle writer would have (the work queue reads the pended months).
    pended = Claim.objects.filter(status=ClaimStatus.PENDED).values_list("service_date_from", flat=True)
    assert months_holding([ClaimStatus.PENDED]) == sorted({day.replace(day=1) for day in pended})
    assert table_digests() == first
    # The claims' two parts are generated side by side (a forked child) or one after the other in one thread
    # (pipeline=False): the same rows either way.
    demo_data_generate(claims=400, seed=11, as_of=AS_OF, pipeline=False)
    assert table_digests() == first
    demo_data_generate(claims=400, seed=12, as_of=AS_OF)
    other = table_digests()
    assert other["claims_claim"] != first["claims_claim"]
    assert other["members_member"] != first["members_member"]
    # The reference code lists do not depend on the seed.
    assert other["providers_specialty"] == first["providers_specialty"]


def test_copy_columns_are_the_models_columns_without_generated_ones() -> None:
    # Whole rows: every concrete column in model order, except what PostgreSQL generates (COPY refuses it).
    assert copy_columns(Claim) == tuple(f.column for f in Claim._meta.concrete_fields)
    provider = copy_columns(Provider)
    assert "search_name" not in provider
    assert provider == tuple(f.column for f in Provider._meta.concrete_fields if f.name != "search_name")
    assert copy_columns(MemberPII)[0] == "member_id"  # the primary key is the member's id
