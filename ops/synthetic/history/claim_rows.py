"""Claims, lines, status history and ingest batches of a synthetic plan, as COPY text chunks.

Claims are generated day by day in service-date order (ids ascending with ``service_date_from``), so each chunk
holds one month and is copied straight into that month's partitions. A claim's story is decided when it is
generated, from times counted in seconds from the window's first midnight:

* received: service date + a filing lag (days; most within a week or two, a tail of late claims), in one of the
  day's clearinghouse batches (``IngestBatch``), never after ``as_of``;
* validated when its batch was validated (minutes later, sometimes hours);
* adjudicated after a processing time (minutes when auto-adjudicated, hours, or days for manual review):
  approved, denied (CARC) or pended; some pended claims are released later. A step that would fall after
  ``as_of`` has not happened yet, so recent claims stay open (received / validated / pended);
* a few originals are followed by a replacement (frequency 7), a void (8) or an exact duplicate (denied with
  CARC 18), written next to them with the same service dates, as ``claims.services.ingest`` links them.

Money is integer cents throughout; an approved claim pays an allowed fraction of each line's charge and the
claim's ``total_paid`` is the sum of its lines' ``paid``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from bisect import bisect_right
from collections.abc import Iterator
from decimal import Decimal
from itertools import accumulate

from claims.adjudication.edits import PendReason
from claims.fee_schedule import line_rvus
from claims.ingest_rules import note_duplicate, note_ended, note_void_of
from claims.lifecycle import NEW, ClaimStatus, StatusSource, check_transition
from claims.models import Claim, ClaimLine, ClaimStatusHistory, IngestBatch
from ops.platform.partitioning import partition_name
from ops.synthetic.history.copy_text import Clock, CopyChunk, cents_text, copy_columns
from ops.synthetic.history.people import People, pick, stream, weighted_cum
from ops.synthetic.reference import (
    CARC_COVERAGE_ENDED,
    CARC_DUPLICATE,
    CARC_OUT_OF_NETWORK,
    CARC_TIMELY_FILING,
    CHAPTER_WEIGHTS,
    CLOSED_NETWORK_TYPES,
    COMMON_DIAGNOSES,
    DENIAL_CARCS,
    ENCOUNTER_SPECS,
    FLU_SEASON_CODES,
    FLU_SEASON_MONTHS,
    LAB,
    PEDS,
    PLAN_SPECS,
    PRIMARY,
    billable_icd10_codes,
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
ADJUDICATION = StatusSource.ADJUDICATION.value

NULL = "\\N"
DAY = 86_400
# Adjudication outcomes of a claim that reaches adjudication, as shares of such claims. Pended claims are
# either left pended (waiting for records) or released to approved / denied after a review.
P_APPROVE = 0.860
P_DENY = 0.026
P_PEND = 0.034
P_PEND_APPROVE = 0.070
# (the rest: pended, then denied after review)
# Follow-ups of an original claim (each uses one of the day's claims).
P_REPLACE = 0.024
P_VOID = 0.008
P_DUPLICATE = 0.007
# A patient seen by an out-of-network provider (or one out of coverage) is rare but happens.
P_OUT_OF_NETWORK = 0.03
P_ACCEPT_UNCOVERED = 0.02
# Number of diagnosis codes on a claim (1..4) and share of principal diagnoses typical of the encounter.
DIAGNOSIS_COUNT_WEIGHTS = (35, 33, 20, 12)
P_TYPICAL_PRINCIPAL = 0.85
# Zipf exponents: common diagnoses (head) and within an ICD-10-CM chapter (tail); share of the head.
HEAD_SHARE = 0.62
ZIPF_HEAD = 0.9
ZIPF_TAIL = 1.05

# Whole rows of each table, columns from the models in field order (``copy_columns``); ``_format`` and
# ``_batches`` write the values in that order.
CLAIM_COLUMNS = copy_columns(Claim)
LINE_COLUMNS = copy_columns(ClaimLine)
HISTORY_COLUMNS = copy_columns(ClaimStatusHistory)
BATCH_COLUMNS = copy_columns(IngestBatch)
CLAIM_TABLE = Claim._meta.db_table
LINE_TABLE = ClaimLine._meta.db_table
HISTORY_TABLE = ClaimStatusHistory._meta.db_table
BATCH_TABLE = IngestBatch._meta.db_table


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


# A line: (procedure code, modifiers literal, charge cents, units, pointers literal, RVU text, service day).
_Line = tuple[str, str, int, int, str, str, int]


class _Draft:
    """One claim being generated (days and times counted from the window origin, money in cents)."""

    __slots__ = (
        "id", "sdf", "sdt", "number", "member", "plan", "billing", "rendering", "pos", "diagnoses", "ndiag",
        "lines", "total", "frequency", "status", "carc", "received", "batch", "processed", "paid_permille",
        "history", "pccn", "related", "relation", "oon", "uncovered", "lag",
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

    def __init__(self) -> None:
        self.frequency = "1"
        self.carc = ""
        self.processed: int | None = None
        self.paid_permille = 0
        self.pccn = ""
        self.related: _Draft | None = None
        self.relation = ""
        self.oon = False
        self.uncovered = False
        # lifecycle: the claim's status steps (from, to, seconds, source, note), appended as its story is
        # decided and formatted as history rows in ``ClaimRows._format``.
        self.history: list[tuple[str, str, int, str, str]] = []


# Diagnosis pointers (SV1-07): the first line points at the first k codes, later lines at one code each.
_POINTER_RUNS = ("{1}", "{1,2}", "{1,2,3}", "{1,2,3,4}")
_POINTER_ONE = ("{1}", "{2}", "{3}", "{4}")


class ClaimRows:
    """Generates the claim tables for one run; iterate ``chunks()`` once.

    ``counts`` (rows per table) and ``open_batches`` are complete after the iteration.
    """

    def __init__(self, *, seed: int, claims: int, as_of: dt.date, window_start: dt.date, people: People,
                 chunk_claims: int = 25_000) -> None:  # fmt: skip
        self.seed = seed
        self.claims = claims
        self.origin = window_start
        self.days = (as_of - window_start).days  # service days 0 .. days-1 (the last is the day before as_of)
        self.cutoff = self.days * DAY  # as_of midnight: nothing happens at or after it
        self.people = people
        self.chunk_claims = chunk_claims
        self.clock = Clock(window_start, self.days + 1)
        self.rng = stream(seed, "claims")
        self.counts = {CLAIM_TABLE: 0, LINE_TABLE: 0, HISTORY_TABLE: 0, BATCH_TABLE: 0}
        self.partition_rows: dict[str, int] = {}
        # Clearinghouse files: a few a day (more at scale), each at its own time, validated minutes later.
        self.slots = max(1, min(8, claims // 125_000))
        brng = stream(seed, "batches")
        self.batch_received: list[int] = []
        self.batch_validated: list[int] = []
        for day in range(self.days):
            for slot in range(self.slots):
                at = day * DAY + (6 + slot * 15 // self.slots) * 3600 + brng.randrange(3600)
                # Validation (pyx12) usually follows within minutes; some files wait in a backlog for hours.
                backlog = brng.random() < 0.15
                delay = brng.randrange(4 * 3600, 48 * 3600) if backlog else brng.randrange(90, 900)
                self.batch_received.append(at)
                self.batch_validated.append(at + delay)
        self.batch_totals: dict[int, list[int]] = {}  # batch index -> [claims, lines, charge cents]
        self.dx_codes, self.dx_cum = diagnosis_distribution(seed)
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
        self.carc_codes = [code for code, _ in DENIAL_CARCS]
        self.carc_cum = weighted_cum([w for _, w in DENIAL_CARCS])
        self.rvu_text: dict[tuple[str, int], str] = {}
        self.month_of_day = [(window_start + dt.timedelta(days=d)).month for d in range(self.days)]
        self.month_start_of_day = [
            (window_start + dt.timedelta(days=d)).replace(day=1) for d in range(self.days)
        ]
        self.next_line_id = 1
        self.next_history_id = 1
        self.allowed_moves: set[tuple[str, str]] = set()
        # Hot-loop lookups bound once (attribute and method lookups dominate pure-Python generation).
        members = people.members
        self._random = self.rng.random
        self._ordinal0 = window_start.toordinal()
        self._m_cum, self._m_total = members.cum, members.cum[-1]
        self._m_eff1, self._m_term1, self._m_plan1 = members.eff1, members.term1, members.plan1
        self._m_plan2, self._m_eff2 = members.plan2, members.eff2
        self._m_age, self._m_state = members.age, members.state
        self._candidates = people.providers.candidates
        self._billing_of = people.providers.billing_of
        self._fee_permille = people.providers.fee_permille
        self._groups = [e.group for e in ENCOUNTER_SPECS]
        self._places = [e.places for e in ENCOUNTER_SPECS]
        self._spread = [e.spread_days for e in ENCOUNTER_SPECS]
        self._services = [
            (
                [(s.code, s.fee_cents, "{" + ",".join(s.modifiers) + "}", s.max_units) for s in e.main],
                [(s.code, s.fee_cents, "{" + ",".join(s.modifiers) + "}", s.max_units) for s in e.extras],
            )
            for e in ENCOUNTER_SPECS
        ]
        self._number_prefix = f"S{seed % 1000:03d}-"
        self._day_text = self.clock.day
        self._at = self.clock.at

    # -- the stream -------------------------------------------------------------------------------------------

    def chunks(self) -> Iterator[CopyChunk]:
        """COPY chunks: per month, claims then lines then history of up to ``chunk_claims`` claims; then the
        batches. Claims chunks name the month's partition table directly."""
        counts = daily_counts(self.seed, self.claims, self.days, self.origin)
        claim_rows: list[str] = []
        line_rows: list[str] = []
        history_rows: list[str] = []
        month = self.month_start_of_day[0]
        next_id = 1
        for day, count in enumerate(counts):
            if self.month_start_of_day[day] != month or len(claim_rows) >= self.chunk_claims:
                yield from self._flush(month, claim_rows, line_rows, history_rows)
                claim_rows, line_rows, history_rows = [], [], []
                month = self.month_start_of_day[day]
            emitted = 0
            while emitted < count:
                drafts = self._claim_with_follow_up(day, next_id, room=count - emitted)
                for draft in drafts:
                    self._format(draft, claim_rows, line_rows, history_rows)
                next_id += len(drafts)
                emitted += len(drafts)
        yield from self._flush(month, claim_rows, line_rows, history_rows)
        yield self._batches()

    def _flush(
        self, month: dt.date, claim_rows: list[str], line_rows: list[str], history_rows: list[str]
    ) -> Iterator[CopyChunk]:
        if not claim_rows:
            return
        claim_table = partition_name(CLAIM_TABLE, month)
        self.partition_rows[claim_table] = self.partition_rows.get(claim_table, 0) + len(claim_rows)
        self.counts[CLAIM_TABLE] += len(claim_rows)
        self.counts[LINE_TABLE] += len(line_rows)
        self.counts[HISTORY_TABLE] += len(history_rows)
        yield CopyChunk(
            claim_table, CLAIM_COLUMNS, "".join(claim_rows).encode(), len(claim_rows), len(claim_rows)
        )
        yield CopyChunk(
            partition_name(LINE_TABLE, month), LINE_COLUMNS, "".join(line_rows).encode(), len(line_rows)
        )
        yield CopyChunk(HISTORY_TABLE, HISTORY_COLUMNS, "".join(history_rows).encode(), len(history_rows))

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
        final = original.history[-1][2]
        if r < P_REPLACE + P_VOID:
            # A corrected claim or a void follows the original's adjudication by days to weeks.
            if original.status not in (APPROVED, DENIED, PENDED) or original.processed is None:
                return [original]
            replace = r < P_REPLACE
            arrival = final // DAY + (rng.randint(2, 60) if replace else rng.randint(5, 90))
            if arrival >= self.days:
                return [original]
            follow = self._copy_of(original, claim_id + 1, corrected=replace)
            self._receive(follow, arrival)
            follow.frequency = "7" if replace else "8"
            follow.related = original
            follow.relation = "replaces" if replace else "voids"
            follow.pccn = self._payer_control_number(original)
            new_status = REPLACED if replace else VOIDED
            if replace:
                self._adjudicate(follow)
            else:
                follow.status = VOIDED
                follow.processed = follow.received + 1
                follow.history.append(
                    (RECEIVED, VOIDED, follow.received + 1, INGEST, note_void_of(original.id))
                )
            original.history.append(
                (
                    original.status,
                    new_status,
                    follow.received,
                    INGEST,
                    note_ended(replaced=replace, by_claim_id=follow.id),
                )
            )
            original.status = new_status
            original.processed = follow.received
            original.paid_permille = 0  # the payment is reversed: the corrected claim (if any) pays instead
            return [original, follow]
        # duplicate-rule: an exact duplicate, the same claim sent again weeks later, denied with CARC 18 as
        # ingest denies it (decided here by the generator, not by ingest's duplicate rule).
        arrival = original.received // DAY + rng.randint(20, 50)
        if arrival >= self.days:
            return [original]
        duplicate = self._copy_of(original, claim_id + 1, corrected=False)
        self._receive(duplicate, arrival)
        duplicate.related = original
        duplicate.relation = "duplicate_of"
        duplicate.status = DENIED
        duplicate.carc = CARC_DUPLICATE
        duplicate.processed = duplicate.received + 1
        duplicate.history.append(
            (RECEIVED, DENIED, duplicate.received + 1, INGEST, note_duplicate(original.id))
        )
        return [original, duplicate]

    def _original(self, day: int, claim_id: int) -> _Draft:
        random = self._random
        ordinal = self._ordinal0 + day
        # Patient: utilisation-weighted; mostly someone covered on the day (else a CARC 27 denial).
        m_cum, m_total = self._m_cum, self._m_total
        eff1, term1, plan1, plan2, eff2 = (
            self._m_eff1,
            self._m_term1,
            self._m_plan1,
            self._m_plan2,
            self._m_eff2,
        )
        uncovered = False
        member = 0
        for _ in range(30):
            member = bisect_right(m_cum, random() * m_total) + 1
            if eff1[member] <= ordinal <= term1[member]:
                plan = plan1[member]
                break
            if plan2[member] >= 0 and ordinal >= eff2[member]:
                plan = plan2[member]
                break
            if random() < P_ACCEPT_UNCOVERED:
                plan = plan1[member]
                uncovered = True
                break
        else:
            plan = plan1[member]
            uncovered = True
        age = self._m_age[member]
        kinds, kinds_cum = self.encounters_by_age[age if age < 120 else 120]
        kind = kinds[bisect_right(kinds_cum, random() * kinds_cum[-1])]
        group = self._groups[kind]
        if group == PRIMARY and age < 18 and random() < 0.6:
            group = PEDS
        ids, cum, in_network = self._candidates(
            self._m_state[member], plan, group, random() < P_OUT_OF_NETWORK
        )
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
        draft.oon = not in_network
        draft.uncovered = uncovered
        draft.number = f"{self._number_prefix}{claim_id:010d}"
        codes = self._diagnoses(kind)
        ndiag = draft.ndiag = len(codes)
        draft.diagnoses = "{" + ",".join(codes) + "}"
        lines = draft.lines = self._lines(kind, day, ndiag, self._fee_permille[billing])
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
        rvu_text = self.rvu_text
        first_pointers = _POINTER_RUNS[int(random() * ndiag)]
        lines: list[_Line] = []
        for number, (code, fee, modifiers, max_units) in enumerate(services, start=1):
            units = 1 + int(random() * max_units) if max_units > 1 else 1
            charge = (fee * fee_permille + 500) // 1000 * units
            pointers = first_pointers if number == 1 else _POINTER_ONE[int(random() * ndiag)]
            rvus = rvu_text.get((code, units))
            if rvus is None:
                rvus = rvu_text[(code, units)] = str(line_rvus(code, Decimal(units)))
            line_day = day
            if spread and number > 1:
                line_day = min(last_day, day + int(random() * (spread_days + 1)))
            lines.append((code, modifiers, charge, units, pointers, rvus, line_day))
        return lines

    def _copy_of(self, original: _Draft, claim_id: int, *, corrected: bool) -> _Draft:
        """The same claim sent again; ``corrected`` (a replacement) drops the last line or fixes a charge."""
        draft = _Draft()
        for name in ("sdf", "sdt", "number", "member", "plan", "billing", "rendering", "pos", "diagnoses",
                     "ndiag", "oon"):  # fmt: skip
            setattr(draft, name, getattr(original, name))
        draft.id = claim_id
        lines = list(original.lines)
        if corrected:
            if len(lines) > 1:
                lines.pop()
            else:
                code, modifiers, charge, units, pointers, rvus, day = lines[0]
                lines[0] = (code, modifiers, charge * (90 + self.rng.randint(0, 20)) // 100, units, pointers,
                            rvus, day)  # fmt: skip
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
        draft.history.append((NEW, RECEIVED, draft.received, INGEST, ""))
        totals = self.batch_totals.get(batch)
        if totals is None:
            totals = self.batch_totals[batch] = [0, 0, 0]
        totals[0] += 1
        totals[1] += len(draft.lines)
        totals[2] += draft.total

    def _adjudicate(self, draft: _Draft) -> None:
        """Validation and adjudication up to ``as_of``: sets status, CARC, processed time and history."""
        rng = self.rng
        random = rng.random
        validated = self.batch_validated[draft.batch]
        if validated >= self.cutoff:
            draft.status = RECEIVED
            return
        draft.history.append((RECEIVED, VALIDATED, validated, VALIDATION, ""))
        r = random()
        if r < 0.55:
            took = 60 + int(random() * 3540)  # auto-adjudicated within the hour
        elif r < 0.85:
            took = 3600 + int(random() * 3 * DAY)
        else:
            took = 3 * DAY + int(random() * 27 * DAY)  # manual review
        adjudicated = validated + took
        if adjudicated >= self.cutoff:
            draft.status = VALIDATED
            draft.processed = validated
            return
        spec = PLAN_SPECS[draft.plan]
        carc = ""
        if draft.uncovered:
            carc = CARC_COVERAGE_ENDED
        elif draft.oon and spec.plan_type in CLOSED_NETWORK_TYPES and random() < 0.4:
            carc = CARC_OUT_OF_NETWORK
        elif draft.lag > 120 and random() < 0.2:
            carc = CARC_TIMELY_FILING
        if carc:
            self._decide(draft, VALIDATED, DENIED, adjudicated, carc)
            return
        r = random()
        if r < P_APPROVE:
            self._decide(draft, VALIDATED, APPROVED, adjudicated, "")
        elif r < P_APPROVE + P_DENY:
            self._decide(draft, VALIDATED, DENIED, adjudicated, self._carc())
        else:
            draft.history.append((VALIDATED, PENDED, adjudicated, ADJUDICATION, "pended for review"))
            draft.status = PENDED
            draft.processed = adjudicated
            if r < P_APPROVE + P_DENY + P_PEND:
                return
            released = adjudicated + rng.randrange(DAY, 40 * DAY)
            if released >= self.cutoff:
                return
            if r < P_APPROVE + P_DENY + P_PEND + P_PEND_APPROVE:
                self._decide(draft, PENDED, APPROVED, released, "")
            else:
                self._decide(draft, PENDED, DENIED, released, self._carc())

    def _decide(self, draft: _Draft, old: str, new: str, at: int, carc: str) -> None:
        draft.status = new
        draft.processed = at
        if new == APPROVED:
            spec = PLAN_SPECS[draft.plan]
            permille = spec.allowed_permille + self.rng.randint(-80, 80) - (100 if draft.oon else 0)
            draft.paid_permille = max(400, min(850, permille))
            draft.history.append((old, new, at, ADJUDICATION, ""))
        else:
            draft.carc = carc
            draft.history.append((old, new, at, ADJUDICATION, f"CARC {carc}"))

    def _carc(self) -> str:
        return self.carc_codes[pick(self.rng, self.carc_cum)]

    def _payer_control_number(self, original: _Draft) -> str:
        """REF*F8 of a replacement or void: the payer's claim control number of the original (ICN style:
        receipt year and day of year, then the claim id)."""
        received = self.origin + dt.timedelta(seconds=original.received)
        return f"{received:%y%j}{original.id:010d}"

    # -- text -------------------------------------------------------------------------------------------------

    def _format(self, draft: _Draft, claims: list[str], lines: list[str], history: list[str]) -> None:
        day_text = self._day_text
        at = self._at
        sdf = day_text[draft.sdf]
        claim_id = draft.id
        permille = draft.paid_permille
        paid_total = 0
        line_id = self.next_line_id
        rvu_cents = 0
        head = f"\t{sdf}\t{claim_id}\t"
        line_decision = draft.status if draft.status in (APPROVED, DENIED) else ""
        for number, (code, modifiers, charge, units, pointers, rvus, day) in enumerate(draft.lines, start=1):
            paid = (charge * permille + 500) // 1000 if permille else 0
            paid_total += paid
            # line_rvus quantizes to cents ("2.65", "0" for codes without an RVU): dropping the dot gives cents.
            rvu_cents += int(rvus.replace(".", ""))
            line_day = day_text[day]
            # The history's decision is the claim's; what a decided line was allowed is what it paid (the
            # generator draws the paid share, not a cost share: see ops.synthetic.reference PlanSpec).
            lines.append(
                f"{line_id}{head}{number}\tHC\t{code}\t{modifiers}\t{charge // 100}.{charge % 100:02d}\tUN\t"
                f"{units}\t\t{pointers}\t{paid // 100}.{paid % 100:02d}\t{rvus}\t{line_day}\t{line_day}\t"
                f"{paid // 100}.{paid % 100:02d}\t{line_decision}\n"
            )
            line_id += 1
        self.next_line_id = line_id
        related = draft.related
        processed = draft.processed
        pend_reason = PendReason.REVIEW.value if draft.status == PENDED else ""
        total = draft.total
        claims.append(
            f"{claim_id}\t{sdf}\t{day_text[draft.sdt]}\t{draft.number}\t{draft.batch + 1}\t{draft.member}\t"
            f"{draft.plan + 1}\t{draft.billing}\t{draft.rendering or NULL}\t{draft.pos}\t{draft.frequency}\t"
            f"{draft.status}\t{draft.carc}\t{at(draft.received)}\t{NULL if processed is None else at(processed)}\t"
            f"{total // 100}.{total % 100:02d}\t{paid_total // 100}.{paid_total % 100:02d}\t"
            f"{len(draft.lines)}\t{rvu_cents // 100}.{rvu_cents % 100:02d}\ticd10cm\t"
            f"{draft.diagnoses}\t{{}}\t{draft.pccn}\t"
            f"{NULL if related is None else related.id}\t{NULL if related is None else sdf}\t{draft.relation}\t"
            # allowed, patient responsibility, pend reason, assignee, edits, processing ms (not drawn yet), 835
            f"{paid_total // 100}.{paid_total % 100:02d}\t0.00\t{pend_reason}\t{NULL}\t{{}}\t{NULL}\t{NULL}\t{NULL}\n"
        )
        # lifecycle: status history rows are formatted here, from the (from, to, seconds, source, note) steps
        # the draft collected, not produced by the claims app's lifecycle writer.
        history_id = self.next_history_id
        head = f"\t{claim_id}\t{sdf}\t"
        for old, new, moment, source, note in draft.history:
            if (old, new) not in self.allowed_moves:
                # The lifecycle's own rules (claims.lifecycle): the generator writes no move ingest,
                # validation or adjudication could not make. Checked once per kind of move.
                check_transition(old, new)
                self.allowed_moves.add((old, new))
            history.append(f"{history_id}{head}{old}\t{new}\t{at(moment)}\t\\N\t{source}\t{note}\n")
            history_id += 1
        self.next_history_id = history_id

    def _batches(self) -> CopyChunk:
        rows = []
        at = self.clock.at
        for batch in sorted(self.batch_totals):
            claims, lines, charge = self.batch_totals[batch]
            day, slot = divmod(batch, self.slots)
            received = self.batch_received[batch]
            validated = self.batch_validated[batch]
            done = validated < self.cutoff
            name = f"clearinghouse/{self.clock.day[day].replace('-', '')}_{slot + 1:02d}.837"
            sha = hashlib.sha256(f"demo-data:{self.seed}:{batch}".encode()).hexdigest()
            size = 420 + claims * 1_150 + lines * 190  # about what the 837P writer produces
            finished = received + 2 + claims // 200
            rows.append(
                f"{batch + 1}\t{name}\t{sha}\t{size}\tloaded\t1\t1\t{claims}\t{lines}\t{cents_text(charge)}\t"
                f"0\t[]\t[]\t"
                f"{'accepted' if done else 'pending'}\t[]\t\t{at(received)}\t{at(finished)}\t"
                f"{at(validated) if done else NULL}\n"
            )
        self.counts[BATCH_TABLE] = len(rows)
        return CopyChunk(BATCH_TABLE, BATCH_COLUMNS, "".join(rows).encode(), len(rows))
