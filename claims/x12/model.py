"""What ``claims.x12.writer`` writes: the parties, claims and service lines of an 837P, as plain values.

The writer is typed against these and nothing else, so any source of claims (the synthetic 837P generator of
the ops tools, a test) builds them; the writer never imports its callers.
They hold exactly what goes into the file: upper-cased names in the X12 basic character set, ICD-10-CM codes
without the dot, money as ``Decimal`` dollars, so a round-trip test can compare what ingest loads against them.
Loop and segment names are those of the ASC X12 005010X222A1 implementation guide.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class X12Payer:
    """A payer: 2010BB NM1*PR (name, PI payer id) and the subscriber's SBR09 claim filing indicator.

    ``claim_filing_code`` is code list 1032 (``members.models.PlanType`` values: "12", "MB", ...).
    """

    name: str
    payer_id: str
    claim_filing_code: str


@dataclass(frozen=True, slots=True)
class X12Provider:
    """A billing (2010AA NM1*85) or rendering (2310B NM1*82) provider.

    ``entity_type`` "1" person / "2" organisation (NM102); organisations have only ``organization_name``.
    Address and ``tax_id`` (REF*EI, 9 digits) are written for billing providers only and are "" for rendering
    providers; ``zip_code`` is ZIP+4 (9 digits, required in 2010AA N403). ``taxonomy_code`` is the NUCC code
    written in PRV*BI (billing) / PRV*PE (rendering).
    """

    npi: str
    entity_type: str
    organization_name: str
    last_name: str
    first_name: str
    taxonomy_code: str
    address_line1: str
    city: str
    state_code: str
    zip_code: str
    tax_id: str


@dataclass(frozen=True, slots=True)
class X12Member:
    """A subscriber (2010BA NM1*IL) or a dependent patient (2000C PAT, 2010CA NM1*QC).

    ``member_id`` is 2010BA NM109 (qualifier MI). 5010 patients have no identifier of their own, so a
    dependent carries its subscriber's id. ``relationship_code`` is SBR02/PAT01: 18 self, 01 spouse, 19 child.
    ``gender`` is DMG03 (F/M/U). ``subscriber`` is None for subscribers.
    """

    member_id: str
    relationship_code: str
    last_name: str
    first_name: str
    date_of_birth: dt.date
    gender: str
    address_line1: str
    city: str
    state_code: str
    zip_code: str
    plan: X12Payer
    subscriber: X12Member | None = None

    @property
    def is_subscriber(self) -> bool:
        return self.subscriber is None

    @property
    def policy_holder(self) -> X12Member:
        """The subscriber whose policy covers this member (itself for a subscriber)."""
        return self.subscriber if self.subscriber is not None else self


@dataclass(frozen=True, slots=True)
class X12ServiceLine:
    """A service line: 2400 LX, SV1, DTP*472.

    ``charge`` is the line total in dollars (SV1-02) = unit fee x ``units``; ``diagnosis_pointers`` are
    1-based positions in the claim's ``diagnosis_codes`` (SV1-07, at most 4 are written); ``modifiers`` at
    most 4 are written (SV1-01-3..6).
    """

    line_number: int
    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    diagnosis_pointers: tuple[int, ...]
    service_date: dt.date
    unit_basis: str = "UN"
    procedure_qualifier: str = "HC"


@dataclass(frozen=True, slots=True)
class X12Claim:
    """A professional claim: 2300 CLM, HI, optional 2310B, and its lines.

    ``patient`` is the subscriber itself or one of its dependents. ``rendering_provider`` is None when the
    billing provider rendered the service (2310B omitted). ``diagnosis_codes`` are ICD-10-CM without the dot,
    principal first (HI ABK, then ABF; at most 12 are written). ``frequency_code`` is CLM05-3 (1 original).
    """

    claim_number: str
    billing_provider: X12Provider
    rendering_provider: X12Provider | None
    patient: X12Member
    place_of_service: str
    diagnosis_codes: tuple[str, ...]
    lines: tuple[X12ServiceLine, ...]
    frequency_code: str = "1"

    @property
    def subscriber(self) -> X12Member:
        return self.patient.policy_holder

    @property
    def plan(self) -> X12Payer:
        return self.patient.plan

    @property
    def total_charge(self) -> Decimal:
        """CLM02 in dollars: the sum of the line charges (837P 2300 CLM02 note: must equal the sum of SV1-02)."""
        return sum((line.charge for line in self.lines), Decimal("0"))

    @property
    def service_date_from(self) -> dt.date:
        return min(line.service_date for line in self.lines)

    @property
    def service_date_to(self) -> dt.date:
        return max(line.service_date for line in self.lines)
