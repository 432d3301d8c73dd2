"""Claims, lines, status history, CAS adjustments, deductible accumulators and ingest batches of a synthetic plan,
as COPY text chunks.

Claims are generated day by day in service-date order (ids ascending with ``service_date_from``). A claim's
timeline is drawn when it is generated, from times counted in seconds from the window's first midnight:

* received: service date + a filing lag (days; most within a week or two, a tail of late claims), in one of the
  day's clearinghouse batches (``IngestBatch``), never after ``as_of``;
* validated when its batch was validated (minutes later, sometimes hours);
* adjudicated after a processing time (minutes, hours, or days). A step that would fall after ``as_of`` has not
  happened yet, so recent claims stay open (received / validated);
* a few originals are followed by a replacement (frequency 7), a void (8) or an exact duplicate, written next to
  them with the same service dates and linked as ``claims.services.ingest`` links them; all load as received.

The decisions are the adjudication engine's (``claims.adjudication.engine.decide``), on the facts the
production service reads back (``claims.services.adjudication``): the plan's terms (``benefits_of``), the
member's enrollments in the claim's plan, the billing provider's network participation, the lines, the code
problems stored on the claim, the receipt date, the frequency code and link. Only the money depends on the order
of decisions (the member's deductible), so claims wait in a queue ordered by decision time and are decided, in
that order, once every claim that could be decided earlier has been generated (a claim generated later is
received later); the deductible met per (member, plan, service year) is carried from one decision to the next
and written as ``MemberAccumulator`` rows at the end.

What a decision writes is what the production writer writes: status, CARC, paid, allowed, patient
responsibility, pend reason, edits, processing time; each line's allowed, paid and decision; the CAS rows
(``ClaimAdjustment``, claim level as line 0); the history row (source "adjudication", note "CARC xx", the pend
reason, or ""). The engine denies an exact duplicate CARC 18 and voids a void; a replacement or void ends its
original at its own decision (history source "adjudication", ``note_ended``), the deductible an approved
original spent going back to the accumulator first. A pended claim is left for the work queue, or an examiner
releases it days later: an approval moves it back to validated (source "examiner") and the engine decides it
again with the review pends skipped (``reviewed=True``), spending deductible then; a denial is the examiner's,
with a CARC and CO adjustments of every line charge (``claims.services.examiner.claims_deny``). What the
examiner would do is drawn for every claim, so the draws never depend on the engine's outcome.

Money is integer cents until the engine, ``Decimal`` dollars from it; per line and per claim,
charge = paid + adjustments.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from decimal import Decimal
from itertools import accumulate
from typing import NamedTuple

from claims.adjudication.edits import Action, Edit, GroupCode
from claims.adjudication.engine import (
    Benefits,
    ClaimDecision,
    ClaimFacts,
    LineFacts,
    decide,
    denied_in_full,
)
from claims.adjudication.pricing import ZERO
from claims.carc import Carc
from claims.codes import icd10cm_problem
from claims.fee_schedule import line_rvus
from claims.ingest_rules import note_ended
from claims.lifecycle import NEW, ClaimStatus, StatusSource, check_transition
from claims.models import (
    Claim,
    ClaimAdjustment,
    ClaimLine,
    ClaimNumber,
    ClaimRelation,
    ClaimStatusHistory,
    FrequencyCode,
    IngestBatch,
)
from claims.services.adjudication import benefits_of
from members.models import HealthPlan, MemberAccumulator
from ops.platform.partitioning import partition_name
from ops.synthetic.history.copy_text import Clock, CopyChunk, Sealed, cents_text, copy_columns
from ops.synthetic.history.people import People, pick, stream, weighted_cum
from ops.synthetic.reference import (
    CHAPTER_WEIGHTS,
    COMMON_DIAGNOSES,
    ENCOUNTER_SPECS,
    EXAMINER_DENIAL_CARCS,
    FLU_SEASON_CODES,
    FLU_SEASON_MONTHS,
    LAB,
    MODIFIER_22_CODES,
    PEDS,
    PLAN_SPECS,
    PRIMARY,
    UNLISTED_SERVICES,
    billable_icd10_codes,
    plan_terms,
)

# The lifecycle's values as plain strings: they go straight into COPY text (claims.lifecycle).
RECEIVED, VALIDATED, PENDED = (
    ClaimStatus.RECEIVED.value,
    ClaimStatus.VALIDATED.value,
    ClaimStatus.PENDED.value,
)
APPROVED, DENIED = ClaimStatus.APPROVED.value, ClaimStatus.DENIED.value
REPLACED, VOIDED = ClaimStatus.REPLACED.value, ClaimStatus.VOIDED.value
INGEST, VALIDATION = StatusSource.INGEST.value, StatusSource.VALIDATION.value
ADJUDICATION, EXAMINER = StatusSource.ADJUDICATION.value, StatusSource.EXAMINER.value
PATIENT = GroupCode.PATIENT.value
DEDUCTIBLE = Carc.DEDUCTIBLE.value
DUPLICATE_OF, REPLACES, VOIDS = (
    ClaimRelation.DUPLICATE_OF.value,
    ClaimRelation.REPLACES.value,
    ClaimRelation.VOIDS.value,
)

NULL = "\\N"
DAY = 86_400
# A pended claim: the share the examiner never releases (records requested, never came: it stays in the work
# queue), and of those released, the share denied (the rest are approved and priced by the engine).
P_PEND_LEFT = 0.35
P_EXAMINER_DENY = 0.30
# Follow-ups of an original claim (each uses one of the day's claims).
P_REPLACE = 0.024
P_VOID = 0.008
P_DUPLICATE = 0.007
# Inputs that lead the engine to deny or pend, per claim: a provider picked outside the member's plan network
# (denied CO-242 under an HMO or EPO, priced out of network otherwise); a patient seen while not covered by the
# plan (CO-26 / CO-27); a principal diagnosis sent as its category, not a billable code (the code problem ingest
# records: CO-16 M76); an unlisted procedure code added (pended); modifier 22 on a procedure line (pended).
P_OUT_OF_NETWORK = 0.06
P_ACCEPT_UNCOVERED = 0.05
P_DIAGNOSIS_INVALID = 0.012
P_UNLISTED = 0.025
P_MODIFIER_22 = 0.05
# Number of diagnosis codes on a claim (1..4) and share of principal diagnoses typical of the encounter.
DIAGNOSIS_COUNT_WEIGHTS = (35, 33, 20, 12)
P_TYPICAL_PRINCIPAL = 0.85
# Zipf exponents: common diagnoses (head) and within an ICD-10-CM chapter (tail); share of the head.
HEAD_SHARE = 0.62
ZIPF_HEAD = 0.9
ZIPF_TAIL = 1.05
# A month's partitions are indexed once at most this share of its claims is still to be written (a claim is
# written when its story is complete, some only months later): at 5 %, about 80 days after the month's end.
INDEX_WHEN_LEFT = 0.05
# The history note of an examiner's approval (claims.services.examiner.claims_approve).
EXAMINER_NOTE_APPROVED = "approved"

# Whole rows of each table, columns from the models in field order (``copy_columns``); ``_format``,
# ``_accumulators`` and ``_batches`` write the values in that order.
CLAIM_COLUMNS = copy_columns(Claim)
LINE_COLUMNS = copy_columns(ClaimLine)
HISTORY_COLUMNS = copy_columns(ClaimStatusHistory)
ADJUSTMENT_COLUMNS = copy_columns(ClaimAdjustment)
ACCUMULATOR_COLUMNS = copy_columns(MemberAccumulator)
BATCH_COLUMNS = copy_columns(IngestBatch)
NUMBER_COLUMNS = copy_columns(ClaimNumber)
CLAIM_TABLE = Claim._meta.db_table
LINE_TABLE = ClaimLine._meta.db_table
HISTORY_TABLE = ClaimStatusHistory._meta.db_table
ADJUSTMENT_TABLE = ClaimAdjustment._meta.db_table
ACCUMULATOR_TABLE = MemberAccumulator._meta.db_table
BATCH_TABLE = IngestBatch._meta.db_table
NUMBER_TABLE = ClaimNumber._meta.db_table
# The two small tables whose row text is written in a fixed order here: a model change must change them too.
_ADJUSTMENT_ORDER = (
    "id", "claim_id", "claim_service_date_from", "line_number", "group_code", "carc", "rarc", "amount",
)  # fmt: skip
_ACCUMULATOR_ORDER = ("id", "member_id", "plan_id", "plan_year", "deductible_met")
_NUMBER_ORDER = ("claim_id", "service_date_from", "billing_provider_id", "claim_number")
if (ADJUSTMENT_COLUMNS, ACCUMULATOR_COLUMNS, NUMBER_COLUMNS) != (
    _ADJUSTMENT_ORDER,
    _ACCUMULATOR_ORDER,
    _NUMBER_ORDER,
):  # pragma: no cover
    raise RuntimeError(
        "ClaimAdjustment / MemberAccumulator / ClaimNumber columns changed: "
        f"{ADJUSTMENT_COLUMNS}, {ACCUMULATOR_COLUMNS}, {NUMBER_COLUMNS}"
    )

# A line decision's status as plain text (``LineDecision.status`` is a ``ClaimStatus`` member).
_TEXT: dict[str, str] = {status: status.value for status in ClaimStatus}
# Decision events in the queue: the engine's first decision, and an examiner's release of a pended claim.
_ADJUDICATE, _RELEASE = 0, 1
# Enrollment end of members still covered (``people``: term1 is the ordinal of date.max then).
_OPEN_ENDED = dt.date.max.toordinal()


def _chapter(code: str) -> str:
    letter = code[0]
    if letter == "D":
        return "D_NEO" if code[1:3] < "50" else "D_BLOOD"  # D3A (neuroendocrine) is a neoplasm too
    if letter == "H":
        return "H_EYE" if code[1:3] < "60" else "H_EAR"
    return letter


def diagnosis_distribution(seed: int) -> tuple[list[str], list[float]]:
    """All billable ICD-10-CM codes (no dot) with cumulative draw weights.

    Head: the common office diagnoses (``reference.COMMON_DIAGNOSES`` and the encounters' typical codes),
    Zipf-weighted in that order, ``HEAD_SHARE`` of the mass. Tail: every other billable leaf; chapters get
    ``CHAPTER_WEIGHTS`` shares (otherwise injuries, half of all leaves, would dominate) and codes within a
    chapter Zipf weights in an order shuffled by the seed.
    """
    head: list[str] = []
    for code in (*COMMON_DIAGNOSES, *(c for e in ENCOUNTER_SPECS for c in e.principal)):
        if code not in head:
            head.append(code)
    head_set = set(head)
    by_chapter: dict[str, list[str]] = {}
    for code in billable_icd10_codes():
        if code not in head_set:
            by_chapter.setdefault(_chapter(code), []).append(code)
    rng = stream(seed, "icd-tail")
    codes = [c.replace(".", "") for c in head]
    head_weights = [1.0 / (rank + 1) ** ZIPF_HEAD for rank in range(len(head))]
    head_total = sum(head_weights)
    weights = [w * HEAD_SHARE / head_total for w in head_weights]
    chapter_total = sum(CHAPTER_WEIGHTS.get(ch, 0) for ch in by_chapter)
    for chapter, members in by_chapter.items():
        share = CHAPTER_WEIGHTS.get(chapter, 0) / chapter_total * (1 - HEAD_SHARE)
        if share == 0:
            continue
        rng.shuffle(members)
        zipf = [1.0 / (rank + 1) ** ZIPF_TAIL for rank in range(len(members))]
        total = sum(zipf)
        codes.extend(c.replace(".", "") for c in members)
        weights.extend(w * share / total for w in zipf)
    return codes, list(accumulate(weights))


class Diagnoses(NamedTuple):
    """The diagnosis draws' tables: ``diagnosis_distribution``'s codes and cumulative weights, and for each
    three-character category of those codes, what ingest records when it is sent as the principal diagnosis
    (``claims.codes.icd10cm_problem``: "not billable" for a category with codes under it, else None)."""

    codes: list[str]
    cum: list[float]
    category_problems: dict[str, str | None]


def diagnosis_tables(seed: int) -> Diagnoses:
    """The ``Diagnoses`` of ``seed``. Reading ICD-10-CM takes ~3 s; the caller may do it in another process."""
    codes, cum = diagnosis_distribution(seed)
    return Diagnoses(codes, cum, {code[:3]: icd10cm_problem(code[:3]) for code in codes})


# Filing lag (days from the end of service to receipt): a mixture of (share, offset, mean days) exponentials and
# a uniform tail of late claims (share, first day, span in days).
LAG_FAST = (0.80, 0, 6.0)
LAG_SLOW = (0.165, 10, 25.0)
LAG_LATE = (0.035, 60, 240)


def lag_completion(days: int) -> float:
    """P(lag <= ``days``): the share of a service day's claims already received ``days`` days later."""
    share, offset, mean = LAG_FAST
    done = share * (1 - math.exp(-(days - offset + 1) / mean)) if days >= offset else 0.0
    share, offset, mean = LAG_SLOW
    done += share * (1 - math.exp(-(days - offset + 1) / mean)) if days >= offset else 0.0
    share, first, span = LAG_LATE
    done += share * min(1.0, (days - first + 1) / span) if days >= first else 0.0
    return done


def daily_counts(seed: int, claims: int, days: int, origin: dt.date) -> list[int]:
    """Claims per service day (index 0 = ``origin``), summing to ``claims`` exactly.

    Weights: weekday pattern (offices close at weekends), a winter peak, 5 %/year growth, +-10 % noise, and
    the claims not yet received at ``as_of`` left out (incurred but not reported: yesterday's services have
    ~12 % of their claims on file, last month's ~90 %). Counts by largest remainder, so the total is exact.
    """
    rng = stream(seed, "days")
    weekday = (1.12, 1.10, 1.06, 1.06, 0.98, 0.22, 0.08)
    weights = []
    for i in range(days):
        day = origin + dt.timedelta(days=i)
        season = 1 + 0.10 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365.25)
        reported = lag_completion(days - 1 - i)
        weights.append(
            weekday[day.weekday()] * season * (1 + 0.05 * i / 365) * (0.9 + 0.2 * rng.random()) * reported
        )
    total = sum(weights)
    exact = [claims * w / total for w in weights]
    counts = [int(x) for x in exact]
    short = claims - sum(counts)
    by_fraction = sorted(range(days), key=lambda i: (counts[i] - exact[i], i))
    for i in by_fraction[:short]:
        counts[i] += 1
    return counts


