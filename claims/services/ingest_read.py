"""Ingest's reading half: an 837P file read into ``ReadChunk``s that the loading half matches and COPYs.

``claims.services.ingest`` runs ``chunks_read`` in a forked child (``ops.platform.workers.ForkedStream``) while it
loads the chunk before: tokenizing, mapping and formatting the rows is about two thirds of ingest's Python work,
and on its own core it runs beside the matching and the database instead of taking turns with them.

What can be known from the file alone is done here: every claim's id (from the claims' sequence, on a connection
of the child's own: ``nextval`` is not transactional, so the ids are the loading transaction's as well), the code
checks, and the COPY text of every line, every status-history row, and of each claim's columns except the ones
that need the database (the parties' ids and the duplicate / replacement / void link). The loading half adds
those to each claim's row (``LOADER_CLAIM_COLUMNS``).

Nothing here writes: a failure raises ``X12Error`` naming the file, segment position and element (a defect of
ours is reported at the last segment read, by type and code place only: a message may quote an element).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools
import logging
import operator
import resource
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
from psycopg.copy import Copy, FileWriter

from claims.codes import claim_code_problems
from claims.fee_schedule import line_rvus
from claims.ingest_rules import LinePart, fingerprint_lines
from claims.models import Claim, ClaimLine, ClaimStatus, ClaimStatusHistory, StatusSource
from claims.services.lifecycle import HISTORY_COLUMNS, history_rows_new_claim
from claims.x12.errors import Finding, X12Error
from claims.x12.parser837 import ParsedClaim, Party, Stream837
from members.models import PlanType

logger = logging.getLogger(__name__)

CLAIM_TABLE = Claim._meta.db_table
LINE_TABLE = ClaimLine._meta.db_table
HISTORY_TABLE = ClaimStatusHistory._meta.db_table
_PLAN_TYPES = {choice.value for choice in PlanType}

# n ids from a table's sequence, looked up once and not per id (OFFSET 0 keeps the planner from pulling the
# lookup into the per-row expression): 40 -> 5-9 ms for 5,000 ids.
NEXTVAL_SQL = (
    "SELECT nextval(q.seq) FROM (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq OFFSET 0) q, "
    "generate_series(1, %s)"
)
# A claim's columns in its COPY row: these first, formatted here; then the loader's (``LOADER_CLAIM_COLUMNS``).
READ_CLAIM_COLUMNS = (
    "id",
    "service_date_from",
    "service_date_to",
    "claim_number",
    "batch_id",
    "place_of_service",
    "frequency_code",
    "status",
    "denial_reason_code",
    "received_at",
    "processed_at",
    "total_charge",
    "total_paid",
    "line_count",
    "total_rvus",
    "diagnosis_code_system",
    "diagnosis_codes",
    "code_check_errors",
    "payer_claim_control_number",
    "edits",
)
LOADER_CLAIM_COLUMNS = (
    "member_id",
    "health_plan_id",
    "billing_provider_id",
    "rendering_provider_id",
    "related_claim_id",
    "related_service_date_from",
    "relation",
)
# No "id": the column default (its sequence) numbers the lines in the server; nothing here needs a line's id.
LINE_COLUMNS = (
    "service_date_from",
    "claim_id",
    "line_number",
    "procedure_qualifier",
    "procedure_code",
    "modifiers",
    "charge",
    "unit_basis",
    "units",
    "place_of_service",
    "diagnosis_pointers",
    "paid",
    "rvus",
    "service_date",
    "service_date_to",
    "decision",
)

# A person as ingest matches members: (member id as sent in 2010BA NM109, LAST, FIRST, date of birth).
PersonKey = tuple[str, str, str, dt.date | None]
# ``Party``'s fields in declaration order (``Party(*row)`` rebuilds it): tuples cross the pipe ~5x cheaper.
PartyRow = tuple[Any, ...]


def person_key(party: Party, subscriber_identifier: str) -> PersonKey:
    return (
        subscriber_identifier,
        party.last_or_org_name.upper(),
        party.first_name.upper(),
        party.date_of_birth,
    )


# Party is a slots dataclass: its fields read in declaration order in one call.
party_row: Callable[[Party], PartyRow] = operator.attrgetter(*(f.name for f in dataclasses.fields(Party)))


class ReadClaim(NamedTuple):
    """What the loader needs of one claim to match it: ids resolved, duplicates found."""

    id: int
    position: int  # of its CLM segment
    service_date_from: dt.date
    service_date_to: dt.date
    claim_number: str  # CLM01
    frequency_code: str  # CLM05-3
    total_charge: Decimal  # CLM02, dollars
    payer: str  # 2010BB NM109
    billing_npi: str  # 2010AA NM109
    rendering_npi: str  # 2310B NM109, "" when none
    person: PersonKey  # the patient: 2010CA when sent, else the subscriber
    line_part: LinePart  # its lines' part of the duplicate fingerprint (``ingest_rules.fingerprint_lines``)


@dataclass
class ReadChunk:
    """Up to ``chunk_claims`` consecutive claims of the file, read and formatted.

    ``claims_text`` holds one COPY text row per claim (``READ_CLAIM_COLUMNS``, each ended by a newline), in the
    order of ``claims``; ``lines_text`` and ``history_text`` are whole COPY texts (``LINE_COLUMNS``,
    ``HISTORY_COLUMNS``). ``line_positions[i]`` is the LX segment position of line row i. The parties are each
    named once per chunk: payers as (name, plan type), providers by NPI, subscribers and dependents (with their
    subscriber's key and relationship code) by ``PersonKey``.
    """

    claim_tuples: list[tuple[Any, ...]]  # ``ReadClaim``s as plain tuples: see ``claims``
    claims_text: bytes
    lines_text: bytes
    line_positions: list[int]
    history_text: bytes
    payers: dict[str, tuple[str, str]]
    providers: dict[str, PartyRow]
    subscribers: dict[PersonKey, PartyRow]
    dependents: dict[PersonKey, tuple[PartyRow, PersonKey, str]]
    bytes_read: int  # of the file, so far
    last_position: int  # the last segment read

    @property
    def claims(self) -> list[ReadClaim]:
        return list(map(ReadClaim._make, self.claim_tuples))


@dataclass
class ReadEnd:
    """Sent after the last chunk: what only the whole file tells."""

    warnings: list[Finding]
    interchange_count: int
    transaction_count: int
    last_position: int
    peak_rss_kib: int  # the reader process's own peak resident set (getrusage ru_maxrss, KiB on Linux)


@dataclass(frozen=True)
class ReadSetup:
    """What the reading half needs: the file, the batch's id and received time, the months the scan found
    (partitions exist for them), and how to reach the database (psycopg connection keywords)."""

    path: Path
    name: str
    months: frozenset[dt.date]
    batch_id: int
    received_at: dt.datetime
    chunk_claims: int
    connect: dict[str, Any]


def chunks_read(setup: ReadSetup, send: Callable[[ReadChunk | ReadEnd], None]) -> None:
    """Read ``setup.path`` and ``send`` a ``ReadChunk`` per ``setup.chunk_claims`` claims, then a ``ReadEnd``.

    Raises ``X12Error`` at the first place the file cannot be mapped (file, segment position, element), and for a
    claim whose month the scan did not find (it would fall into the DEFAULT partition). Any other failure is
    reported as an ``X12Error`` at the last segment read, with its type only.
    """
    stream: Stream837 | None = None
    try:
        with psycopg.connect(**setup.connect) as conn, setup.path.open("rb") as source:
            conn.autocommit = True
            formats = _Formats(conn)
            stream = Stream837(source, setup.name)
            claims = stream.claims()
            while chunk := list(itertools.islice(claims, setup.chunk_claims)):
                send(_chunk(chunk, setup, formats, conn, stream))
            send(
                ReadEnd(
                    stream.warnings,
                    stream.interchange_count,
                    stream.transaction_count,
                    stream.last_position,
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                )
            )
    except X12Error:
        raise
    except Exception as exc:  # noqa: BLE001 - a defect of ours: its place in the file and in the code, no text
        raise internal_error(exc, name=setup.name, position=stream.last_position if stream else 0) from None


def internal_error(exc: BaseException, *, name: str, position: int) -> X12Error:
    """A defect of ours while ingesting ``name``, as the ``X12Error`` to report: logged with its type and code
    place only (an exception's message may quote an element value, i.e. PHI), reported at segment ``position``."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = ", ".join(f"{Path(fr.filename).name}:{fr.lineno} {fr.name}" for fr in frames[-3:])
    logger.error("ingest of %s: internal error %s at %s", name, type(exc).__name__, where)
    return X12Error(
        Finding(
            position, "", "", f"internal error ({type(exc).__name__}) while reading this segment; reported"
        ),
        name,
    )


COLUMN_TYPES_SQL = (
    "SELECT a.atttypid FROM unnest(%s::text[]) WITH ORDINALITY AS c(name, n) "
    "JOIN pg_attribute a ON a.attrelid = %s::regclass AND a.attname = c.name ORDER BY c.n"
)


def column_types(cursor: psycopg.Cursor[Any], table: str, columns: tuple[str, ...]) -> list[int]:
    """The type oids of ``table``'s ``columns``, in order: given to ``Copy.set_types``, psycopg picks each value's
    dumper once, not per value (~40 % off the client's cost per row)."""
    cursor.execute(COLUMN_TYPES_SQL, [list(columns), table])
    return [oid for (oid,) in cursor.fetchall()]


class _Formats:
    """COPY text formatting with the columns' types known (psycopg then picks each value's dumper once)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        with conn.cursor() as cursor:
            self.types = {
                CLAIM_TABLE: column_types(cursor, CLAIM_TABLE, READ_CLAIM_COLUMNS),
                LINE_TABLE: column_types(cursor, LINE_TABLE, LINE_COLUMNS),
                HISTORY_TABLE: column_types(cursor, HISTORY_TABLE, HISTORY_COLUMNS),
            }

    def text(self, table: str, rows: Iterable[tuple[object, ...]]) -> bytes:
        """``rows`` as COPY text (psycopg's own formatting: escapes, arrays, NULL), written to memory."""
        out = io.BytesIO()
        with self._conn.cursor() as cursor, Copy(cursor, writer=FileWriter(out)) as copy:
            copy.set_types(self.types[table])
            for row in rows:
                copy.write_row(row)
        return out.getvalue()


def _chunk(
    chunk: list[ParsedClaim],
    setup: ReadSetup,
    formats: _Formats,
    conn: psycopg.Connection[Any],
    stream: Stream837,
) -> ReadChunk:
    ids = [r[0] for r in conn.execute(NEXTVAL_SQL, [CLAIM_TABLE, len(chunk)])]
    payers: dict[str, tuple[str, str]] = {}
    providers: dict[str, PartyRow] = {}
    subscribers: dict[PersonKey, PartyRow] = {}
    dependents: dict[PersonKey, tuple[PartyRow, PersonKey, str]] = {}
    claims: list[tuple[Any, ...]] = []
    claim_rows: list[tuple[object, ...]] = []
    line_rows: list[tuple[object, ...]] = []
    line_positions: list[int] = []
    history: list[tuple[object, ...]] = []
    received = ClaimStatus.RECEIVED.value
    zero = Decimal("0")
    months = setup.months
    # A new claim's status history as the lifecycle writes it, its (claim id, month) filled in per claim below.
    history_new = history_rows_new_claim(
        claim_id=0,
        service_date_from=dt.date.min,
        status=ClaimStatus.RECEIVED,
        at=setup.received_at,
        source=StatusSource.INGEST,
    )
    for c, claim_id in zip(chunk, ids, strict=True):
        sdf, sdt = c.service_date_from, c.service_date_to  # properties: min / max over the lines, read once
        if sdf.replace(day=1) not in months:
            # The scan and the parser disagree on the file: refuse rather than let a claim fall into DEFAULT.
            raise X12Error(
                Finding(c.position, "CLM", "DTP03", "service month not found by the file scan; not loaded"),
                setup.name,
            )
        if c.payer.identifier not in payers:
            plan_type = c.claim_filing_code if c.claim_filing_code in _PLAN_TYPES else PlanType.OTHER
            payers[c.payer.identifier] = (c.payer.last_or_org_name or c.payer.identifier, plan_type)
        billing = c.billing_provider
        if billing.identifier not in providers:
            providers[billing.identifier] = party_row(billing)
        rendering = c.rendering_provider
        rendering_npi = rendering.identifier if rendering is not None else ""
        if rendering is not None and rendering_npi and rendering_npi not in providers:
            providers[rendering_npi] = party_row(rendering)
        sub_key = person_key(c.subscriber, c.subscriber.identifier)
        if sub_key not in subscribers:
            subscribers[sub_key] = party_row(c.subscriber)
        patient = sub_key
        if c.patient is not None:
            patient = person_key(c.patient, c.subscriber.identifier)
            if patient not in dependents:
                dependents[patient] = (party_row(c.patient), sub_key, c.subscriber_relationship)
        rvus = zero
        fp_lines = []
        for line in c.lines:
            line_rvu = line_rvus(line.procedure_code, line.units)
            rvus += line_rvu
            fp_lines.append((line.line_number, line.procedure_code, line.charge))
            line_positions.append(line.position)
            line_rows.append(
                (
                    sdf,
                    claim_id,
                    line.line_number,
                    line.procedure_qualifier,
                    line.procedure_code[:48],
                    line.modifiers,
                    line.charge,
                    line.unit_basis,
                    line.units,
                    line.place_of_service,
                    line.diagnosis_pointers,
                    zero,
                    line_rvu,
                    line.service_date,
                    line.service_date_to,
                    "",
                )
            )
        problems = claim_code_problems(
            diagnosis_codes=c.diagnosis_codes,
            diagnosis_code_system=c.diagnosis_code_system,
            service_date_from=sdf,
            pointers=[line.diagnosis_pointers for line in c.lines],
            billing_npi=billing.identifier,
            rendering_npi=rendering_npi if rendering is not None else None,
        )
        claim_rows.append(
            (
                claim_id,
                sdf,
                sdt,
                c.claim_number,
                setup.batch_id,
                c.place_of_service,
                c.frequency_code,
                # Every claim loads as received: the engine decides duplicates, replacements and voids.
                received,
                "",
                setup.received_at,
                None,
                c.total_charge,
                zero,
                len(c.lines),
                rvus,
                c.diagnosis_code_system,
                c.diagnosis_codes,
                problems,
                c.payer_claim_control_number[:50],
                [],
            )
        )
        history.extend((claim_id, sdf, *row[2:]) for row in history_new)
        # A plain tuple (``ReadClaim``'s fields): a named tuple pickles through a Python method, per claim.
        claims.append(
            (
                claim_id,
                c.position,
                sdf,
                sdt,
                c.claim_number,
                c.frequency_code,
                c.total_charge,
                c.payer.identifier,
                billing.identifier,
                rendering_npi,
                patient,
                fingerprint_lines(fp_lines),
            )
        )
    return ReadChunk(
        claim_tuples=claims,
        claims_text=formats.text(CLAIM_TABLE, claim_rows),
        lines_text=formats.text(LINE_TABLE, line_rows),
        line_positions=line_positions,
        history_text=formats.text(HISTORY_TABLE, history),
        payers=payers,
        providers=providers,
        subscribers=subscribers,
        dependents=dependents,
        bytes_read=stream.bytes_read,
        last_position=stream.last_position,
    )
