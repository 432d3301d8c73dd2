"""Load 837P files into the claim tables: one file, one database transaction.

``batch_ingest`` is the only entry point that writes. It works in two processes. A forked reader
(``claims.services.ingest_read``) tokenizes and maps the file 5,000 claims at a time, runs the code checks, takes
the claims' ids and formats their COPY text; this process, a chunk behind it, matches or creates the parties
(payers, providers, members), links duplicates, replacements and voids, and COPYs claims, lines and status history
inside the file's one transaction, then records the batch's counts and warnings. Either all of it commits or none:
a file that cannot be mapped, or that the database refuses, is recorded as a rejected ``IngestBatch`` naming the
segment position and element, and nothing else of it stays.

Matching rules (decisions, with their reasons):
* Payer: by payer id (2010BB NM109). Provider: by NPI (NM109 with XX). Both unique.
* Member: by (member id as sent in 2010BA NM109, upper-cased last and first name, date of birth). A member id is
  not a person: real files send one id for a whole family, and test files re-use ids for different people. A
  new person under a known id gets member number "<id>-2", "-3", ... so no claim is attached to the wrong
  person and no person is lost. A dependent (2000C) links to its subscriber.
* Exact duplicate: same billing provider, member, claim number (CLM01), service dates, total charge and line
  procedure codes and charges as a claim already on file (or earlier in the file). It is loaded and linked to
  the original; adjudication denies it with CARC 18 ("exact duplicate claim/service").
* Replacement (CLM05-3 = 7) and void (8): the latest claim with the same billing provider, claim number and
  member that is not replaced or voided is the original; the new claim links to it, and adjudication ends the
  original ("replaced" / "voided") when it decides the new claim. With no original on file the claim loads
  unlinked and a warning says so (adjudication pends it for an examiner).
Every claim loads as received (``claims.ingest_rules``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from claims.codes import icd10cm_sets_load
from claims.ingest_rules import Incoming, OnFile, decide, fingerprint, fingerprint_lines
from claims.models import (
    Claim,
    ClaimLine,
    ClaimNumber,
    ClaimRelation,
    ClaimStatus,
    ClaimStatusHistory,
    IngestBatch,
    IngestStatus,
)
from claims.services.follow_ups import batch_follow_ups_send
from claims.services.ingest_read import (
    LINE_COLUMNS,
    LOADER_CLAIM_COLUMNS,
    NEXTVAL_SQL,
    READ_CLAIM_COLUMNS,
    PartyRow,
    PersonKey,
    ReadChunk,
    ReadClaim,
    ReadEnd,
    ReadSetup,
    chunks_read,
    column_types,
    internal_error,
)
from claims.services.lifecycle import HISTORY_COLUMNS, StatusConflict, month_counts_loaded
from claims.x12.errors import Finding, X12Error
from claims.x12.parser837 import Party
from members.models import Gender, HealthPlan, Member, MemberPII, PlanType
from members.pii import PII_COPY_COLUMNS, pii_copy_row
from ops.platform import locks
from ops.platform.partitioning import month_start, partitions_drop_empty, partitions_ensure
from ops.platform.workers import ForkedStream
from providers.models import EntityType, Provider, Specialty
from providers.npi import npi_is_valid

logger = logging.getLogger(__name__)

CLAIM_TABLE = Claim._meta.db_table
NUMBER_TABLE = ClaimNumber._meta.db_table
MEMBER_TABLE = Member._meta.db_table
LINE_TABLE = ClaimLine._meta.db_table
INGEST_LOCK = "claims.ingest"
# A file waits this long for the ingest before it (a 100,000-claim file loads in under a minute here).
INGEST_LOCK_TIMEOUT = "10min"
# How long a file waits for the ingest before it, in seconds (a 1,000,000-claim file loads in a few minutes).
INGEST_LOCK_WAIT_S = 1800
_PLAN_TYPES = {choice.value for choice in PlanType}
_GENDERS = {choice.value for choice in Gender}


@dataclass
class IngestResult:
    """What one file did. ``created`` is False when the same bytes were ingested before (nothing written)."""

    batch: IngestBatch
    created: bool
    claims: int = 0
    lines: int = 0
    total_charge: Decimal = Decimal("0")
    warnings: int = 0
    duplicates: int = 0
    error: str = ""

    @property
    def rejected(self) -> bool:
        return self.batch.status == IngestStatus.REJECTED


@dataclass
class _ClaimRow:
    """A claim read by the reader with the ids the loader matched and its duplicate / replacement / void link."""

    read: ReadClaim
    member_id: int
    plan_id: int
    billing_id: int
    rendering_id: int | None
    related: tuple[int, dt.date] | None = None
    relation: str = ""


@dataclass(frozen=True)
class FileScan:
    """One read of a file before it is parsed: its sha256 (hex), size in bytes, and the months of service it names.

    ``months`` are the first days of the months of every DTP*472 date (2400 loop) that is a real month between
    1900 and two years ahead: the partitions the file's claims need. A superset is harmless (an empty partition
    made for it is dropped again); a claim whose month is missing is caught while loading.
    """

    sha256: str
    size: int
    months: frozenset[dt.date]


# DTP*472*D8*CCYYMMDD or DTP*472*RD8*CCYYMMDD-CCYYMMDD (005010X222A1 2400 DTP, Date - Service Date): the element
# separator is whatever the ISA declared, so it is matched as "the byte after DTP" and required again after 472.
_SERVICE_DATE = re.compile(rb"DTP([^A-Za-z0-9\s])472\1R?D8\1(\d{4})(\d{2})")
_SCAN_BYTES = 1 << 22


def file_scan(path: Path, *, today: dt.date | None = None) -> FileScan:
    """sha256, size and months of service of the file at ``path``, reading it 4 MiB at a time (memory stays flat).

    Raises ``OSError`` when the file cannot be read.
    """
    today = today or timezone.now().date()
    digest = hashlib.sha256()
    months: set[tuple[bytes, bytes]] = set()
    size = 0
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(_SCAN_BYTES):
            digest.update(chunk)
            size += len(chunk)
            # A date cut by the chunk boundary is found in the overlap with the previous chunk's end.
            window = tail + chunk
            months.update((m.group(2), m.group(3)) for m in _SERVICE_DATE.finditer(window))
            tail = window[-64:]
    last = today.year + 2
    found = frozenset(
        dt.date(int(y), int(m), 1) for y, m in months if 1900 <= int(y) <= last and 1 <= int(m) <= 12
    )
    return FileScan(digest.hexdigest(), size, found)


ProgressCallback = Callable[[int, int], None]
# Claims mapped, matched and written per round trip: big enough that per-statement costs vanish, small enough that
# memory stays flat (a claim with its parties is a few KB in Python).
CHUNK_CLAIMS = 5000


def batch_ingest(
    *,
    path: Path,
    display_name: str | None = None,
    progress: ProgressCallback | None = None,
    chunk_claims: int = CHUNK_CLAIMS,
) -> IngestResult:
    """Ingest one 837P file, streaming: claims are read, matched and COPYed ``chunk_claims`` at a time.

    Memory stays flat whatever the file's size. The file is one transaction: all of it commits or none.
    ``progress(done, total)`` is called in bytes of the file after each chunk.

    Returns an ``IngestResult``. Whatever goes wrong with the file itself (it cannot be mapped, a value does not fit
    the schema, the database refuses a row, or a defect of ours while reading it) gives a result whose
    ``batch.status`` is "rejected" and whose ``error`` names the file, segment position and element, never a value;
    nothing else stays written, the partitions made for the file included. The same bytes ingested again (sha256)
    write nothing and return ``created=False``; a previously rejected file is tried again.
    Raises ``OSError`` when the file cannot be read, and ``LockTimeout`` when another ingest held the ingest lock
    for ``INGEST_LOCK_WAIT_S`` (nothing written: ingest it again).
    """
    name = display_name or str(path)
    scan = file_scan(path)
    existing = _batch_of(scan.sha256)
    if existing is not None and existing.status != IngestStatus.REJECTED:
        return IngestResult(batch=existing, created=False)
    # One ingest at a time, from the partitions it makes to its commit or their removal: party matching reads then
    # creates, and a failed file's partitions can be dropped only if no other file put rows in them meanwhile.
    with locks.session_lock(INGEST_LOCK, wait_s=INGEST_LOCK_WAIT_S) as acquired:
        if not acquired:
            raise locks.LockTimeout(INGEST_LOCK, f"{INGEST_LOCK_WAIT_S}s")
        created: list[str] = []
        at = _Place()
        try:
            # DDL in its own short transactions, before the data transaction: a claim never falls into DEFAULT.
            created = partitions_ensure(group=Claim.partition_group, months=scan.months)
            with transaction.atomic():
                result = _load(path, at, name=name, scan=scan, progress=progress, chunk_claims=chunk_claims)
                if not result.created:
                    return result
                batch_id = result.batch.id
                # Analytics refresh and fresh planner statistics, once the claims are committed (settings
                # CLAIMS_BATCH_FOLLOW_UPS names the tasks; claims never imports the apps that run them).
                transaction.on_commit(lambda: batch_follow_ups_send(event="loaded", batch_id=batch_id))
            _past_empty_partitions_drop(created)
            return result
        except (locks.LockTimeout, StatusConflict):
            raise  # not the file's fault: another writer got there first; nothing of it was written
        except Exception as exc:  # noqa: BLE001 - every other failure rejects the file, with its place
            error = _as_x12_error(exc, name=name, position=at.position)
            # The message can quote element values (PHI); the log gets the place only.
            where = error.finding
            logger.warning(
                "ingest rejected file %s at segment %s (%s) element %s",
                name,
                where.position,
                where.segment,
                where.element,
            )
            dropped = partitions_drop_empty(group=Claim.partition_group, names=created)
            if dropped:
                logger.info("ingest of %s failed: dropped the %s partitions made for it", name, len(dropped))
            return _record_rejection(name=name, sha=scan.sha256, size=scan.size, error=error)


def _past_empty_partitions_drop(created: list[str]) -> None:
    """After a load committed: drop the past-month partitions it made that stayed empty.

    The scan finds every line's month, but a claim's month is its first line's, so a month named only by a later
    line gets no claim; left behind, retention would meet it. Months from this one on are the rollover's to keep.
    A failure here is logged, never raised: the file is loaded.
    """
    this_month = month_start(timezone.now().date())
    past = [n for n in created if _partition_month(n) < this_month]
    try:
        partitions_drop_empty(group=Claim.partition_group, names=past)
    except (DatabaseError, locks.LockTimeout) as exc:
        logger.warning(
            "empty partitions made by ingest kept (%s); retention will archive them", type(exc).__name__
        )


def _partition_month(name: str) -> dt.date:
    """``claims_claim_p2026_02`` -> 2026-02-01."""
    year, month = name.rsplit("_p", 1)[1].split("_")
    return dt.date(int(year), int(month), 1)


def _as_x12_error(exc: Exception, *, name: str, position: int) -> X12Error:
    """The failure as an ``X12Error`` naming a place in the file, never an element value.

    ``X12Error`` is the parser's or the loader's own; a database error already mapped to its row by ``_copy``
    arrives as ``X12Error`` too. Anything else is a defect of ours: logged with its type and code location only
    (an exception's message may quote a value) and reported at the last segment read.
    """
    if isinstance(exc, X12Error):
        return exc
    if isinstance(exc, psycopg.Error):  # from a cursor of psycopg's own (server-side binding), not Django's
        wrapped = DatabaseError(type(exc).__name__)
        wrapped.__cause__ = exc
        exc = wrapped
    if isinstance(exc, DatabaseError):
        return X12Error(Finding(position, "", "", _database_refusal(exc)), name)
    return internal_error(exc, name=name, position=position)


# SQLSTATE classes (PostgreSQL docs, Appendix A "PostgreSQL Error Codes") said in words: PostgreSQL's own messages
# can quote the value ("invalid input syntax for type date: ..."), which may be PHI.
_SQLSTATE_WORDS = {
    "22001": "value longer than the column allows",
    "22003": "number out of range for the column",
    "22007": "not a valid date or time",
    "22008": "date or time out of range",
    "22P02": "not valid for the column's type",
    "23502": "required value missing",
    "23503": "refers to a row that does not exist",
    "23505": "duplicates a unique key",
    "23514": "breaks a check constraint",
}


def _database_refusal(exc: DatabaseError) -> str:
    cause = exc.__cause__ if isinstance(exc.__cause__, psycopg.Error) else None
    state = getattr(cause, "sqlstate", None) or ""
    diag = cause.diag if cause is not None else None
    words = _SQLSTATE_WORDS.get(state, "refused")
    constraint = f" ({diag.constraint_name})" if diag is not None and diag.constraint_name else ""
    return f"the database refused the file: {words}{constraint} [SQLSTATE {state or 'unknown'}]"


def _batch_of(sha: str) -> IngestBatch | None:
    """The batch of the file with this sha256, if one was ever ingested (loaded or rejected)."""
    return IngestBatch.objects.filter(sha256=sha).first()


def _record_rejection(*, name: str, sha: str, size: int, error: X12Error) -> IngestResult:
    now = timezone.now()
    with transaction.atomic():
        # Under the ingest lock and read again, like a load: the same bad file rejected twice at once is one row.
        locks.xact_lock(INGEST_LOCK, timeout=INGEST_LOCK_TIMEOUT)
        batch = _batch_of(sha) or IngestBatch(sha256=sha)
        if batch.pk is not None and batch.status != IngestStatus.REJECTED:
            return IngestResult(batch=batch, created=False)
        batch.file_name = name
        batch.size_bytes = size
        batch.status = IngestStatus.REJECTED
        batch.errors = [error.finding.as_dict()]
        batch.warnings = []
        batch.warning_count = 0
        batch.claim_count = batch.line_count = 0
        batch.total_charge = Decimal("0")
        batch.finished_at = now
        batch.save()
    return IngestResult(batch=batch, created=True, error=str(error))


@dataclass
class _Place:
    """The last segment position the load has seen (for reporting a failure outside the reader)."""

    position: int = 0


def _connect_params() -> dict[str, object]:
    """psycopg keywords for a new connection to this database as this role (the reader's own)."""
    params = connection.get_connection_params()
    return {k: v for k, v in params.items() if k not in ("cursor_factory", "context", "prepare_threshold")}


def _load(
    path: Path,
    at: _Place,
    *,
    name: str,
    scan: FileScan,
    progress: ProgressCallback | None,
    chunk_claims: int,
) -> IngestResult:
    # Read again under the lock: the check at the top ran before it, so a second ingest of the same bytes
    # started at the same time passed it too, and would collide on the sha256 once the first committed.
    locks.xact_lock(INGEST_LOCK, timeout=INGEST_LOCK_TIMEOUT)
    with connection.cursor() as cursor:
        # The per-chunk lookups are small but planned over every month partition, so their cost estimate passes
        # jit_above_cost: JIT compiled each one again for 0.1-2 s, more than the lookup itself.
        cursor.execute("SET LOCAL jit = off")
    existing = _batch_of(scan.sha256)
    if existing is not None and existing.status != IngestStatus.REJECTED:
        return IngestResult(batch=existing, created=False)
    now = timezone.now()
    batch = existing or IngestBatch(sha256=scan.sha256)
    batch.file_name = name
    batch.size_bytes = scan.size
    batch.status = IngestStatus.PROCESSING
    batch.errors = []
    batch.save()

    link_warnings: list[Finding] = []
    claims = lines = duplicates = 0
    total = Decimal("0")
    end: ReadEnd | None = None
    # The reader forks from here: loaded once in this process, the code sets are the child's without a reload.
    icd10cm_sets_load()
    received = ClaimStatus.RECEIVED.value
    setup = ReadSetup(path, name, scan.months, batch.id, now, chunk_claims, _connect_params())
    # The file is read, mapped and formatted in a child process, a chunk ahead of this one (ingest_read).
    with ForkedStream[ReadChunk | ReadEnd](chunks_read, setup, name="ingest-read") as reader:
        for item in reader:
            if isinstance(item, ReadEnd):
                end = item
                break
            at.position = item.last_position
            rows = _chunk_rows(item)
            # Claims of earlier chunks are on file by now (this transaction), so matching across chunks is exact.
            _link_related(rows, link_warnings)
            _copy_claims(item, rows, name=name)
            _copy(
                NUMBER_TABLE,
                _NUMBER_COLUMNS,
                ((r.read.id, r.read.service_date_from, r.billing_id, r.read.claim_number) for r in rows),
            )
            _copy_text(
                LINE_TABLE,
                LINE_COLUMNS,
                item.lines_text,
                places=[(p, "LX") for p in item.line_positions],
                name=name,
            )
            _copy_text(ClaimStatusHistory._meta.db_table, HISTORY_COLUMNS, item.history_text)
            # The months holding received claims, for the lists and jobs that prune by them (one writer: lifecycle).
            month_counts_loaded(Counter((received, r.read.service_date_from.replace(day=1)) for r in rows))
            claims += len(rows)
            lines += len(item.line_positions)
            total += sum((r.read.total_charge for r in rows), Decimal("0"))
            duplicates += sum(1 for r in rows if r.relation == ClaimRelation.DUPLICATE_OF)
            if progress is not None:
                progress(min(item.bytes_read, scan.size), scan.size)
            # With DEBUG on, Django keeps the last 9,000 statements with their parameters (a chunk's member lookup
            # carries thousands of ids): ~28 MB over a 1,000,000-claim file, the only thing that grew with it.
            connection.queries_log.clear()
    assert end is not None  # the reader ends with a ReadEnd or raises
    at.position = end.last_position
    # Deferred constraints are checked here, inside the load, so a refusal is reported like any other.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    warnings = [*end.warnings, *link_warnings]
    batch.interchange_count = end.interchange_count
    batch.transaction_count = end.transaction_count
    batch.claim_count = claims
    batch.line_count = lines
    batch.total_charge = total
    batch.warnings = [w.as_dict() for w in warnings]
    batch.warning_count = len(warnings)
    batch.status = IngestStatus.LOADED_WITH_WARNINGS if warnings else IngestStatus.LOADED
    batch.finished_at = timezone.now()
    batch.save()
    logger.debug(
        "ingested batch %s: %s claims, %s lines, %s warnings; reader peak RSS %s KiB",
        batch.id,
        claims,
        lines,
        len(warnings),
        end.peak_rss_kib,
    )
    return IngestResult(
        batch=batch,
        created=True,
        claims=claims,
        lines=lines,
        total_charge=total,
        warnings=len(warnings),
        duplicates=duplicates,
    )


def _chunk_rows(chunk: ReadChunk) -> list[_ClaimRow]:
    """The chunk's claims with their parties matched or created."""
    plans = _resolve_plans(chunk.payers)
    providers = _resolve_providers(chunk.providers)
    members = _resolve_members(chunk.subscribers, chunk.dependents)
    rows = []
    for c in chunk.claims:
        rows.append(
            _ClaimRow(
                read=c,
                member_id=members[c.person],
                plan_id=plans[c.payer],
                billing_id=providers[c.billing_npi],
                rendering_id=providers[c.rendering_npi] if c.rendering_npi else None,
            )
        )
    return rows


# -- parties ----------------------------------------------------------------------------------------------------
def _resolve_plans(wanted: dict[str, tuple[str, str]]) -> dict[str, int]:
    """Health plan id per payer id (2010BB NM109), creating the plans not on file from (name, plan type)."""
    found = dict(HealthPlan.objects.filter(payer_id__in=wanted).values_list("payer_id", "id"))
    missing = [
        HealthPlan(payer_id=pid, name=name[:120], plan_type=ptype)
        for pid, (name, ptype) in wanted.items()
        if pid not in found
    ]
    for plan in HealthPlan.objects.bulk_create(missing):
        found[plan.payer_id] = plan.id
    return found


def _resolve_providers(rows: dict[str, PartyRow]) -> dict[str, int]:
    """Provider id per NPI, creating the providers not on file (and their NUCC taxonomy specialties)."""
    for npi, row in rows.items():
        if len(npi) > 10:
            raise X12Error(Finding(Party(*row).position, "NM1", "NM109", "NPI is longer than 10 characters"))
    found = dict(Provider.objects.filter(npi__in=rows).values_list("npi", "id"))
    missing = {npi: Party(*row) for npi, row in rows.items() if npi not in found}
    taxonomies = {p.taxonomy_code for p in missing.values() if p.taxonomy_code}
    specialties = dict(
        Specialty.objects.filter(taxonomy_code__in=taxonomies).values_list("taxonomy_code", "id")
    )
    new_specialties = [
        Specialty(taxonomy_code=code[:10], name=f"NUCC taxonomy {code}")
        for code in sorted(taxonomies - specialties.keys())
    ]
    for s in Specialty.objects.bulk_create(new_specialties):
        specialties[s.taxonomy_code] = s.id
    new = []
    for npi, p in missing.items():
        person = p.entity_type == EntityType.PERSON
        new.append(
            Provider(
                npi=npi,
                npi_valid=npi_is_valid(npi),
                entity_type=EntityType.PERSON if person else EntityType.ORGANIZATION,
                last_name=p.last_or_org_name[:60] if person else "",
                first_name=p.first_name[:35] if person else "",
                organization_name="" if person else p.last_or_org_name[:60],
                primary_specialty_id=specialties.get(p.taxonomy_code),
                state_code=p.state_code,
                city=p.city[:60],
                zip_code=p.zip_code,
                address_line1=p.address_line1[:55],
                tax_id=p.tax_id if len(p.tax_id) == 9 and p.tax_id.isdigit() else "",
            )
        )
    for provider in Provider.objects.bulk_create(new):
        found[provider.npi] = provider.id
    return found


_PersonKey = PersonKey


def _resolve_members(
    subscribers: dict[_PersonKey, PartyRow], dependents: dict[_PersonKey, tuple[PartyRow, _PersonKey, str]]
) -> dict[_PersonKey, int]:
    """Member id for every subscriber and patient of a chunk, creating the people not on file.

    ``dependents`` maps a patient's key to (its party, its subscriber's key, PAT01 relationship code).
    """
    identifiers = {key[0] for key in subscribers}
    found: dict[_PersonKey, int] = {}
    taken: set[str] = set()
    # One array parameter, not an IN list of thousands (Django builds, binds and, with DEBUG, formats every
    # placeholder), and one index probe per id (OFFSET 0 keeps the LATERAL a probe): when ids recur across files
    # the planner estimates many matches and reads the whole members table instead, 50 ms a chunk at 580,000.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT m.id, m.member_number, m.subscriber_identifier, m.last_name, m.first_name, m.date_of_birth
            FROM unnest({_TEXTS}) AS k(identifier)
            CROSS JOIN LATERAL (
                SELECT * FROM {MEMBER_TABLE} m WHERE m.subscriber_identifier = k.identifier OFFSET 0
            ) m
            """,
            [_joined(identifiers)],
        )
        for member_id, number, identifier, last, first, born in cursor.fetchall():
            found.setdefault((identifier, last.upper(), first.upper(), born), member_id)
            taken.add(number)
        # Numbers equal to an incoming id may belong to members filed under another id.
        cursor.execute(
            f"""
            SELECT m.member_number FROM unnest({_TEXTS}) AS k(number)
            CROSS JOIN LATERAL (
                SELECT member_number FROM {MEMBER_TABLE} m WHERE m.member_number = k.number OFFSET 0
            ) m
            """,
            [_joined(identifiers)],
        )
        taken.update(number for (number,) in cursor.fetchall())

    def number_for(identifier: str) -> str:
        base = identifier[:74]
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate)
        return candidate

    alias = _same_person_aliases([*subscribers, *dependents], found)
    canonical_subs: dict[_PersonKey, PartyRow] = {}
    for key, party in subscribers.items():
        if alias[key] == key or alias[key] not in canonical_subs:
            canonical_subs[alias[key]] = party
    canonical_deps = {
        alias[key]: (party, alias[sub_key], rel) for key, (party, sub_key, rel) in dependents.items()
    }
    # Subscribers first: dependents need their subscriber's id. COPY, not bulk_create: at 100,000 claims a
    # file brings tens of thousands of new people, and the ORM's INSERT ... RETURNING dominated the load.
    new_subs = [(key, Party(*row), "18", None) for key, row in canonical_subs.items() if key not in found]
    _copy_members(new_subs, found, number_for)
    new_deps = [
        (key, Party(*row), rel or "G8", sub_key)
        for key, (row, sub_key, rel) in canonical_deps.items()
        if key not in found
    ]
    _copy_members(new_deps, found, number_for)
    for key, target in alias.items():
        found[key] = found[target]
    return found


def _same_person_aliases(
    keys: list[_PersonKey], on_file: dict[_PersonKey, int]
) -> dict[_PersonKey, _PersonKey]:
    """Map each person key to the key that identifies the same person.

    2010BA DMG (date of birth) is sent only when the subscriber is the patient (005010X222A1 2010BA DMG
    situational rule), so one subscriber arrives with a date of birth on their own claims and without one on
    their dependents' claims. A key without a date of birth is the same person as a key with the same member id
    and names that has one (on file first, then in the file); a dated key matches an undated member on file.
    """
    dated: dict[tuple[str, str, str], _PersonKey] = {}
    undated_on_file: dict[tuple[str, str, str], _PersonKey] = {}
    for key in [*on_file, *keys]:
        if key[3] is not None:
            dated.setdefault(key[:3], key)
        elif key in on_file:
            undated_on_file.setdefault(key[:3], key)
    alias: dict[_PersonKey, _PersonKey] = {}
    for key in keys:
        if key[3] is None and key[:3] in dated:
            alias[key] = dated[key[:3]]
        elif key[3] is not None and key not in on_file and key[:3] in undated_on_file:
            alias[key] = undated_on_file[key[:3]]
        else:
            alias[key] = key
    return alias


_MEMBER_COLUMNS = (
    "id",
    "member_number",
    "subscriber_identifier",
    "relationship_code",
    "subscriber_id",
    "first_name",
    "last_name",
    "date_of_birth",
    "gender",
    "state_code",
    "city",
    "zip_code",
    "is_active",
    "created_at",
)


def _copy_members(
    people: Sequence[tuple[_PersonKey, Party, str, _PersonKey | None]],
    found: dict[_PersonKey, int],
    number_for: Callable[[str], str],
) -> None:
    """Write new members and their PII with COPY; record each new id in ``found``."""
    if not people:
        return
    ids = _allocate_ids(Member._meta.db_table, len(people))
    now = timezone.now()
    members = []
    pii = []
    for (key, party, relationship, sub_key), member_id in zip(people, ids, strict=True):
        found[key] = member_id
        members.append(
            (
                member_id,
                number_for(key[0]),
                key[0],
                relationship[:2],
                found[sub_key] if sub_key is not None else None,
                party.first_name[:60],
                party.last_or_org_name[:60],
                party.date_of_birth,
                party.gender if party.gender in _GENDERS else Gender.UNKNOWN,
                party.state_code,
                party.city[:60],
                party.zip_code,
                True,
                now,
            )
        )
        # Encrypted before the COPY (members/pii.py): the file's address lines are direct identifiers.
        pii.append(pii_copy_row(member_id, party.address_line1[:55], party.address_line2[:55], "", "", ""))
    _copy(Member._meta.db_table, _MEMBER_COLUMNS, members)
    _copy(MemberPII._meta.db_table, PII_COPY_COLUMNS, pii)


# -- claims -----------------------------------------------------------------------------------------------------
def _allocate_ids(table: str, n: int) -> list[int]:
    if n == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(NEXTVAL_SQL, [table, n])
        return [r[0] for r in cursor.fetchall()]


# Long lists of keys go to the server as one text parameter, split there: psycopg dumps a list parameter item by
# item in Python (a chunk's 5,000 member ids and claim numbers were ~8 % of the loading process's time). The
# separator is US (0x1F, X12's own "unit separator"): the parser refuses control characters in every element.
_SEPARATOR = "\x1f"
_TEXTS = "string_to_array(%s, chr(31))"
_BIGINTS = "string_to_array(%s, chr(31))::bigint[]"


def _joined(values: Iterable[str]) -> str:
    """``values`` as one parameter for ``_TEXTS`` / ``_BIGINTS``.

    Raises ``ValueError`` when one is empty or holds 0x1F (it would not come back as sent).
    """
    items = list(values)
    text = _SEPARATOR.join(items)
    if items and (text.count(_SEPARATOR) != len(items) - 1 or not all(items)):
        raise ValueError("an empty key, or one holding the separator")
    return text


def claims_on_file(keys: set[tuple[int, str]]) -> list[OnFile]:
    """Claims stored with one of the (billing provider id, claim number) pairs, oldest first, as ``OnFile``.

    Found through ``ClaimNumber`` (one index probe per pair), then each claim by (id, month): the claims table
    alone would be probed in every month partition for every pair.

    Lines are aggregated by ``line_number, id``: the order ``ingest_rules.fingerprint`` puts a file's lines in.
    """
    if not keys:
        return []
    # Two statements, each a probe per row whatever the statistics say (OFFSET 0 keeps the LATERAL a probe):
    # ingest adds lookup rows faster than ANALYZE sees them, and one joined statement planned for an "empty"
    # lookup table merge-joined every claim line on file, for every chunk.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT n.claim_id, n.service_date_from
            FROM unnest({_BIGINTS}, {_TEXTS}) AS k(billing_provider_id, claim_number)
            CROSS JOIN LATERAL (
                SELECT claim_id, service_date_from FROM {NUMBER_TABLE} n
                WHERE n.billing_provider_id = k.billing_provider_id AND n.claim_number = k.claim_number OFFSET 0
            ) n
            """,
            [_joined(str(k[0]) for k in keys), _joined(k[1] for k in keys)],
        )
        found = cursor.fetchall()
    if not found:
        return []
    # The months as a literal list beside the join (a date[] parameter, not an expression of one): PostgreSQL
    # then prunes both tables to those months when it plans. The join alone prunes only at run time, after
    # planning and locking every month partition of both tables for every chunk (2,502 locks at 120 months).
    months = sorted({sdf for _, sdf in found})
    sql = f"""
        SELECT c.id, c.service_date_from, c.service_date_to, c.member_id, c.billing_provider_id, c.claim_number,
               c.total_charge, c.status, c.frequency_code, c.relation, l.line_numbers, l.procedures, l.charges
        FROM unnest({_BIGINTS}, string_to_array(%s, ',')::date[]) AS k(id, service_date_from)
        CROSS JOIN LATERAL (
            SELECT * FROM {CLAIM_TABLE} c
            WHERE c.id = k.id AND c.service_date_from = k.service_date_from AND c.service_date_from = ANY(%s::date[])
            OFFSET 0
        ) c
        CROSS JOIN LATERAL (
            SELECT COALESCE(array_agg(l.line_number ORDER BY l.line_number, l.id), '{{}}') AS line_numbers,
                   COALESCE(array_agg(l.procedure_code ORDER BY l.line_number, l.id), '{{}}') AS procedures,
                   COALESCE(array_agg(l.charge ORDER BY l.line_number, l.id), '{{}}') AS charges
            FROM {LINE_TABLE} l
            WHERE l.claim_id = c.id AND l.service_date_from = c.service_date_from
              AND l.service_date_from = ANY(%s::date[])
        ) l
        ORDER BY c.received_at, c.id
    """
    params: list[Any] = [
        _joined(str(f[0]) for f in found),
        ",".join(f[1].isoformat() for f in found),
        months,
        months,
    ]
    out = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for (
            cid,
            sdf,
            sdt,
            member_id,
            billing_id,
            number,
            total,
            status,
            freq,
            relation,
            nums,
            procs,
            charges,
        ) in cursor:
            fp = fingerprint(
                billing_provider_id=billing_id,
                member_id=member_id,
                claim_number=number,
                service_date_from=sdf,
                service_date_to=sdt,
                total_charge=total,
                lines=fingerprint_lines(zip(nums, procs, charges, strict=True)),
            )
            out.append(OnFile(cid, sdf, status, freq, relation, fp))
    return out


def _link_related(rows: list[_ClaimRow], warnings: list[Finding]) -> None:
    """Link the file's rows to the claims they duplicate, replace or void (``ingest_rules.decide``); the
    adjudication engine decides what each link means."""
    incoming = [
        Incoming(
            id=row.read.id,
            service_date_from=row.read.service_date_from,
            frequency_code=row.read.frequency_code,
            position=row.read.position,
            fingerprint=fingerprint(
                billing_provider_id=row.billing_id,
                member_id=row.member_id,
                claim_number=row.read.claim_number,
                service_date_from=row.read.service_date_from,
                service_date_to=row.read.service_date_to,
                total_charge=row.read.total_charge,
                lines=row.read.line_part,
            ),
        )
        for row in rows
    ]
    decisions = decide(incoming, claims_on_file({(r.billing_id, r.read.claim_number) for r in rows}))
    for row, decision in zip(rows, decisions.claims, strict=True):
        row.related = decision.related
        row.relation = decision.relation
    warnings.extend(decisions.warnings)


_CLAIM_COLUMNS = READ_CLAIM_COLUMNS + LOADER_CLAIM_COLUMNS


# The X12 element each loaded column comes from (005010X222A1), to name it when the database refuses a value.
_COLUMN_ELEMENTS = {
    "claim_number": "CLM01",
    "total_charge": "CLM02",
    "place_of_service": "CLM05-1",
    "frequency_code": "CLM05-3",
    "diagnosis_codes": "HI",
    "payer_claim_control_number": "REF02",
    "service_date_from": "DTP03",
    "service_date_to": "DTP03",
    "service_date": "DTP03",
    "procedure_qualifier": "SV1-01-1",
    "procedure_code": "SV1-01-2",
    "modifiers": "SV1-01-3",
    "charge": "SV1-02",
    "unit_basis": "SV1-03",
    "units": "SV1-04",
    "diagnosis_pointers": "SV1-07",
    "line_number": "LX01",
    # Derived from SV1-01 (the procedure's RVUs) times SV1-04 (units): the units are what the sender controls.
    "rvus": "SV1-04",
    "total_rvus": "SV1-04",
}
_COPY_CONTEXT = re.compile(r"COPY \w+, line (\d+)(?:, column (\w+))?")


def _copy(
    table: str,
    columns: tuple[str, ...],
    rows: Iterable[tuple[object, ...]],
    *,
    places: list[tuple[int, str]] | None = None,
    name: str = "",
) -> None:
    """COPY ``rows`` into ``table``. ``places[i]`` is the (segment position, segment id) row i came from: when the
    database refuses a row, the ``X12Error`` raised names that place and the element of the column, never the
    value (PostgreSQL's CONTEXT line quotes it)."""
    raw = connection.connection
    assert raw is not None
    try:
        with raw.cursor() as cursor:
            types = column_types(cursor, table, columns)  # 6.0 -> 3.6 us a claim line
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
    except psycopg.Error as exc:
        raise _copy_refusal(exc, places, name)  # noqa: B904 - its cause is set (or hidden: it may quote a value)


def _copy_refusal(exc: psycopg.Error, places: list[tuple[int, str]] | None, name: str) -> Exception:
    """The COPY's refusal as the exception to raise: an ``X12Error`` at the refused row's place when ``places``
    are known (PostgreSQL's CONTEXT line, which quotes the value, is hidden), else a ``DatabaseError``."""
    wrapped = DatabaseError(type(exc).__name__)
    wrapped.__cause__ = exc
    if not places:
        return wrapped
    match = _COPY_CONTEXT.search(exc.diag.context or "")
    line = int(match.group(1)) if match else 0
    column = match.group(2) if match and match.group(2) else ""
    position, segment = places[line - 1] if 0 < line <= len(places) else (places[0][0], "")
    error = X12Error(
        Finding(position, segment, _COLUMN_ELEMENTS.get(column, column), _database_refusal(wrapped)), name
    )
    error.__suppress_context__ = True
    return error


_NUMBER_COLUMNS = ("claim_id", "service_date_from", "billing_provider_id", "claim_number")


def _copy_text(
    table: str,
    columns: tuple[str, ...],
    text: bytes,
    *,
    places: list[tuple[int, str]] | None = None,
    name: str = "",
) -> None:
    """COPY ``text`` (COPY text format, formatted by the reader) into ``table``; a refused row is reported as
    ``_copy`` reports it, from ``places``."""
    raw = connection.connection
    assert raw is not None
    try:
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.write(text)
    except psycopg.Error as exc:
        raise _copy_refusal(exc, places, name)  # noqa: B904 - its cause is set (or hidden: it may quote a value)


def _copy_claims(chunk: ReadChunk, rows: list[_ClaimRow], *, name: str) -> None:
    """The reader's claim rows with the loader's columns (``LOADER_CLAIM_COLUMNS``) added to each."""
    parts = []
    for text, r in zip(chunk.claims_text.split(b"\n"), rows, strict=False):
        related_id, related_month = (
            (b"%d" % r.related[0], r.related[1].isoformat().encode()) if r.related else (_NULL, _NULL)
        )
        parts.append(
            b"%b\t%d\t%d\t%d\t%b\t%b\t%b\t%b\n"
            % (
                text,
                r.member_id,
                r.plan_id,
                r.billing_id,
                b"%d" % r.rendering_id if r.rendering_id is not None else _NULL,
                related_id,
                related_month,
                r.relation.encode(),
            )
        )
    places = [(r.read.position, "CLM") for r in rows]
    _copy_text(CLAIM_TABLE, _CLAIM_COLUMNS, b"".join(parts), places=places, name=name)


_NULL = b"\\N"