_new = object.__new__
# The engine's facts as ``_facts`` fills them: a field added to them must be filled there too.
_LINE_FACTS = (
    "line_number",
    "procedure_code",
    "modifiers",
    "charge",
    "units",
    "service_date",
    "place_of_service",
)
_CLAIM_FACTS = (
    "claim_id", "received_on", "service_date_from", "total_charge", "code_problems", "coverage", "enrolled_anywhere",
    "in_network", "lines", "frequency_code", "relation", "original_open",
)  # fmt: skip
if (tuple(f.name for f in fields(LineFacts)), tuple(f.name for f in fields(ClaimFacts))) != (
    _LINE_FACTS,
    _CLAIM_FACTS,
):  # pragma: no cover
    raise RuntimeError("LineFacts / ClaimFacts fields changed: fill them in ClaimRows._facts")
# A line: (procedure code, modifiers literal, charge cents, units, pointers literal, RVU text, service day,
# modifiers).
_Line = tuple[str, str, int, int, str, str, int, tuple[str, ...]]
# A history step: (from status, to status, seconds, source, note).
_Step = tuple[str, str, int, str, str]


class _Draft:
    """One claim being generated (days and times counted from the window origin, money in cents until the
    engine's decision, which is ``Decimal`` dollars)."""

    __slots__ = (
        "id", "sdf", "sdt", "number", "member", "plan", "billing", "rendering", "pos", "diagnoses", "ndiag",
        "lines", "total", "frequency", "status", "carc", "received", "batch", "processed", "history", "pccn",
        "related", "relation", "lag", "problems", "decision", "pend_reason", "edits", "ms", "decide_at",
        "release", "examiner", "ended", "ended_by", "queued",
    )  # fmt: skip
    id: int
    sdf: int  # service_date_from, day index
    sdt: int  # service_date_to, day index
    number: str
    member: int
    plan: int  # plan index (id - 1)
    billing: int
    rendering: int  # 0: none (the billing provider rendered the service)
    pos: str
    diagnoses: str  # array literal
    ndiag: int
    lines: list[_Line]
    total: int  # cents
    status: str
    received: int  # seconds
    batch: int  # batch index (id - 1)
    lag: int  # days from service end to receipt
    examiner: float  # what an examiner does should the claim pend (see ``_release``)

    def __init__(self) -> None:
        self.frequency = FrequencyCode.ORIGINAL.value
        self.carc = ""
        self.processed: int | None = None
        self.pccn = ""
        self.related: _Draft | None = None
        self.relation = ""
        self.problems: tuple[str, ...] = ()  # code problems, as ingest stores them (Claim.code_check_errors)
        self.decision: ClaimDecision | None = None  # the engine's (or an examiner's) decision
        self.pend_reason = ""
        self.edits: tuple[str, ...] = ()
        self.ms: int | None = None  # received -> decision, milliseconds
        self.decide_at: int | None = None  # seconds: when the engine decides it (None: never, before as_of)
        self.release: int | None = None  # seconds: when an examiner would release it, were it pended
        # The replacement or void that will end it before as_of, and (status, seconds, note) once it has: the
        # claim keeps its decision.
        self.ended_by: _Draft | None = None
        self.ended: tuple[str, int, str] | None = None
        self.queued = False  # a decision of it waits in ``ClaimRows.waiting``
        # lifecycle: the claim's status steps (from, to, seconds, source, note), appended as its story is
        # decided and formatted as history rows in ``ClaimRows._format``.
        self.history: list[_Step] = []


