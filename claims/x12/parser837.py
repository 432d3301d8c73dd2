"""Map the segments of an 837P (005010X222A1) onto claim records.

Loops read (ASC X12N 005010X222A1 implementation guide, section 2.4 "837 Professional: Data Element Table"):
2000A/2010AA billing provider (HL*20, NM1*85, N3, N4, PRV*BI); 2000B/2010BA subscriber (HL*22, SBR, NM1*IL,
N3, N4, DMG); 2010BB payer (NM1*PR); 2000C/2010CA patient when not the subscriber (HL*23, PAT, NM1*QC, N3,
N4, DMG); 2300 claim (CLM, DTP, REF*F8, HI); 2310B rendering provider (NM1*82, PRV*PE); 2400 service line
(LX, SV1, DTP*472). Loops 2010AB (pay-to), 2310A/C/D/E/F, 2320/2330x (other payers, COB) and 2420x are read
past without changing the claim's parties.

What this module decides:
* A file is rejected (``X12Error``: nothing loaded) when it cannot be mapped: no ISA, a functional group
  or transaction set that is not an 837 health care claim, a truncated envelope, or a claim without billing
  provider (with NPI), subscriber, payer, place of service or a dated service line.
* Deviations that do not change what a claim means are kept as ``Finding`` warnings with segment positions:
  wrong SE/GE/IEA counts or control numbers, HL parents that do not exist, version labels other than
  005010X222A1, composites written with a separator other than the declared ISA16, HI qualifiers written as
  separate elements, CLM02 not equal to the sum of SV1-02.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from claims.x12.errors import Finding, X12Error
from claims.x12.tokenizer import Delimiters, Segment, decode, tokenize

IMPLEMENTATION_GUIDE = "005010X222A1"
# Version labels of the same transaction that we load with a warning.
TOLERATED_VERSIONS = {"005010X222", "005010X222A1", "005010X222A2"}
ICD10_QUALIFIERS = {"ABK": "principal", "ABF": "other"}
ICD9_QUALIFIERS = {"BK": "principal", "BF": "other"}
DIAGNOSIS_QUALIFIERS = {**ICD10_QUALIFIERS, **ICD9_QUALIFIERS}


@dataclass(slots=True)
class Party:
    """A person or organisation from an NM1 loop with its N3/N4/DMG/PRV details."""

    entity_type: str = ""  # NM102: 1 person, 2 organisation
    last_or_org_name: str = ""  # NM103
    first_name: str = ""  # NM104
    id_qualifier: str = ""  # NM108
    identifier: str = ""  # NM109
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    state_code: str = ""
    zip_code: str = ""
    date_of_birth: dt.date | None = None
    gender: str = ""
    taxonomy_code: str = ""
    # 2010AA REF*EI: the billing provider's employer identification number (9 digits), for the 835's payee.
    tax_id: str = ""
    position: int = 0


@dataclass(slots=True)
class ParsedLine:
    line_number: int
    position: int
    procedure_qualifier: str
    procedure_code: str
    modifiers: list[str]
    charge: Decimal
    unit_basis: str
    units: Decimal
    place_of_service: str
    diagnosis_pointers: list[int]
    service_date: dt.date | None = None
    service_date_to: dt.date | None = None


@dataclass(slots=True)
class ParsedClaim:
    """One 2300 loop with its parties resolved from the enclosing HL loops."""

    position: int
    claim_number: str
    total_charge: Decimal
    place_of_service: str
    frequency_code: str
    billing_provider: Party
    subscriber: Party
    payer: Party
    claim_filing_code: str  # SBR09
    subscriber_relationship: str  # SBR02 ("18" self) or, for a patient loop, PAT01
    patient: Party | None = None  # 2010CA when the patient is not the subscriber
    rendering_provider: Party | None = None
    diagnosis_codes: list[str] = field(default_factory=list)
    diagnosis_code_system: str = "icd10cm"
    payer_claim_control_number: str = ""
    lines: list[ParsedLine] = field(default_factory=list)

    @property
    def service_date_from(self) -> dt.date:
        return min(line.service_date for line in self.lines if line.service_date)

    @property
    def service_date_to(self) -> dt.date:
        return max(line.service_date_to for line in self.lines if line.service_date_to)


@dataclass(slots=True)
class ParsedFile:
    claims: list[ParsedClaim]
    warnings: list[Finding]
    interchange_count: int
    transaction_count: int


def _shape(value: str) -> str:
    """What a bad element value looks like, never the value: an error names the file, segment position and
    element, and goes to logs, ``IngestBatch.errors`` and the command's output, where patient data must not
    (45 CFR 164.312(b); a date of birth, a service date or an account number is PHI)."""
    digits = sum(ch.isdigit() for ch in value)
    return f"{len(value)} characters, {digits} digits"


def _not_a_number(raw: str) -> str:
    return f"not a number ({_shape(raw)})"


def _date(value: str) -> dt.date:
    return dt.datetime.strptime(value, "%Y%m%d").date()


def _decimal(seg: Segment, index: int, ref: str, file_name: str, *, required: bool = True) -> Decimal:
    raw = seg.get(index)
    if not raw:
        if required:
            raise X12Error(Finding(seg.position, seg.id, ref, "required amount is missing"), file_name)
        return Decimal("0")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise X12Error(Finding(seg.position, seg.id, ref, _not_a_number(raw)), file_name) from None
    if not value.is_finite():
        raise X12Error(Finding(seg.position, seg.id, ref, _not_a_number(raw)), file_name)
    return value


class _Parser:
    """State machine over the segments of one file (all interchanges, groups and transaction sets)."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.warnings: list[Finding] = []
        self.claims: list[ParsedClaim] = []
        self.interchanges = 0
        self.transactions = 0
        self._reset_interchange()

    # -- helpers -------------------------------------------------------------------------------------------
    def warn(self, seg: Segment, element: str, message: str) -> None:
        self.warnings.append(Finding(seg.position, seg.id, element, message))

    def fail(self, seg: Segment | None, element: str, message: str, position: int | None = None) -> X12Error:
        if seg is None:
            return X12Error(Finding(position or 0, "", element, message), self.file_name)
        return X12Error(Finding(seg.position, seg.id, element, message), self.file_name)

    def _reset_interchange(self) -> None:
        self.isa: Segment | None = None
        self.gs: Segment | None = None
        self.st: Segment | None = None
        self.group_transactions = 0
        self.interchange_groups = 0
        self.st_segment_count = 0
        self.component: str | None = None  # component separator actually used (may differ from ISA16)
        self._reset_transaction()

    def _reset_transaction(self) -> None:
        self.hl_ids: set[str] = set()
        self.billing: Party | None = None
        self.billing_hint = ""
        self.billing_taxonomy = ""
        self.subscriber: Party | None = None
        self.payer: Party | None = None
        self.claim_filing_code = ""
        self.relationship = ""
        self.patient: Party | None = None
        self.patient_relationship = ""
        self.claim: ParsedClaim | None = None
        self.line: ParsedLine | None = None
        # Which NM1 loop the following N3/N4/DMG/PRV belong to; None = a loop we read past.
        self.current_party: Party | None = None
        self.level = ""  # "20", "22", "23" of the current HL
        self.in_other_subscriber = False  # inside 2320/2330x (COB): NM1s there are other payers' parties

    def comps(self, seg: Segment, index: int) -> list[str]:
        value = seg.get(index)
        if not value:
            return []
        return value.split(self.component or seg.delimiters.component)

    # -- envelope ------------------------------------------------------------------------------------------
    def on_isa(self, seg: Segment) -> None:
        if self.isa is not None:
            self.warn(seg, "", "ISA without IEA for the previous interchange")
        self._reset_interchange()
        self.isa = seg
        self.interchanges += 1
        if seg.get(12) and seg.get(12) != "00501":
            self.warn(seg, "ISA12", f"interchange control version {seg.get(12)!r}, expected 00501")

    def on_iea(self, seg: Segment) -> None:
        if self.isa is None:
            raise self.fail(seg, "", "IEA without ISA (malformed envelope)")
        if self.gs is not None:
            raise self.fail(seg, "", "IEA before GE: functional group not closed (truncated)")
        if seg.get(1) != str(self.interchange_groups):
            self.warn(
                seg,
                "IEA01",
                f"says {seg.get(1)!r} functional groups, the interchange has {self.interchange_groups}",
            )
        if seg.get(2).strip() != self.isa.get(13).strip():
            self.warn(
                seg, "IEA02", f"control number {seg.get(2)!r} does not match ISA13 {self.isa.get(13)!r}"
            )
        self.isa = None

    def on_gs(self, seg: Segment) -> None:
        if self.isa is None:
            raise self.fail(seg, "", "GS outside an interchange (no ISA before it)")
        if self.gs is not None:
            raise self.fail(seg, "", "GS before GE: previous functional group not closed")
        if seg.get(1) != "HC":
            raise self.fail(
                seg,
                "GS01",
                f"functional group {seg.get(1)!r} is not HC (health care claim): this is not an 837",
            )
        self._check_version(seg, 8)
        self.gs = seg
        self.group_transactions = 0
        self.interchange_groups += 1

    def on_ge(self, seg: Segment) -> None:
        if self.gs is None:
            raise self.fail(seg, "", "GE without GS (malformed envelope)")
        if self.st is not None:
            raise self.fail(seg, "", "GE before SE: transaction set not closed (truncated)")
        if seg.get(1) != str(self.group_transactions):
            self.warn(
                seg, "GE01", f"says {seg.get(1)!r} transaction sets, the group has {self.group_transactions}"
            )
        if seg.get(2) != self.gs.get(6):
            self.warn(seg, "GE02", f"control number {seg.get(2)!r} does not match GS06 {self.gs.get(6)!r}")
        self.gs = None

    def on_st(self, seg: Segment) -> None:
        if self.gs is None:
            raise self.fail(seg, "", "ST outside a functional group (no GS before it)")
        if self.st is not None:
            raise self.fail(seg, "", "ST before SE: previous transaction set not closed")
        if seg.get(1) != "837":
            raise self.fail(seg, "ST01", f"transaction set {seg.get(1)!r} is not 837 (health care claim)")
        if seg.get(3):
            self._check_version(seg, 3)
        self.st = seg
        self.st_segment_count = 1
        self.transactions += 1
        self.group_transactions += 1
        self._reset_transaction()

    def on_se(self, seg: Segment) -> None:
        if self.st is None:
            raise self.fail(seg, "", "SE without ST (malformed envelope)")
        self._close_claim()
        if seg.get(1) != str(self.st_segment_count):
            self.warn(
                seg, "SE01", f"says {seg.get(1)!r} segments, the transaction set has {self.st_segment_count}"
            )
        if seg.get(2) != self.st.get(2):
            self.warn(seg, "SE02", f"control number {seg.get(2)!r} does not match ST02 {self.st.get(2)!r}")
        self.st = None

    def _check_version(self, seg: Segment, index: int) -> None:
        version = seg.get(index)
        ref = f"{seg.id}{index:02d}"
        if version == IMPLEMENTATION_GUIDE:
            return
        if version in TOLERATED_VERSIONS:
            self.warn(
                seg, ref, f"version label {version!r}; read as {IMPLEMENTATION_GUIDE} (same claim layout)"
            )
            return
        raise self.fail(seg, ref, f"version {version!r} is not an 837 Professional ({IMPLEMENTATION_GUIDE})")

    # -- HL hierarchy --------------------------------------------------------------------------------------
    def on_hl(self, seg: Segment) -> None:
        self._close_claim()
        hl_id, parent, level = seg.get(1), seg.get(2), seg.get(3)
        if hl_id in self.hl_ids:
            self.warn(seg, "HL01", f"HL id {hl_id!r} repeats within the transaction set")
        if parent and parent not in self.hl_ids:
            self.warn(seg, "HL02", f"parent HL {parent!r} does not exist; read by position")
        self.hl_ids.add(hl_id)
        self.level = level
        self.current_party = None
        self.in_other_subscriber = False
        if level == "20":
            self.billing = None
            self.billing_hint = ""
            self.billing_taxonomy = ""
            self.subscriber = None
            self.payer = None
            self.patient = None
        elif level == "22":
            self.subscriber = None
            self.payer = None
            self.patient = None
            self.claim_filing_code = ""
            self.relationship = ""
        elif level == "23":
            self.patient = None
            self.patient_relationship = ""
        else:
            raise self.fail(seg, "HL03", f"hierarchical level code {level!r} is not 20, 22 or 23")

    # -- parties -------------------------------------------------------------------------------------------
    def _party(self, seg: Segment) -> Party:
        return Party(
            entity_type=seg.get(2),
            last_or_org_name=seg.get(3).strip(),
            first_name=seg.get(4).strip(),
            id_qualifier=seg.get(8),
            identifier=seg.get(9).strip(),
            position=seg.position,
        )

    def on_nm1(self, seg: Segment) -> None:
        code = seg.get(1)
        self.current_party = None
        if self.claim is not None:
            if self.line is None and not self.in_other_subscriber and code == "82":
                party = self._party(seg)
                self.claim.rendering_provider = party
                self.current_party = party
            # Any other NM1 inside a claim belongs to 2310x/2330x/2420x loops we read past.
            return
        if self.level == "20" and code not in ("85", "87") and self.billing is None:
            # Kept to explain a later "no billing provider" rejection (e.g. NM1*117 instead of NM1*85).
            self.billing_hint = (
                f" (NM1 at segment {seg.position} has entity identifier code {code!r}, expected '85')"
            )
        if self.level == "20" and code == "85":
            self.billing = self._party(seg)
            self.billing.taxonomy_code = self.billing_taxonomy
            self.current_party = self.billing
        elif self.level == "22" and code == "IL":
            self.subscriber = self._party(seg)
            self.current_party = self.subscriber
        elif self.level == "22" and code == "PR":
            self.payer = self._party(seg)
            self.current_party = self.payer
        elif self.level == "23" and code == "QC":
            self.patient = self._party(seg)
            self.current_party = self.patient

    def on_n3(self, seg: Segment) -> None:
        if self.current_party is not None:
            self.current_party.address_line1 = seg.get(1).strip()
            self.current_party.address_line2 = seg.get(2).strip()

    def on_n4(self, seg: Segment) -> None:
        if self.current_party is not None:
            self.current_party.city = seg.get(1).strip()
            self.current_party.state_code = seg.get(2).strip()[:2]
            self.current_party.zip_code = seg.get(3).strip()[:10]

    def on_dmg(self, seg: Segment) -> None:
        if self.current_party is None:
            return
        if seg.get(1) == "D8" and seg.get(2):
            try:
                self.current_party.date_of_birth = _date(seg.get(2))
            except ValueError:
                raise self.fail(
                    seg, "DMG02", f"date of birth is not a valid CCYYMMDD date ({_shape(seg.get(2))})"
                ) from None
        self.current_party.gender = seg.get(3)

    def on_prv(self, seg: Segment) -> None:
        # PRV*BI (billing, 2000A) and PRV*PE (rendering, 2310B) carry the NUCC taxonomy in PRV03.
        if seg.get(2) != "PXC":
            return
        if self.claim is None and self.level == "20" and seg.get(1) == "BI":
            # PRV*BI is a 2000A segment: it comes before the 2010AA NM1*85 it describes.
            self.billing_taxonomy = seg.get(3)
            if self.billing is not None:
                self.billing.taxonomy_code = seg.get(3)
        elif self.claim is not None and self.claim.rendering_provider is not None and seg.get(1) == "PE":
            self.claim.rendering_provider.taxonomy_code = seg.get(3)

    def on_sbr(self, seg: Segment) -> None:
        if self.claim is not None:
            # 2320: other subscriber information (coordination of benefits).
            self.in_other_subscriber = True
            self.current_party = None
            return
        self.relationship = seg.get(2) or "18"
        self.claim_filing_code = seg.get(9)

    def on_pat(self, seg: Segment) -> None:
        if self.claim is None:
            self.patient_relationship = seg.get(1)

    # -- claim ---------------------------------------------------------------------------------------------
    def _detect_component(self, seg: Segment, index: int, expected_qualifier_len: int) -> None:
        """Use the component separator the sender really used when it differs from ISA16.

        Some files declare ISA16 ':' but write composites with '>' (e.g. ``SV1*HC>98940``); reading
        ``HC>98940`` as a qualifier would change the claim, so the real separator is taken from the first
        composite, with a warning.
        """
        if self.component is not None:
            return
        declared = seg.delimiters.component
        value = seg.get(index)
        self.component = declared
        if not value or declared in value:
            return
        if len(value) > expected_qualifier_len:
            candidate = value[expected_qualifier_len]
            if not candidate.isalnum() and not candidate.isspace():
                self.component = candidate
                self.warn(
                    seg,
                    f"{seg.id}{index:02d}",
                    f"composite written with {candidate!r} but ISA16 declares {declared!r}; read with {candidate!r}",
                )

    def on_clm(self, seg: Segment) -> None:
        self._close_claim()
        if self.st is None:
            raise self.fail(seg, "", "CLM outside a transaction set")
        if self.billing is None or not self.billing.identifier:
            raise self.fail(
                seg,
                "",
                "claim has no billing provider with an NPI (loop 2010AA NM1*85 ... XX*<NPI>)"
                + self.billing_hint,
            )
        if self.subscriber is None:
            raise self.fail(seg, "", "claim has no subscriber (loop 2010BA NM1*IL)")
        if not self.subscriber.identifier:
            raise self.fail(
                seg, "", f"subscriber at segment {self.subscriber.position} has no member id (NM109)"
            )
        if self.payer is None or not self.payer.identifier:
            raise self.fail(seg, "", "claim has no payer with an identifier (loop 2010BB NM1*PR ... PI*<id>)")
        claim_number = seg.get(1).strip()
        if not claim_number:
            raise self.fail(seg, "CLM01", "claim number (patient control number) is missing")
        if len(claim_number) > 38:
            raise self.fail(seg, "CLM01", f"claim number is {len(claim_number)} characters; the IG allows 38")
        self._detect_component(seg, 5, 2)
        clm05 = self.comps(seg, 5)
        place = clm05[0] if clm05 else ""
        if not place:
            raise self.fail(seg, "CLM05-1", "place of service code is missing")
        frequency = clm05[2] if len(clm05) > 2 and clm05[2] else "1"
        patient = self.patient if self.level == "23" else None
        relationship = (
            (self.patient_relationship or "G8") if patient is not None else (self.relationship or "18")
        )
        self.claim = ParsedClaim(
            position=seg.position,
            claim_number=claim_number,
            total_charge=_decimal(seg, 2, "CLM02", self.file_name),
            place_of_service=place[:2],
            frequency_code=frequency[:1],
            billing_provider=self.billing,
            subscriber=self.subscriber,
            payer=self.payer,
            claim_filing_code=self.claim_filing_code,
            subscriber_relationship=relationship,
            patient=patient,
        )
        self.line = None
        self.current_party = None
        self.in_other_subscriber = False

    def on_ref(self, seg: Segment) -> None:
        if self.current_party is not None and self.current_party is self.billing and seg.get(1) == "EI":
            self.current_party.tax_id = seg.get(2).strip()[:9]
            return
        if (
            self.claim is not None
            and self.line is None
            and not self.in_other_subscriber
            and seg.get(1) == "F8"
        ):
            self.claim.payer_claim_control_number = seg.get(2).strip()

    def on_hi(self, seg: Segment) -> None:
        claim = self.claim
        if claim is None or self.line is not None:
            return
        sep = self.component or seg.delimiters.component
        elements = seg.elements[1:]
        i = 0
        while i < len(elements):
            ref = f"HI{i + 1:02d}"
            value = elements[i]
            i += 1
            if not value:
                continue
            parts = value.split(sep)
            qualifier = parts[0]
            if qualifier not in DIAGNOSIS_QUALIFIERS:
                # HI*BP/BG/BE... (procedures, condition codes, values) are not diagnoses.
                return
            if len(parts) >= 2 and parts[1]:
                code = parts[1]
            elif len(parts) == 1 and i < len(elements) and elements[i] and sep not in elements[i]:
                # "HI*BK*8901": qualifier and code written as two elements instead of one composite.
                code = elements[i]
                self.warn(seg, ref, f"qualifier {qualifier} and code {code} written as separate elements")
                i += 1
            else:
                self.warn(seg, ref, f"diagnosis qualifier {qualifier} without a code; ignored")
                continue
            if qualifier in ICD9_QUALIFIERS:
                claim.diagnosis_code_system = "icd9cm"
            claim.diagnosis_codes.append(code.strip().replace(".", "").upper())

    def on_lx(self, seg: Segment) -> None:
        if self.claim is None:
            raise self.fail(seg, "", "LX (service line) outside a claim")
        self.in_other_subscriber = False
        self.current_party = None
        try:
            number = int(seg.get(1))
        except ValueError:
            number = len(self.claim.lines) + 1
            self.warn(seg, "LX01", f"line number {seg.get(1)!r} is not a number; numbered {number}")
        self.line = ParsedLine(
            line_number=number,
            position=seg.position,
            procedure_qualifier="",
            procedure_code="",
            modifiers=[],
            charge=Decimal("0"),
            unit_basis="",
            units=Decimal("0"),
            place_of_service="",
            diagnosis_pointers=[],
        )
        self.claim.lines.append(self.line)

    def on_sv1(self, seg: Segment) -> None:
        line = self.line
        if self.claim is None or line is None:
            raise self.fail(seg, "", "SV1 outside a service line (no LX before it)")
        self._detect_component(seg, 1, 2)
        procedure = self.comps(seg, 1)
        if len(procedure) < 2 or not procedure[1]:
            raise self.fail(seg, "SV1-01", f"procedure code missing in the composite ({_shape(seg.get(1))})")
        line.procedure_qualifier = procedure[0][:2]
        line.procedure_code = procedure[1].strip()
        line.modifiers = [m.strip() for m in procedure[2:6] if m.strip()]
        line.charge = _decimal(seg, 2, "SV1-02", self.file_name)
        line.unit_basis = seg.get(3)[:2] or "UN"
        line.units = _decimal(seg, 4, "SV1-04", self.file_name, required=False) or Decimal("1")
        line.place_of_service = seg.get(5)[:2]
        pointers: list[int] = []
        for p in self.comps(seg, 7):
            if p.strip().isdigit():
                pointers.append(int(p))
            elif p.strip():
                self.warn(seg, "SV1-07", f"diagnosis pointer is not a number ({_shape(p)}); ignored")
        line.diagnosis_pointers = pointers

    def on_dtp(self, seg: Segment) -> None:
        if self.line is None or seg.get(1) != "472":
            return
        fmt, value = seg.get(2), seg.get(3)
        try:
            if fmt == "D8":
                self.line.service_date = self.line.service_date_to = _date(value)
            elif fmt == "RD8":
                start, _, end = value.partition("-")
                self.line.service_date = _date(start)
                self.line.service_date_to = _date(end) if end else self.line.service_date
            else:
                raise ValueError(fmt)
        except ValueError:
            raise self.fail(
                seg, "DTP03", f"service date is not a valid date for format {fmt[:3]!r} ({_shape(value)})"
            ) from None
        if self.line.service_date_to < self.line.service_date:
            raise self.fail(seg, "DTP03", "service date range ends before it starts")

    def _close_claim(self) -> None:
        claim = self.claim
        if claim is None:
            return
        self.claim = None
        self.line = None
        if not claim.lines:
            raise X12Error(
                Finding(claim.position, "CLM", "", "claim has no service line (loop 2400)"),
                self.file_name,
            )
        for line in claim.lines:
            if not line.procedure_code:
                raise X12Error(
                    Finding(line.position, "LX", "", "service line has no SV1 (professional service)"),
                    self.file_name,
                )
            if line.service_date is None:
                raise X12Error(
                    Finding(line.position, "LX", "DTP*472", "service line has no date of service (DTP*472)"),
                    self.file_name,
                )
        line_total = sum((line.charge for line in claim.lines), Decimal("0"))
        if line_total != claim.total_charge:
            self.warnings.append(
                Finding(
                    claim.position,
                    "CLM",
                    "CLM02",
                    f"total charge {claim.total_charge} differs from the sum of line charges {line_total}",
                )
            )
        self.claims.append(claim)

    # -- driver --------------------------------------------------------------------------------------------
    def run(self, segments: Iterable[Segment]) -> ParsedFile:
        handlers = {
            "ISA": self.on_isa,
            "IEA": self.on_iea,
            "GS": self.on_gs,
            "GE": self.on_ge,
            "ST": self.on_st,
            "SE": self.on_se,
            "HL": self.on_hl,
            "NM1": self.on_nm1,
            "N3": self.on_n3,
            "N4": self.on_n4,
            "DMG": self.on_dmg,
            "PRV": self.on_prv,
            "SBR": self.on_sbr,
            "PAT": self.on_pat,
            "CLM": self.on_clm,
            "REF": self.on_ref,
            "HI": self.on_hi,
            "LX": self.on_lx,
            "SV1": self.on_sv1,
            "DTP": self.on_dtp,
        }
        last: Segment | None = None
        for seg in segments:
            last = seg
            if self.st is not None:
                self.st_segment_count += 1
            elif seg.id not in ("ISA", "IEA", "GS", "GE", "ST"):
                raise self.fail(seg, "", f"segment {seg.id!r} outside a transaction set (ST/SE)")
            handler = handlers.get(seg.id)
            if handler is not None:
                handler(seg)
            elif self.claim is not None and seg.id in ("SVD", "CAS", "AMT", "OI", "MOA"):
                # COB (2320/2430) segments: read past.
                continue
        if last is None:
            raise self.fail(None, "", "file holds no segments", position=0)
        if self.st is not None:
            raise self.fail(last, "", "file ends inside a transaction set: no SE (truncated)")
        if self.gs is not None:
            raise self.fail(last, "", "file ends inside a functional group: no GE (truncated)")
        if self.isa is not None:
            raise self.fail(last, "", "file ends inside an interchange: no IEA (truncated)")
        if self.transactions == 0:
            raise self.fail(last, "", "file holds no 837 transaction set")
        return ParsedFile(
            claims=self.claims,
            warnings=self.warnings,
            interchange_count=self.interchanges,
            transaction_count=self.transactions,
        )


def parse_837(raw: bytes, file_name: str = "") -> ParsedFile:
    """Parse an 837P file's bytes into claims and warnings.

    Returns ``ParsedFile`` (claims in file order; warnings as ``Finding`` with 1-based segment positions).
    Raises ``X12Error`` naming the file, segment position and element when the file cannot be mapped.
    """
    text = decode(raw, file_name)
    return _Parser(file_name).run(tokenize(text, file_name))


__all__ = ["Delimiters", "ParsedClaim", "ParsedFile", "ParsedLine", "Party", "parse_837"]
