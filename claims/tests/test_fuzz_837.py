"""Mutation fuzz of the 837P parser and ingest over the real sample files (../shared/data/x12/837P).

Each example takes one sample and changes it: an element or component replaced by odd text, unicode, huge
numbers, exponents, negative numbers, dates or overlong strings; segments deleted, duplicated or swapped; the
text truncated; a control character inserted. ``parse_837`` must then return claims that the tables can store
as they are, or raise ``X12Error``: any other exception is a bug.

CI runs a bounded, derandomized profile (``fuzz-837-ci``, 300 examples, seconds). ``make fuzz`` sets
``FUZZ_MINUTES`` (default 5): the parser fuzz then runs rounds of fresh random examples until the time is up.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.models import Claim, ClaimLine, IngestBatch, IngestStatus
from claims.services.ingest import batch_ingest
from claims.x12.errors import X12Error
from claims.x12.parser837 import ParsedClaim, ParsedFile, Party, parse_837
from members.models import HealthPlan, Member, MemberPII
from providers.models import Provider, Specialty

FUZZ_MINUTES = float(os.environ.get("FUZZ_MINUTES") or 0)
# A fixed "today" for the parser: the same mutated file gets the same answer whatever day CI runs.
TODAY = dt.date(2026, 6, 1)

settings.register_profile(
    "fuzz-837-ci",
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same examples every run: a CI failure reproduces
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# One round of the long run; rounds repeat with fresh random examples until FUZZ_MINUTES are up.
settings.register_profile(
    "fuzz-837-long",
    max_examples=2_000,
    deadline=None,
    derandomize=False,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz-837-db",
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


# -- the samples as segments ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    name: str
    element: str
    component: str
    terminator: str
    segments: tuple[tuple[str, ...], ...]
    size: int


def _load(path: Path, root: Path) -> Sample:
    raw = path.read_bytes()
    text = raw.decode("utf-8").lstrip("\ufeff").strip()
    element = text[3]
    # ISA16 (component separator) follows the ISA's 16th element separator; the segment terminator follows it.
    idx = 3
    for _ in range(15):
        idx = text.index(element, idx + 1)
    component, terminator = text[idx + 1], text[idx + 2]
    segments = tuple(tuple(s.strip().split(element)) for s in text.split(terminator) if s.strip())
    return Sample(str(path.relative_to(root)), element, component, terminator, segments, len(raw))


@functools.cache
def samples(root: Path) -> list[Sample]:
    """Every 837P sample under ``root`` (the shared X12 directory), read once per session."""
    return [_load(p, root) for p in sorted((root / "837P").rglob("*")) if p.is_file()]


# The DB fuzz ingests one file per example: the small ones keep it to seconds.
SMALL_SAMPLE_BYTES = 4_000
# Segments that carry the values the claim tables store: mutations aim at them half of the time.
TARGETS = {"CLM", "SV1", "DTP", "DMG", "NM1", "N3", "N4", "HI", "REF", "LX", "PRV", "SBR", "PAT", "HL"}


# -- mutations --------------------------------------------------------------------------------------------------
ODD_VALUES = [
    "1e1000000",
    "-1e1000000",
    "1E+2",
    "2e0",
    "99.99999999999999999",
    "12345678901.5",
    "-1",
    "-0",
    "-0.001",
    "0",
    ".",
    "-",
    "NaN",
    "Infinity",
    "sNaN",
    "+5",
    " 5",
    "1_0",
    "1,5",
    "\u00b2",  # superscript two: str.isdigit() says yes
    "\uff11",  # full-width one
    "\u0662",  # Arabic-Indic two: Decimal() reads it
    "99991231",
    "00000000",
    "18991231",
    "19000101",
    "20240230",
    "2024815",
    "20240101-99991231",
    "20240102-20240101",
    "9" * 40,
    "",
]
CONTROL_CHARACTERS = [chr(c) for c in range(0x20)] + ["\x7f", "\x85", "\u2028"]
_DATES = st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(
    lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}"
)


def values(*, dates: bool = True) -> st.SearchStrategy[str]:
    """Element values to put into a sample. ``dates=False`` leaves out well-formed dates (they would give the DB
    fuzz claims in arbitrary months, and a partition for each)."""
    options = [
        st.sampled_from(ODD_VALUES),
        st.text(max_size=30),
        st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=30),
        st.integers(-(10**40), 10**40).map(str),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.from_regex(r"-?[0-9]{1,14}\.[0-9]{1,4}", fullmatch=True),
        st.tuples(st.integers(-9, 9), st.integers(-(10**7), 10**7)).map(lambda t: f"{t[0]}e{t[1]}"),
        # Overlong strings: past every column (the longest is 120).
        st.tuples(
            st.sampled_from(["X", "9", " ", "\u00c9", "\u0416", "\U0001f600"]), st.integers(1, 400)
        ).map(lambda t: t[0] * t[1]),
    ]
    if dates:
        options += [_DATES, st.tuples(_DATES, _DATES).map("-".join)]
    return st.one_of(options)


@dataclass(frozen=True)
class Mutation:
    kind: str  # set, set_component, delete, duplicate, swap, truncate, control
    segment: int = 0
    element: int = 0
    component: int = 0
    other: int = 0
    value: str = ""
    fraction: float = 0.0


@dataclass(frozen=True)
class Case:
    sample: Sample
    mutations: tuple[Mutation, ...]

    def __repr__(self) -> str:  # the falsifying example names the file, not its 300 KB of segments
        return f"Case({self.sample.name!r}, {self.mutations!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # what Hypothesis prints
        printer.text(repr(self))

    def render(self) -> bytes:
        s = self.sample
        segments = [list(seg) for seg in s.segments]
        for m in self.mutations:
            if not segments:
                break
            i = m.segment % len(segments)
            if m.kind in ("set", "set_component"):
                seg = segments[i]
                j = max(1, m.element)
                seg.extend([""] * (j + 1 - len(seg)))
                if m.kind == "set":
                    seg[j] = m.value
                else:
                    parts = seg[j].split(s.component)
                    k = m.component % (len(parts) + 1)
                    parts.extend([""] * (k + 1 - len(parts)))
                    parts[k] = m.value
                    seg[j] = s.component.join(parts)
            elif m.kind == "delete":
                del segments[i]
            elif m.kind == "duplicate":
                segments.insert(i, list(segments[i]))
            elif m.kind == "swap":
                j = m.other % len(segments)
                segments[i], segments[j] = segments[j], segments[i]
        text = "".join(s.element.join(seg) + s.terminator + "\n" for seg in segments)
        for m in self.mutations:
            at = int(len(text) * m.fraction)
            if m.kind == "truncate":
                text = text[:at]
            elif m.kind == "control":
                text = text[:at] + m.value + text[at:]
        return text.encode("utf-8")


@st.composite
def mutations(draw: st.DrawFn, sample: Sample, value_strategy: st.SearchStrategy[str]) -> Mutation:
    n = len(sample.segments)
    targeted = [i for i, seg in enumerate(sample.segments) if seg[0] in TARGETS]
    segment = draw(st.one_of(st.integers(0, n - 1), st.sampled_from(targeted)))
    kind = draw(
        st.sampled_from(
            ["set", "set", "set", "set_component", "delete", "duplicate", "swap", "truncate", "control"]
        )
    )
    if kind in ("set", "set_component"):
        width = len(sample.segments[segment])
        return Mutation(
            kind,
            segment=segment,
            element=draw(st.integers(1, width)),
            component=draw(st.integers(0, 6)),
            value=draw(value_strategy),
        )
    if kind == "swap":
        return Mutation(kind, segment=segment, other=draw(st.integers(0, n - 1)))
    if kind == "truncate":
        return Mutation(kind, fraction=draw(st.floats(0, 1)))
    if kind == "control":
        return Mutation(kind, fraction=draw(st.floats(0, 1)), value=draw(st.sampled_from(CONTROL_CHARACTERS)))
    return Mutation(kind, segment=segment)


@st.composite
def cases(draw: st.DrawFn, samples: list[Sample], dates: bool = True) -> Case:
    sample = draw(st.sampled_from(samples))
    found = draw(st.lists(mutations(sample, values(dates=dates)), min_size=1, max_size=3))
    return Case(sample, tuple(found))


# -- what a returned claim must satisfy -------------------------------------------------------------------------
def _field(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return getattr(field, "base_field", field)


def _fits(value: str, model: type[models.Model], name: str) -> None:
    where = f"{model.__name__}.{name}"
    assert len(value) <= _field(model, name).max_length, (where, len(value))
    assert not any(ch < " " or ch == "\x7f" for ch in value), (where, "control character")


def _amount(value: Decimal, model: type[models.Model], name: str) -> None:
    field = _field(model, name)
    assert isinstance(field, models.DecimalField)
    where = f"{model.__name__}.{name}"
    assert value.is_finite() and value >= 0, where
    assert value == value.quantize(Decimal(1).scaleb(-field.decimal_places)), (where, "decimal places")
    assert value < Decimal(10) ** (field.max_digits - field.decimal_places), (where, "too large")


def _provider(p: Party) -> None:
    _fits(p.identifier, Provider, "npi")
    _fits(p.last_or_org_name, Provider, "last_name" if p.entity_type == "1" else "organization_name")
    _fits(p.first_name, Provider, "first_name")
    _fits(p.address_line1, Provider, "address_line1")
    _fits(p.city, Provider, "city")
    _fits(p.state_code, Provider, "state_code")
    _fits(p.zip_code, Provider, "zip_code")
    _fits(p.taxonomy_code, Specialty, "taxonomy_code")
    _fits(p.tax_id, Provider, "tax_id")


def _member(p: Party) -> None:
    _fits(p.last_or_org_name, Member, "last_name")
    _fits(p.first_name, Member, "first_name")
    _fits(p.address_line1, MemberPII, "address_line1")
    _fits(p.address_line2, MemberPII, "address_line2")
    _fits(p.city, Member, "city")
    _fits(p.state_code, Member, "state_code")
    _fits(p.zip_code, Member, "zip_code")
    if p.date_of_birth is not None:
        assert dt.date(1900, 1, 1) <= p.date_of_birth <= TODAY


def _claim_fits(c: ParsedClaim) -> None:
    _fits(c.claim_number, Claim, "claim_number")
    _fits(c.place_of_service, Claim, "place_of_service")
    _fits(c.frequency_code, Claim, "frequency_code")
    _fits(c.payer_claim_control_number, Claim, "payer_claim_control_number")
    for code in c.diagnosis_codes:
        _fits(code, Claim, "diagnosis_codes")
    _amount(c.total_charge, Claim, "total_charge")
    _provider(c.billing_provider)
    if c.rendering_provider is not None:
        _provider(c.rendering_provider)
    _member(c.subscriber)
    _fits(c.subscriber.identifier, Member, "subscriber_identifier")
    if c.patient is not None:
        _member(c.patient)
    _fits(c.subscriber_relationship, Member, "relationship_code")
    _fits(c.payer.identifier, HealthPlan, "payer_id")
    _fits(c.payer.last_or_org_name, HealthPlan, "name")
    assert 1 <= len(c.lines) <= 32767
    for line in c.lines:
        assert 1 <= line.line_number <= 32767
        _fits(line.procedure_qualifier, ClaimLine, "procedure_qualifier")
        _fits(line.procedure_code, ClaimLine, "procedure_code")
        for modifier in line.modifiers:
            _fits(modifier, ClaimLine, "modifiers")
        _fits(line.unit_basis, ClaimLine, "unit_basis")
        _fits(line.place_of_service, ClaimLine, "place_of_service")
        _amount(line.charge, ClaimLine, "charge")
        _amount(line.units, ClaimLine, "units")
        assert len(line.diagnosis_pointers) <= 4 and all(1 <= p <= 12 for p in line.diagnosis_pointers)
        assert line.service_date is not None and line.service_date_to is not None
        assert dt.date(1900, 1, 1) <= line.service_date <= line.service_date_to <= dt.date(2028, 6, 1)


# -- the parser fuzz --------------------------------------------------------------------------------------------
STATS: Counter[str] = Counter()


def _check_parse(case: Case) -> None:
    STATS["examples"] += 1
    try:
        parsed: ParsedFile = parse_837(case.render(), "fuzz.edi", today=TODAY)
    except X12Error as exc:
        STATS["rejected"] += 1
        assert exc.finding.position >= 0 and exc.finding.message
        return
    STATS["parsed"] += 1
    for claim in parsed.claims:
        _claim_fits(claim)
    assert all(w.position > 0 and w.message for w in parsed.warnings)


def _run(profile: str, found: list[Sample]) -> None:
    settings(settings.get_profile(profile))(given(case=cases(found))(_check_parse))()


def test_mutated_samples_parse_to_storable_claims_or_raise_x12error(shared_x12: Path) -> None:
    STATS.clear()
    found = samples(shared_x12)
    if not FUZZ_MINUTES:
        _run("fuzz-837-ci", found)
    else:
        stop = time.monotonic() + FUZZ_MINUTES * 60
        rounds = 0
        while time.monotonic() < stop:
            _run("fuzz-837-long", found)
            rounds += 1
        print(f"\nfuzz-837: {rounds} rounds, {dict(STATS)} in {FUZZ_MINUTES:g} minutes")
    # Mutations that always broke the file, or never did, would test one side only.
    assert STATS["parsed"] > 0 and STATS["rejected"] > 0, dict(STATS)


# -- the ingest fuzz --------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_mutated_samples_load_whole_or_are_rejected_with_nothing_written(
    shared_x12: Path, tmp_path: Path
) -> None:
    seen: Counter[str] = Counter()
    small = [s for s in samples(shared_x12) if s.size < SMALL_SAMPLE_BYTES]

    @settings(settings.get_profile("fuzz-837-db"))
    @given(case=cases(small, dates=False))
    def ingest_one(case: Case) -> None:
        seen["examples"] += 1
        path = tmp_path / f"fuzz-{seen['examples']}.edi"
        path.write_bytes(case.render())
        members, providers = Member.objects.count(), Provider.objects.count()

        result = batch_ingest(path=path)

        batch = IngestBatch.objects.get(pk=result.batch.pk)
        if batch.status == IngestStatus.REJECTED:
            seen["rejected"] += 1
            (error,) = batch.errors
            assert {"position", "segment", "element", "message"} <= error.keys()
            assert isinstance(error["position"], int) and error["message"]
            assert not Claim.objects.filter(batch=batch).exists()
            assert not ClaimLine.objects.filter(claim__batch=batch).exists()
            assert (Member.objects.count(), Provider.objects.count()) == (members, providers)
        else:
            seen["loaded"] += 1
            assert batch.status in (IngestStatus.LOADED, IngestStatus.LOADED_WITH_WARNINGS)
            if result.created:
                assert Claim.objects.filter(batch=batch).count() == batch.claim_count == result.claims
                assert ClaimLine.objects.filter(claim__batch=batch).count() == batch.line_count

    ingest_one()
    print(dict(seen))
    assert seen["loaded"] > 0 and seen["rejected"] > 0, dict(seen)