# Diagnosis pointers (SV1-07): the first line points at the first k codes, later lines at one code each.
_POINTER_RUNS = ("{1}", "{1,2}", "{1,2,3}", "{1,2,3,4}")
_POINTER_ONE = ("{1}", "{2}", "{3}", "{4}")


# One service day's claims from ``ClaimRows.draws``: (day index, drafts in id order).
Day = tuple[int, list[_Draft]]


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Millions of short-lived objects (facts, decisions, row text) and nothing cyclic that lives long: the
    reference data goes to the permanent generation and collections run 70x less often (gc.freeze docs).
    Measured at 100,000 claims: 16.3-17.8 s of generation with the defaults, 13.6-14.0 s so."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


# Parts of one run, generated side by side (by processes of their own): each takes a share of the members, all of
# their claims and the claims' whole story, so a part decides alone (the deductible is per member; a replacement,
# void or duplicate is its original's member's). See ``ClaimRows``.
MAX_PARTS = 2


def member_parts(cum: list[float], parts: int) -> list[int]:
    """Bounds of the parts' members as indexes of ``cum`` (``Members.cum``): part k has indexes bounds[k] ..
    bounds[k+1]-1, about an equal share of the utilisation weight each (so of the claims)."""
    total = cum[-1]
    inner = [min(len(cum), bisect_left(cum, total * k / parts)) for k in range(1, parts)]
    return [0, *inner, len(cum)]


def part_day_counts(counts: list[int], first_share: float, part: int) -> Iterator[tuple[int, int]]:
    """(first claim id, claims) of ``part`` (0 or 1) for each day of ``counts`` (``daily_counts``): part 0 has
    the first ``first_share`` of the claims so far, rounded down, and the first ids of each day; part 1 the rest.
    Claim ids stay dense and ascending with the service day."""
    run = first = 0
    for count in counts:
        run_after = run + count
        first_after = min(run_after, int(run_after * first_share))
        firsts = first_after - first
        yield (run + 1, firsts) if part == 0 else (run + 1 + firsts, count - firsts)
        run, first = run_after, first_after


class BatchSchedule:
    """Clearinghouse files: a few a day (more at scale), each at its own time, validated minutes later. Batch
    index ``day * slots + slot``; ``received`` and ``validated`` in seconds from the window's first midnight."""

    def __init__(self, seed: int, claims: int, days: int) -> None:
        self.slots = max(1, min(8, claims // 125_000))
        brng = stream(seed, "batches")
        self.received: list[int] = []
        self.validated: list[int] = []
        for day in range(days):
            for slot in range(self.slots):
                at = day * DAY + (6 + slot * 15 // self.slots) * 3600 + brng.randrange(3600)
                # Validation (pyx12) usually follows within minutes; some files wait in a backlog for hours.
                backlog = brng.random() < 0.15
                delay = brng.randrange(4 * 3600, 48 * 3600) if backlog else brng.randrange(90, 900)
                self.received.append(at)
                self.validated.append(at + delay)


@dataclass(frozen=True)
class PartDone:
    """The last item of a part's ``chunks()``: what the loader adds up over the parts (``batches_chunk``, the
    report's outcomes)."""

    part: int
    batch_totals: dict[int, list[int]]
    outcomes: dict[str, int]


def plan_benefits() -> list[Benefits]:
    """The engine's terms of each plan (by plan index), through the production mapping (``benefits_of``) of the
    plan rows this generator writes (``people._plan_row``)."""
    benefits = []
    for spec in PLAN_SPECS:
        t = plan_terms(spec.plan_type)
        plan = HealthPlan(
            plan_type=spec.plan_type,
            filing_limit_days=t.filing_limit_days,
            conversion_factor=t.conversion_factor,
            deductible=t.deductible,
            coinsurance_rate=t.coinsurance_rate,
            copay=t.copay,
            review_threshold=t.review_threshold,
            out_of_network_rate=t.out_of_network_rate,
        )
        benefits.append(benefits_of(plan))
    return benefits


def _deductible_of(decision: ClaimDecision) -> Decimal:
    """The deductible a decision spent: its PR-1 adjustments (what the service gives back when it ends it)."""
    spent = ZERO
    for a in decision.adjustments:
        if a.group == PATIENT and a.carc == DEDUCTIBLE:
            spent += a.amount
    for line in decision.lines:
        for a in line.adjustments:
            if a.group == PATIENT and a.carc == DEDUCTIBLE:
                spent += a.amount
    return spent


def _note(decision: ClaimDecision) -> str:
    """The history note the adjudication service writes for a decision."""
    if decision.status == APPROVED:
        return ""
    return f"CARC {decision.carc}" if decision.carc else str(decision.pend_reason)


class ClaimRows:
    """Generates the claim tables for one run, or for one ``part`` of ``parts`` (``MAX_PARTS`` at most);
    iterate ``chunks()`` once.

    ``diagnoses``: ``diagnosis_tables(seed)``, when the caller has them (~3 s: reading ICD-10-CM).

    A part has the members of its share of the utilisation weight (``member_parts``), each day that share of the
    day's claims (``part_day_counts``) with the first ids of the day for part 0, and random streams of its own,
    so parts can run in separate processes and give the same rows for a seed whatever runs beside them. Nothing
    a decision reads belongs to another part: the deductible met is per member, a follow-up is its original's
    member's. Lines, history, CAS rows and accumulators take every ``parts``-th id from ``part + 1``, so the
    parts' ids never collide (a part with fewer rows leaves gaps at the top). Claim ids stay dense.

    ``counts`` (rows per table), ``partition_rows`` and ``outcomes`` (final claim statuses) are complete after
    the iteration.
    """

    def __init__(self, *, seed: int, claims: int, as_of: dt.date, window_start: dt.date, people: People,
                 chunk_claims: int = 25_000, diagnoses: Diagnoses | None = None,
                 part: int = 0, parts: int = 1) -> None:  # fmt: skip
        if not 1 <= parts <= MAX_PARTS or not 0 <= part < parts:
            raise ValueError(f"part {part} of {parts}: at most {MAX_PARTS} parts")
        self.seed = seed
        self.part, self.parts = part, parts
        self.claims = claims
        self.origin = window_start
        self.days = (as_of - window_start).days  # service days 0 .. days-1 (the last is the day before as_of)
        self.cutoff = self.days * DAY  # as_of midnight: nothing happens at or after it
        self.people = people
        self.chunk_claims = chunk_claims
        self.clock = Clock(window_start, self.days + 1)
        # One part's streams are its own (the single part keeps the original names).
        suffix = "" if parts == 1 else f":{part + 1}/{parts}"
        self.rng = stream(seed, f"claims{suffix}")
        self.examiner_rng = stream(seed, f"examiner{suffix}")
        self.counts = {
            CLAIM_TABLE: 0, LINE_TABLE: 0, HISTORY_TABLE: 0, ADJUSTMENT_TABLE: 0, ACCUMULATOR_TABLE: 0,
            BATCH_TABLE: 0, NUMBER_TABLE: 0,
        }  # fmt: skip
        self.partition_rows: dict[str, int] = {}
        schedule = BatchSchedule(seed, claims, self.days)
        self.slots, self.batch_received, self.batch_validated = (
            schedule.slots,
            schedule.received,
            schedule.validated,
        )
        self.batch_totals: dict[
            int, list[int]
        ] = {}  # batch index -> [claims, lines, charge cents] of this part
        # ``diagnoses(seed)``, unless the caller made them already (elsewhere, while it did other work).
        self.dx_codes, self.dx_cum, self.category_problems = diagnoses or diagnosis_tables(seed)
        self.dx_total = self.dx_cum[-1]
        self.dx_count_cum = weighted_cum(DIAGNOSIS_COUNT_WEIGHTS)
        self.principal = [
            (
                [c.replace(".", "") for c in e.principal],
                weighted_cum([1.0 / (i + 1) ** 0.8 for i in range(len(e.principal))]),
            )
            for e in ENCOUNTER_SPECS
        ]
        self.extra_cum = [weighted_cum(e.extra_counts) for e in ENCOUNTER_SPECS]
        # Encounter kinds by patient age (0..120).
        self.encounters_by_age: list[tuple[list[int], list[float]]] = []
        for age in range(121):
            kinds = [i for i, e in enumerate(ENCOUNTER_SPECS) if e.ages[0] <= age <= e.ages[1]]
            self.encounters_by_age.append((kinds, weighted_cum([ENCOUNTER_SPECS[i].weight for i in kinds])))
        self.examiner_carcs = [code for code, _ in EXAMINER_DENIAL_CARCS]
        self.examiner_carc_cum = weighted_cum([w for _, w in EXAMINER_DENIAL_CARCS])
        self.rvu_text: dict[tuple[str, int], str] = {}
        self.month_of_day = [(window_start + dt.timedelta(days=d)).month for d in range(self.days)]
        self.month_start_of_day = [
            (window_start + dt.timedelta(days=d)).replace(day=1) for d in range(self.days)
        ]
        # Row ids of the tables whose rows the parts write side by side: part k of n takes k+1, k+1+n, k+1+2n ...
        self.next_line_id = self.next_history_id = self.next_adjustment_id = part + 1
        self.allowed_moves: set[tuple[str, str]] = set()
        # The engine's inputs that do not change per claim: plan terms, dates of day indexes, money and units
        # as Decimal (cached by value: few distinct charges recur millions of times).
        self.benefits = plan_benefits()
        self.dates = [window_start + dt.timedelta(days=d) for d in range(self.days + 1)]
        self.year_of_day = [day.year for day in self.dates]
        self._dollars_of: dict[int, Decimal] = {}
        self._units_of = [Decimal(u) for u in range(100)]
        self._spans: dict[int, tuple[tuple[dt.date, dt.date | None], ...]] = {}
        self._cas_codes: dict[tuple[str, str, str], str] = {}
        # Decisions waiting for their time, by day (seconds // DAY): (seconds, claim id, event, draft); the last
        # day decided; the deductible met so far per (member, plan index, service year), in decision order; the
        # final status counts.
        self.waiting: dict[int, list[tuple[int, int, int, _Draft]]] = {}
        self.decided_day = -1
        self.met: dict[tuple[int, int, int], Decimal] = {}
        self.outcomes: dict[str, int] = {}
        # COPY text waiting for the next flush: claims and lines per month partition, history and CAS rows.
        self.month_rows: dict[dt.date, tuple[list[str], list[str]]] = {}
        self.history_rows: list[str] = []
        self.adjustment_rows: list[str] = []
        self.number_rows: list[str] = []
        self.buffered = 0
        # Claims generated and claims not written yet, per month of service (a claim waits for its decisions, an
        # original for the replacement or void that ends it); the months announced nearly complete, complete.
        self.generated: dict[dt.date, int] = {}
        self.unwritten: dict[dt.date, int] = {}
        self.nearly: set[dt.date] = set()
        self.sealed: set[dt.date] = set()
        # Hot-loop lookups bound once (attribute and method lookups dominate pure-Python generation).
        members = people.members
        self._random = self.rng.random
        self._ordinal0 = window_start.toordinal()
        self._m_cum = members.cum
        # This part's members: indexes lo..last of ``cum`` (ids lo+1..last+1), drawn by their weights.
        bounds = member_parts(members.cum, parts)
        first_top = members.cum[bounds[1] - 1] if bounds[1] > 0 else 0.0
        self.first_share = first_top / members.cum[-1]  # part 0's share of the claims
        self._m_lo, self._m_last = bounds[part], bounds[part + 1] - 1
        base = members.cum[self._m_lo - 1] if self._m_lo > 0 else 0.0
        top = members.cum[self._m_last] if self._m_last >= self._m_lo else base
        self._m_base, self._m_span = base, top - base
        self._m_eff1, self._m_term1, self._m_plan1 = members.eff1, members.term1, members.plan1
        self._m_plan2, self._m_eff2 = members.plan2, members.eff2
        self._m_age, self._m_state = members.age, members.state
        self._candidates = people.providers.candidates
        self._billing_of = people.providers.billing_of
        self._networks = people.providers.networks
        self._fee_permille = people.providers.fee_permille
        self._groups = [e.group for e in ENCOUNTER_SPECS]
        self._places = [e.places for e in ENCOUNTER_SPECS]
        self._spread = [e.spread_days for e in ENCOUNTER_SPECS]
        self._services = [
            (
                [(s.code, s.fee_cents, "{" + ",".join(s.modifiers) + "}", s.max_units, s.modifiers) for s in e.main],
                [(s.code, s.fee_cents, "{" + ",".join(s.modifiers) + "}", s.max_units, s.modifiers) for s in e.extras],
            )
            for e in ENCOUNTER_SPECS
        ]  # fmt: skip
        self._unlisted = {group: (s.code, s.fee_cents) for group, s in UNLISTED_SERVICES.items()}
        self._number_prefix = f"S{seed % 1000:03d}-"
        self._day_text = self.clock.day
        self._at = self.clock.at

    # -- the stream -------------------------------------------------------------------------------------------

    def chunks(self) -> Iterator[CopyChunk | Sealed | PartDone]:
        """COPY chunks: claims and lines per month partition, history and CAS rows, flushed at each new month
        of service (or every ``chunk_claims`` claims); the accumulators; last the ``PartDone`` (the batches are
        ``batches_chunk``'s, from every part's totals). After a flush, the ``Sealed`` markers of the months that
        became nearly complete, or complete (every month by the end).

        The two halves are apart because nothing drawn depends on a decision. Running them in two processes
        was tried (drafts pickled per day): at 300,000 claims the draws are 4.1 s of 25 s, and unpickling their
        drafts cost the deciding side 3.5 s, so it gained nothing. Parts split the work by member instead.
        """
        yield from self.decisions(self.draws())

    def draws(self) -> Iterator[Day | CopyChunk]:
        """The first half: each service day's claims with every random draw made (patient, provider, codes,
        lines, and the timeline up to the engine's decision: receipt, validation, decision and release times,
        follow-ups), as ``(day, drafts)`` in id order; then the batches chunk (``_batches``).

        An original and its follow-up are made together, on the original's service day.
        """
        counts = daily_counts(self.seed, self.claims, self.days, self.origin)
        with _fewer_collections():
            for day, (first_id, count) in enumerate(part_day_counts(counts, self.first_share, self.part)):
                # The day makes exactly ``count`` claims (follow-ups included), all in the day's month.
                drafts: list[_Draft] = []
                while len(drafts) < count:
                    drafts += self._claim_with_follow_up(
                        day, first_id + len(drafts), room=count - len(drafts)
                    )
                yield day, drafts

    def decisions(self, days: Iterable[Day | CopyChunk]) -> Iterator[CopyChunk | Sealed | PartDone]:
        """The second half: the engine's decisions of the drafts ``draws`` made, in time order, and the rows.

        After each service day's drafts arrive, every decision due that day is made: a claim generated later is
        received later, so nothing it does can come before those decisions. Chunks among ``days`` pass through.
        """
        month = self.month_start_of_day[0]
        generated, unwritten = self.generated, self.unwritten
        with _fewer_collections():
            for item in days:
                if isinstance(item, CopyChunk):
                    yield item
                    continue
                day, drafts = item
                if self.month_start_of_day[day] != month or self.buffered >= self.chunk_claims:
                    yield from self._flush()
                    month = self.month_start_of_day[day]
                    yield from self._seal(before=month)
                generated[month] = generated.get(month, 0) + len(drafts)
                unwritten[month] = unwritten.get(month, 0) + len(drafts)
                for draft in drafts:
                    if draft.decide_at is None:  # nothing for the engine to decide before as_of
                        self._emit(draft)
                    else:
                        self._wait(draft.decide_at, _ADJUDICATE, draft)
                self._decide_day(day)
        if self.waiting:  # pragma: no cover - every event is before as_of by construction
            raise RuntimeError(f"{len(self.waiting)} days of decisions left after as_of")
        yield from self._flush()
        yield from self._seal(before=dt.date.max)
        yield self._accumulators()
        yield PartDone(self.part, self.batch_totals, self.outcomes)

    def _seal(self, *, before: dt.date) -> Iterator[Sealed]:
        """The ``Sealed`` markers due for the months before ``before`` (all their days generated): no later
        claim can belong to them, since a claim's month is its service month."""
        for month, left in sorted(self.unwritten.items()):
            if month >= before or month in self.sealed:
                continue
            if not left:
                self.nearly.add(month)
                self.sealed.add(month)
                yield Sealed(month, complete=True, part=self.part)
            elif month not in self.nearly and left <= INDEX_WHEN_LEFT * self.generated[month]:
                self.nearly.add(month)
                yield Sealed(month, complete=False, part=self.part)

    def _flush(self) -> Iterator[CopyChunk]:
        for month in sorted(self.month_rows):
            claim_rows, line_rows = self.month_rows[month]
            claim_table = partition_name(CLAIM_TABLE, month)
            self.partition_rows[claim_table] = self.partition_rows.get(claim_table, 0) + len(claim_rows)
            self.counts[CLAIM_TABLE] += len(claim_rows)
            self.counts[LINE_TABLE] += len(line_rows)
            yield CopyChunk(
                claim_table, CLAIM_COLUMNS, "".join(claim_rows).encode(), len(claim_rows), len(claim_rows)
            )
            yield CopyChunk(
                partition_name(LINE_TABLE, month), LINE_COLUMNS, "".join(line_rows).encode(), len(line_rows)
            )
        if self.history_rows:
            self.counts[HISTORY_TABLE] += len(self.history_rows)
            rows = self.history_rows
            yield CopyChunk(HISTORY_TABLE, HISTORY_COLUMNS, "".join(rows).encode(), len(rows))
        if self.adjustment_rows:
            self.counts[ADJUSTMENT_TABLE] += len(self.adjustment_rows)
            rows = self.adjustment_rows
            yield CopyChunk(ADJUSTMENT_TABLE, ADJUSTMENT_COLUMNS, "".join(rows).encode(), len(rows))
        self.month_rows = {}
        if self.number_rows:
            self.counts[NUMBER_TABLE] += len(self.number_rows)
            rows = self.number_rows
            yield CopyChunk(NUMBER_TABLE, NUMBER_COLUMNS, "".join(rows).encode(), len(rows))
        self.history_rows = []
        self.adjustment_rows = []
        self.number_rows = []
        self.buffered = 0

    # -- one claim --------------------------------------------------------------------------------------------

    def _claim_with_follow_up(self, day: int, claim_id: int, room: int) -> list[_Draft]:
        rng = self.rng
        original = self._original(day, claim_id)
        self._adjudicate(original)
        if room < 2:
            return [original]
        r = rng.random()
        if r >= P_REPLACE + P_VOID + P_DUPLICATE:
            return [original]
        if r < P_REPLACE + P_VOID:
            # A corrected claim or a void follows the original's last decision (an examiner's, should the engine
            # pend it) by days to weeks.
            if original.decide_at is None:
                return [original]
            final = original.decide_at if original.release is None else original.release + 1
            replace = r < P_REPLACE
            arrival = final // DAY + (rng.randint(2, 60) if replace else rng.randint(5, 90))
            if arrival >= self.days:
                return [original]
            follow = self._copy_of(original, claim_id + 1, corrected=replace)
            self._receive(follow, arrival)
            follow.frequency = FrequencyCode.REPLACEMENT.value if replace else FrequencyCode.VOID.value
            follow.related = original
            follow.relation = REPLACES if replace else VOIDS
            follow.pccn = self._payer_control_number(original)
            self._adjudicate(follow)
            if follow.decide_at is not None:
                # The engine ends the original when it decides the replacement or void: the original's rows
                # wait for that.
                original.ended_by = follow
            return [original, follow]
        # duplicate-rule: an exact duplicate, the same claim sent again weeks later; ingest links it to the
        # original and the engine denies it CARC 18 (linked here by the generator, not by ingest's rule).
        arrival = original.received // DAY + rng.randint(20, 50)
        if arrival >= self.days:
            return [original]
        duplicate = self._copy_of(original, claim_id + 1, corrected=False)
        self._receive(duplicate, arrival)
        duplicate.related = original
        duplicate.relation = DUPLICATE_OF
        self._adjudicate(duplicate)
        return [original, duplicate]

    def _original(self, day: int, claim_id: int) -> _Draft:
        random = self._random
        ordinal = self._ordinal0 + day
        # Patient: utilisation-weighted; mostly someone covered on the day (else the engine denies CO-26/27).
        m_cum, m_lo, m_last, m_base, m_span = (
            self._m_cum,
            self._m_lo,
            self._m_last,
            self._m_base,
            self._m_span,
        )
        eff1, term1, plan1, plan2, eff2 = (
            self._m_eff1,
            self._m_term1,
            self._m_plan1,
            self._m_plan2,
            self._m_eff2,
        )
        member = 0
        for _ in range(30):
            member = bisect_right(m_cum, m_base + random() * m_span, m_lo, m_last) + 1
            if eff1[member] <= ordinal <= term1[member]:
                plan = plan1[member]
                break
            if plan2[member] >= 0 and ordinal >= eff2[member]:
                plan = plan2[member]
                break
            if random() < P_ACCEPT_UNCOVERED:
                plan = plan1[member]
                break
        else:
            plan = plan1[member]
        age = self._m_age[member]
        kinds, kinds_cum = self.encounters_by_age[age if age < 120 else 120]
        kind = kinds[bisect_right(kinds_cum, random() * kinds_cum[-1])]
        group = self._groups[kind]
        if group == PRIMARY and age < 18 and random() < 0.6:
            group = PEDS
        ids, cum, _ = self._candidates(self._m_state[member], plan, group, random() < P_OUT_OF_NETWORK)
        person = ids[bisect_right(cum, random() * cum[-1])]
        billing = self._billing_of[person]
        draft = _Draft()
        draft.id = claim_id
        draft.sdf = day
        draft.member = member
        draft.plan = plan
        draft.billing = billing
        draft.rendering = 0 if billing == person or group == LAB else person
        places = self._places[kind]
        draft.pos = places[int(random() * len(places))]
        draft.number = f"{self._number_prefix}{claim_id:010d}"
        codes = self._diagnoses(kind)
        if random() < P_DIAGNOSIS_INVALID:
            # The principal diagnosis sent as its three-character category: not billable (when the category has
            # codes under it), so ingest records the problem and the engine denies the claim.
            problem = self.category_problems[codes[0][:3]]
            if problem is not None and codes[0][:3] not in codes:
                codes[0] = codes[0][:3]
                draft.problems = (problem,)
        ndiag = draft.ndiag = len(codes)
        draft.diagnoses = "{" + ",".join(codes) + "}"
        lines = draft.lines = self._lines(kind, day, ndiag, self._fee_permille[billing])
        if random() < P_UNLISTED:
            unlisted = self._unlisted.get(group)
            if unlisted is not None:
                code, fee = unlisted
                charge = (fee * self._fee_permille[billing] + 500) // 1000
                lines.append((code, "{}", charge, 1, "{1}", self._rvus(code, 1), day, ()))
        sdt = day
        total = 0
        for line in lines:
            total += line[2]
            if line[6] > sdt:
                sdt = line[6]
        draft.sdt = sdt
        draft.total = total
        self._receive(draft, None)
        return draft

    def _diagnoses(self, kind: int) -> list[str]:
        random = self._random
        dx_codes, dx_cum, dx_total = self.dx_codes, self.dx_cum, self.dx_total
        count_cum = self.dx_count_cum
        count = bisect_right(count_cum, random() * count_cum[-1]) + 1
        if random() < P_TYPICAL_PRINCIPAL:
            typical, typical_cum = self.principal[kind]
            codes = [typical[bisect_right(typical_cum, random() * typical_cum[-1])]]
        else:
            codes = [dx_codes[bisect_right(dx_cum, random() * dx_total)]]
        while len(codes) < count:
            code = dx_codes[bisect_right(dx_cum, random() * dx_total)]
            if code not in codes:
                codes.append(code)
        return codes

    def _rvus(self, code: str, units: int) -> str:
        rvus = self.rvu_text.get((code, units))
        if rvus is None:
            rvus = self.rvu_text[(code, units)] = str(line_rvus(code, Decimal(units)))
        return rvus

    def _lines(self, kind: int, day: int, ndiag: int, fee_permille: int) -> list[_Line]:
        random = self._random
        main_services, extra_services = self._services[kind]
        services = [main_services[int(random() * len(main_services))]]
        extra_cum = self.extra_cum[kind]
        wanted = bisect_right(extra_cum, random() * extra_cum[-1])
        available = len(extra_services)
        if wanted > available:
            wanted = available
        if wanted:
            in_season = self.month_of_day[day] in FLU_SEASON_MONTHS
            codes = [services[0][0]]
            tried: list[int] = []
            while len(tried) < wanted:
                i = int(random() * available)
                if i in tried:
                    continue
                tried.append(i)
                service = extra_services[i]
                if service[0] in codes or (not in_season and service[0] in FLU_SEASON_CODES):
                    continue
                codes.append(service[0])
                services.append(service)
        spread_days = self._spread[kind]
        spread = spread_days and random() < 0.5
        last_day = self.days - 1
        first_pointers = _POINTER_RUNS[int(random() * ndiag)]
        lines: list[_Line] = []
        for number, (code, fee, modifiers, max_units, modifier_codes) in enumerate(services, start=1):
            units = 1 + int(random() * max_units) if max_units > 1 else 1
            charge = (fee * fee_permille + 500) // 1000 * units
            pointers = first_pointers if number == 1 else _POINTER_ONE[int(random() * ndiag)]
            rvus = self._rvus(code, units)
            line_day = day
            if spread and number > 1:
                line_day = min(last_day, day + int(random() * (spread_days + 1)))
            if code in MODIFIER_22_CODES and random() < P_MODIFIER_22:
                # Increased procedural services: the surgeon asks for more than the usual fee.
                modifier_codes = ("22", *modifier_codes)
                modifiers = "{" + ",".join(modifier_codes) + "}"
                charge = charge * 3 // 2
            lines.append((code, modifiers, charge, units, pointers, rvus, line_day, modifier_codes))
        return lines

    def _copy_of(self, original: _Draft, claim_id: int, *, corrected: bool) -> _Draft:
        """The same claim sent again; ``corrected`` (a replacement) drops the last line or fixes a charge."""
        draft = _Draft()
        for name in ("sdf", "sdt", "number", "member", "plan", "billing", "rendering", "pos", "diagnoses",
                     "ndiag", "problems"):  # fmt: skip
            setattr(draft, name, getattr(original, name))
        draft.id = claim_id
        lines = list(original.lines)
        if corrected:
            if len(lines) > 1:
                lines.pop()
            else:
                code, modifiers, charge, units, pointers, rvus, day, modifier_codes = lines[0]
                lines[0] = (code, modifiers, charge * (90 + self.rng.randint(0, 20)) // 100, units, pointers,
                            rvus, day, modifier_codes)  # fmt: skip
        draft.lines = lines
        draft.sdt = max(line[6] for line in lines) if corrected else original.sdt
        if draft.sdt < draft.sdf:  # pragma: no cover - lines keep the first day
            draft.sdt = draft.sdf
        draft.total = sum(line[2] for line in lines)
        return draft

    def _receive(self, draft: _Draft, day: int | None) -> None:
        """Put the claim in a batch on ``day`` (None: service end + a filing lag) and record its receipt."""
        rng = self.rng
        random = rng.random
        if day is None:
            # The lag given that the claim is on file by as_of (its day's volume was thinned to match).
            room = self.days - 1 - draft.sdt
            for _ in range(50):
                r = random()
                if r < LAG_FAST[0]:
                    lag = int(rng.expovariate(1 / LAG_FAST[2]))
                elif r < LAG_FAST[0] + LAG_SLOW[0]:
                    lag = LAG_SLOW[1] + int(rng.expovariate(1 / LAG_SLOW[2]))
                else:
                    lag = LAG_LATE[1] + int(random() * LAG_LATE[2])  # late: past many payers' filing limits
                if lag <= room:
                    break
            else:
                lag = int(random() * (room + 1))
            draft.lag = lag
            day = draft.sdt + lag
        else:
            draft.lag = day - draft.sdt
        batch = day * self.slots + int(random() * self.slots)
        draft.batch = batch
        draft.received = self.batch_received[batch]
        draft.status = RECEIVED
        draft.history.append((NEW, RECEIVED, draft.received, INGEST, ""))
        totals = self.batch_totals.get(batch)
        if totals is None:
            totals = self.batch_totals[batch] = [0, 0, 0]
        totals[0] += 1
        totals[1] += len(draft.lines)
        totals[2] += draft.total

    def _adjudicate(self, draft: _Draft) -> None:
        """Validation, and when the engine will decide the claim (``decide_at``; it waits in ``waiting``
        until then). The draws of the claim's timeline never depend on the decision."""
        rng = self.rng
        random = rng.random
        validated = self.batch_validated[draft.batch]
        if validated >= self.cutoff:
            return
        draft.history.append((RECEIVED, VALIDATED, validated, VALIDATION, ""))
        draft.status = VALIDATED
        draft.processed = validated
        r = random()
        if r < 0.55:
            took = 60 + int(random() * 3540)  # auto-adjudicated within the hour
        elif r < 0.85:
            took = 3600 + int(random() * 3 * DAY)
        else:
            took = 3 * DAY + int(random() * 27 * DAY)  # a backlog: the run was days behind
        adjudicated = validated + took
        if adjudicated >= self.cutoff:
            return
        # Should the engine pend it: what the examiner does (``_release``) and when (the approval's engine
        # decision follows one second later, before as_of).
        draft.examiner = random()
        release = adjudicated + rng.randrange(DAY, 40 * DAY)
        draft.release = release if release + 1 < self.cutoff else None
        draft.decide_at = adjudicated
        draft.queued = True  # ``decisions`` puts it in ``waiting``

    # -- decisions --------------------------------------------------------------------------------------------

    def _dollars(self, cents: int) -> Decimal:
        amount = self._dollars_of.get(cents)
        if amount is None:
            amount = self._dollars_of[cents] = Decimal(cents).scaleb(-2)
        return amount

    def _coverage(self, member: int, plan: int) -> tuple[tuple[dt.date, dt.date | None], ...]:
        """The (effective, termination or None) spans of the member's enrollments in ``plan`` (``people``
        writes one enrollment for the first plan and, after a switch, an open one for the second)."""
        key = member * 16 + plan
        spans = self._spans.get(key)
        if spans is None:
            found: list[tuple[dt.date, dt.date | None]] = []
            if self._m_plan1[member] == plan:
                term = self._m_term1[member]
                found.append(
                    (
                        dt.date.fromordinal(self._m_eff1[member]),
                        None if term >= _OPEN_ENDED else dt.date.fromordinal(term),
                    )
                )
            if self._m_plan2[member] == plan:
                found.append((dt.date.fromordinal(self._m_eff2[member]), None))
            spans = self._spans[key] = tuple(found)
        return spans

    def _facts(self, draft: _Draft, *, original_open: bool = False) -> ClaimFacts:
        """What the adjudication service would read of the claim once loaded (lines carry no place of service
        of their own, SV1-05 is sent only when it differs, so each takes the claim's CLM05-1 as the service
        does). ``original_open``: the original a replacement or void names is not replaced or voided yet.

        The engine's facts are frozen dataclasses; they are made here by filling their ``__dict__`` (what the
        generated ``__init__`` does through ``object.__setattr__`` field by field, at twice the cost: 5 % of the
        generator's time at 1,000,000 claims). Same objects, same equality.
        """
        dates, dollars_of, units_of, pos = self.dates, self._dollars_of, self._units_of, draft.pos
        lines = []
        number = 0
        for code, _, cents, units, _, _, day, modifiers in draft.lines:
            number += 1
            charge = dollars_of.get(cents)
            if charge is None:
                charge = self._dollars(cents)
            line = _new(LineFacts)
            line.__dict__.update(
                line_number=number, procedure_code=code, modifiers=modifiers, charge=charge,
                units=units_of[units], service_date=dates[day], place_of_service=pos,
            )  # fmt: skip
            lines.append(line)
        facts = _new(ClaimFacts)
        facts.__dict__.update(
            claim_id=draft.id,
            received_on=dates[draft.received // DAY],
            service_date_from=dates[draft.sdf],
            total_charge=self._dollars(draft.total),
            code_problems=draft.problems,
            coverage=self._coverage(draft.member, draft.plan),
            enrolled_anywhere=True,  # every synthetic member has an enrollment
            in_network=draft.plan in self._networks[draft.billing],
            lines=tuple(lines),
            frequency_code=draft.frequency,
            relation=draft.relation,
            original_open=original_open,
        )
        return facts

    def _wait(self, at: int, event: int, draft: _Draft) -> None:
        """Queue ``event`` of ``draft`` for ``at`` (seconds), in the bucket of its day."""
        day = at // DAY
        if day <= self.decided_day:  # pragma: no cover - see _decide_day
            raise RuntimeError(f"claim {draft.id}: an event on day {day}, already decided")
        bucket = self.waiting.get(day)
        if bucket is None:
            self.waiting[day] = [(at, draft.id, event, draft)]
        else:
            bucket.append((at, draft.id, event, draft))

    def _decide_day(self, day: int) -> None:
        """Make every decision due on ``day``, oldest first (ties by claim id).

        Called for each day in turn once the day's claims are generated. A bucket per day, sorted when its day
        comes, instead of one heap of everything waiting: the same order (no event lands on a day already
        decided: a claim is received after its last service day, decided after it is received, and an
        examiner's release comes a day or more after the decision), at a fraction of the cost of ~20 tuple
        comparisons in a heap of 100,000 per event (6 % of the generator's time at 1,000,000 claims).
        """
        self.decided_day = day
        bucket = self.waiting.pop(day, None)
        if bucket is None:
            return
        bucket.sort()  # (seconds, claim id) is unique: the events themselves are never compared
        for at, _, event, draft in bucket:
            draft.queued = False
            if event == _ADJUDICATE:
                self._engine(draft, at, reviewed=False)
                if draft.status == PENDED and draft.release is not None and draft.examiner >= P_PEND_LEFT:
                    draft.queued = True
                    self._wait(draft.release + 1, _RELEASE, draft)
                    continue
            else:
                self._release(draft, at)
            if draft.ended_by is None:  # else it is written when its replacement or void ends it
                self._emit(draft)

    def _engine(self, draft: _Draft, at: int, *, reviewed: bool) -> None:
        """The engine's decision at ``at`` with the deductible the member has left in the plan year, written
        as the adjudication service writes it (history source "adjudication", from validated). A replacement
        or void ends its original as the service does: the original's deductible, when it was approved, goes
        back to the accumulator first; the original is replaced or voided at the same moment."""
        key = (draft.member, draft.plan, self.year_of_day[draft.sdf])
        original = draft.related if draft.relation in (REPLACES, VOIDS) else None
        original_open = original is not None and original.ended is None
        if original is not None and original_open:
            if original.queued:  # pragma: no cover - follow-ups arrive after the original's last decision
                raise RuntimeError(f"claim {draft.id} ends claim {original.id} before its decision")
            if original.status == APPROVED and original.decision is not None:
                spent = _deductible_of(original.decision)
                if spent:
                    okey = (original.member, original.plan, self.year_of_day[original.sdf])
                    self.met[okey] = max(self.met.get(okey, ZERO) - spent, ZERO)
        facts = self._facts(draft, original_open=original_open)
        met = self.met.get(key, ZERO)
        benefits = self.benefits[draft.plan]
        decision = decide(
            facts, benefits, deductible_left=max(benefits.deductible - met, ZERO), reviewed=reviewed
        )
        self.met[key] = met + decision.deductible_applied
        draft.decision = decision
        # Plain strings from here on: formatting an enum member in an f-string costs three times a str's.
        draft.status = status = str(decision.status)
        draft.carc = str(decision.carc)
        draft.pend_reason = str(decision.pend_reason)
        draft.edits = tuple(decision.edits)
        draft.processed = at
        draft.ms = (at - draft.received) * 1000
        draft.history.append((VALIDATED, status, at, ADJUDICATION, _note(decision)))
        if original is not None and original_open:
            replaced = draft.relation == REPLACES
            original.ended = (
                REPLACED if replaced else VOIDED,
                at,
                note_ended(replaced=replaced, by_claim_id=draft.id),
            )
            if original.ended_by is draft:
                self._emit(original)
                original.ended_by = None  # no reference cycle left behind (the follow-up keeps ``related``)

    def _release(self, draft: _Draft, at: int) -> None:
        """An examiner takes a pended claim at ``at - 1``: approves it (back to validated, then the engine decides
        it with the review pends skipped, at ``at``) or denies it with a CARC of review denials."""
        seen = at - 1
        approve = draft.examiner < P_PEND_LEFT + (1 - P_PEND_LEFT) * (1 - P_EXAMINER_DENY)
        if approve:
            draft.history.append((PENDED, VALIDATED, seen, EXAMINER, EXAMINER_NOTE_APPROVED))
            self._engine(draft, at, reviewed=True)
            return
        carc = self.examiner_carcs[pick(self.examiner_rng, self.examiner_carc_cum)]
        edit = Edit("examiner_denied", Action.DENY_CLAIM, "Denied by claims staff", carc=carc)
        facts = self._facts(draft)
        # The pend's edits stay (claims_deny changes the status, CARC and money, not the edits).
        draft.decision = denied_in_full(facts.lines, facts.total_charge, edit)
        draft.status = DENIED
        draft.carc = carc
        draft.pend_reason = ""
        draft.processed = seen
        draft.ms = (seen - draft.received) * 1000
        draft.history.append((PENDED, DENIED, seen, EXAMINER, f"CARC {carc}"))

    # -- text -------------------------------------------------------------------------------------------------

    def _emit(self, draft: _Draft) -> None:
        """Format the claim, now that its story up to as_of is complete, into the buffers of its month."""
        month = self.month_start_of_day[draft.sdf]
        buffers = self.month_rows.get(month)
        if buffers is None:
            buffers = self.month_rows[month] = ([], [])
        self._format(draft, buffers[0], buffers[1], self.history_rows, self.adjustment_rows)
        self.buffered += 1
        self.unwritten[month] -= 1

    def _format(
        self, draft: _Draft, claims: list[str], lines: list[str], history: list[str], adjustments: list[str]
    ) -> None:
        day_text = self._day_text
        at = self._at
        sdf = day_text[draft.sdf]
        claim_id = draft.id
        decision = draft.decision
        decided = decision.lines if decision is not None else ()  # a pended claim has no priced lines
        line_id = self.next_line_id
        step = self.parts
        rvu_cents = 0
        # The claim's paid and allowed are its lines' sums, its patient responsibility the PR adjustments' sum
        # (ClaimDecision's properties, added up here on the way).
        paid_total = allowed_total = responsibility = ZERO
        head = f"\t{sdf}\t{claim_id}\t"
        for number, (code, modifiers, charge, units, pointers, rvus, day, _) in enumerate(
            draft.lines, start=1
        ):
            # line_rvus quantizes to cents ("2.65", "0" for codes without an RVU): dropping the dot gives cents.
            rvu_cents += int(rvus.replace(".", ""))
            line_day = day_text[day]
            if decided:
                line = decided[number - 1]
                allowed, paid, verdict = line.allowed, line.paid, _TEXT[line.status]
                paid_total += paid
                allowed_total += allowed
            else:
                allowed, paid, verdict = ZERO, ZERO, ""
            lines.append(
                f"{line_id}{head}{number}\tHC\t{code}\t{modifiers}\t{charge // 100}.{charge % 100:02d}\tUN\t"
                f"{units}\t\t{pointers}\t{paid!s}\t{rvus}\t{line_day}\t{line_day}\t{allowed!s}\t{verdict}\n"
            )
            line_id += step
        self.next_line_id = line_id
        if decision is not None:
            # The CAS rows as the adjudication service writes them (adjustment_rows): claim level as line 0.
            adjustment_id = self.next_adjustment_id
            head = f"\t{claim_id}\t{sdf}\t"
            codes = self._cas_codes
            for a in decision.adjustments:
                text = codes.get((a.group, a.carc, a.rarc)) or self._cas_code(a.group, a.carc, a.rarc)
                adjustments.append(f"{adjustment_id}{head}0\t{text}\t{a.amount!s}\n")
                adjustment_id += step
                if a.group == PATIENT:
                    responsibility += a.amount
            for line in decided:
                number = line.line_number
                for a in line.adjustments:
                    text = codes.get((a.group, a.carc, a.rarc)) or self._cas_code(a.group, a.carc, a.rarc)
                    adjustments.append(f"{adjustment_id}{head}{number}\t{text}\t{a.amount!s}\n")
                    adjustment_id += step
                    if a.group == PATIENT:
                        responsibility += a.amount
            self.next_adjustment_id = adjustment_id
        steps = draft.history
        status, processed, pend_reason = draft.status, draft.processed, draft.pend_reason
        if draft.ended is not None:
            # The lifecycle writer's move to replaced / voided: processed_at moves, the pend reason goes.
            ended, ended_at, note = draft.ended
            steps = [*steps, (status, ended, ended_at, ADJUDICATION, note)]
            status, processed, pend_reason = ended, ended_at, ""
        self.outcomes[status] = self.outcomes.get(status, 0) + 1
        # Where the claim is, by its number (claims.models.ClaimNumber), as ingest records it.
        self.number_rows.append(f"{claim_id}\t{sdf}\t{draft.billing}\t{draft.number}\n")
        related = draft.related
        total = draft.total
        problems = "{" + ",".join(f'"{p}"' for p in draft.problems) + "}" if draft.problems else "{}"
        edits = "{" + ",".join(draft.edits) + "}" if draft.edits else "{}"
        claims.append(
            f"{claim_id}\t{sdf}\t{day_text[draft.sdt]}\t{draft.number}\t{draft.batch + 1}\t{draft.member}\t"
            f"{draft.plan + 1}\t{draft.billing}\t{draft.rendering or NULL}\t{draft.pos}\t{draft.frequency}\t"
            f"{status}\t{draft.carc}\t{at(draft.received)}\t{NULL if processed is None else at(processed)}\t"
            f"{total // 100}.{total % 100:02d}\t{paid_total!s}\t"
            f"{len(draft.lines)}\t{rvu_cents // 100}.{rvu_cents % 100:02d}\ticd10cm\t"
            f"{draft.diagnoses}\t{problems}\t{draft.pccn}\t"
            f"{NULL if related is None else related.id}\t{NULL if related is None else sdf}\t{draft.relation}\t"
            # allowed, patient responsibility, pend reason, assignee, edits, processing ms, 835, reversal 835
            f"{allowed_total!s}\t{responsibility!s}\t{pend_reason}\t{NULL}\t{edits}\t"
            f"{NULL if draft.ms is None else draft.ms}\t{NULL}\t{NULL}\n"
        )
        # lifecycle: status history rows are formatted here, from the (from, to, seconds, source, note) steps
        # the draft collected, not produced by the claims app's lifecycle writer.
        history_id = self.next_history_id
        head = f"\t{claim_id}\t{sdf}\t"
        for old, new, moment, source, note in steps:
            if (old, new) not in self.allowed_moves:
                # The lifecycle's own rules (claims.lifecycle): the generator writes no move ingest,
                # validation, adjudication or an examiner could not make. Checked once per kind of move.
                check_transition(old, new)
                self.allowed_moves.add((old, new))
            history.append(f"{history_id}{head}{old}\t{new}\t{at(moment)}\t\\N\t{source}\t{note}\n")
            history_id += step
        self.next_history_id = history_id

    def _cas_code(self, group: str, carc: str, rarc: str) -> str:
        """``group<TAB>carc<TAB>rarc`` of a CAS row, made once per combination (the codes are enum members)."""
        text = self._cas_codes[(group, carc, rarc)] = f"{group!s}\t{carc!s}\t{rarc!s}"
        return text

    def _payer_control_number(self, original: _Draft) -> str:
        """REF*F8 of a replacement or void: the payer's claim control number of the original (ICN style:
        receipt year and day of year, then the claim id)."""
        received = self.origin + dt.timedelta(seconds=original.received)
        return f"{received:%y%j}{original.id:010d}"

    def _accumulators(self) -> CopyChunk:
        """One ``MemberAccumulator`` row per (member, plan, service year) the engine decided a claim of (the
        rows the adjudication service makes on first use), with the deductible met at the end."""
        first, step = self.part + 1, self.parts
        rows = [
            f"{first + i * step}\t{member}\t{plan + 1}\t{year}\t{met}\n"
            for i, ((member, plan, year), met) in enumerate(sorted(self.met.items()))
        ]
        self.counts[ACCUMULATOR_TABLE] = len(rows)
        return CopyChunk(ACCUMULATOR_TABLE, ACCUMULATOR_COLUMNS, "".join(rows).encode(), len(rows))


def batches_chunk(
    *, seed: int, claims: int, window_start: dt.date, as_of: dt.date, totals: Iterable[dict[int, list[int]]]
) -> CopyChunk:
    """The ``IngestBatch`` rows: one per clearinghouse file that carries claims, with the claims, lines and
    charge of every part's ``batch_totals`` added up (``totals``)."""
    days = (as_of - window_start).days
    schedule = BatchSchedule(seed, claims, days)
    clock = Clock(window_start, days + 1)
    cutoff = days * DAY
    merged: dict[int, list[int]] = {}
    for part in totals:
        for batch, (count, lines, charge) in part.items():
            sums = merged.setdefault(batch, [0, 0, 0])
            sums[0] += count
            sums[1] += lines
            sums[2] += charge
    rows = []
    at = clock.at
    for batch in sorted(merged):
        count, lines, charge = merged[batch]
        day, slot = divmod(batch, schedule.slots)
        received = schedule.received[batch]
        validated = schedule.validated[batch]
        done = validated < cutoff
        name = f"clearinghouse/{clock.day[day].replace('-', '')}_{slot + 1:02d}.837"
        sha = hashlib.sha256(f"demo-data:{seed}:{batch}".encode()).hexdigest()
        size = 420 + count * 1_150 + lines * 190  # about what the 837P writer produces
        finished = received + 2 + count // 200
        rows.append(
            f"{batch + 1}\t{name}\t{sha}\t{size}\tloaded\t1\t1\t{count}\t{lines}\t{cents_text(charge)}\t"
            f"0\t[]\t[]\t"
            f"{'accepted' if done else 'pending'}\t[]\t\t{at(received)}\t{at(finished)}\t"
            f"{at(validated) if done else NULL}\n"
        )
    return CopyChunk(BATCH_TABLE, BATCH_COLUMNS, "".join(rows).encode(), len(rows))
