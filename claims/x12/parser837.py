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
* A value the claim tables could not store as sent is refused the same way, never cut or rounded to fit:
  a string longer than its column or holding a control character (``COLUMNS``), an amount or unit count that
  is not a plain X12 decimal (type R: no exponent), is negative, or has more decimals or digits than its
  NUMERIC column (``NUMERIC_COLUMNS``), a date that is not CCYYMMDD or lies outside 1900-01-01 .. today + 2
  years (service) or .. today (birth), a second SV1 in one service line.
* Deviations that do not change what a claim means are kept as ``Finding`` warnings with segment positions:
  wrong SE/GE/IEA counts or control numbers, HL parents that do not exist, version labels other than
  005010X222A1, composites written with a separator other than the declared ISA16, HI qualifiers written as
  separate elements, CLM02 not equal to the sum of SV1-02, diagnosis pointers that are not 1-12, a line
  number that is not one, an EIN that is not 9 digits (not stored), SV1-04 missing (read as 1) or 0 (kept).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from claims.x12.errors import Finding, X12Error
from claims.x12.tokenizer import Delimiters, Segment, tokenize_stream

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


# -- what the claims platform can store -----------------------------------------------------------------------
# The ingest writes parsed values into these columns. A value that does not fit is refused here, naming the
# segment and element, instead of being cut short by the ingest or refused by PostgreSQL half way through a
# load. The x12 package does not import Django: claims/tests/test_parser_values.py checks every limit below
# against its model field, so a migration that changes a column cannot leave the parser behind.
@dataclass(frozen=True, slots=True)
class Column:
    """A character column the ingest writes an element into.

    ``field`` is "app_label.Model.field" (for an array column, the limit is its element's); ``max_length`` is
    that field's ``max_length``; ``ig_max`` is the element's maximum length in 005010X222A1 (section 2.4
    data element table), said in the error when the guide allows more than the platform stores.
    """

    field: str
    max_length: int
    ig_max: int
    what: str


@dataclass(frozen=True, slots=True)
class NumericColumn:
    """A NUMERIC(max_digits, decimal_places) column the ingest writes an amount or quantity into."""

    field: str
    max_digits: int
    decimal_places: int
    what: str


CLAIM_NUMBER = Column("claims.Claim.claim_number", 38, 38, "claim number (patient control number)")
CLAIM_PLACE_OF_SERVICE = Column("claims.Claim.place_of_service", 2, 2, "place of service code")
FREQUENCY_CODE = Column("claims.Claim.frequency_code", 1, 1, "claim frequency code")
DIAGNOSIS_CODE = Column("claims.Claim.diagnosis_codes", 8, 30, "diagnosis code")
PAYER_CLAIM_CONTROL_NUMBER = Column(
    "claims.Claim.payer_claim_control_number", 50, 50, "payer claim control number"
)
PROCEDURE_QUALIFIER = Column("claims.ClaimLine.procedure_qualifier", 2, 2, "product/service id qualifier")
PROCEDURE_CODE = Column("claims.ClaimLine.procedure_code", 48, 48, "procedure code")
MODIFIER = Column("claims.ClaimLine.modifiers", 2, 2, "procedure modifier")
UNIT_BASIS = Column("claims.ClaimLine.unit_basis", 2, 2, "unit basis code")
LINE_PLACE_OF_SERVICE = Column("claims.ClaimLine.place_of_service", 2, 2, "place of service code")
PAYER_ID = Column("members.HealthPlan.payer_id", 80, 80, "payer identifier")
PAYER_NAME = Column("members.HealthPlan.name", 120, 60, "payer name")
MEMBER_ID = Column("members.Member.subscriber_identifier", 80, 80, "member identifier")
MEMBER_RELATIONSHIP = Column("members.Member.relationship_code", 2, 2, "relationship code")
MEMBER_LAST_NAME = Column("members.Member.last_name", 60, 60, "last name")
MEMBER_FIRST_NAME = Column("members.Member.first_name", 60, 35, "first name")
MEMBER_ADDRESS_LINE1 = Column("members.MemberPII.address_line1", 55, 55, "address line")
MEMBER_ADDRESS_LINE2 = Column("members.MemberPII.address_line2", 55, 55, "address line")
MEMBER_CITY = Column("members.Member.city", 60, 30, "city name")
MEMBER_STATE = Column("members.Member.state_code", 2, 2, "state code")
MEMBER_ZIP = Column("members.Member.zip_code", 10, 15, "postal code")
PROVIDER_NPI = Column("providers.Provider.npi", 10, 80, "NPI")
PROVIDER_LAST_NAME = Column("providers.Provider.last_name", 60, 60, "last name")
PROVIDER_ORGANIZATION_NAME = Column("providers.Provider.organization_name", 60, 60, "organization name")
PROVIDER_FIRST_NAME = Column("providers.Provider.first_name", 35, 35, "first name")
PROVIDER_ADDRESS_LINE1 = Column("providers.Provider.address_line1", 55, 55, "address line")
PROVIDER_CITY = Column("providers.Provider.city", 60, 30, "city name")
PROVIDER_STATE = Column("providers.Provider.state_code", 2, 2, "state code")
PROVIDER_ZIP = Column("providers.Provider.zip_code", 10, 15, "postal code")
PROVIDER_TAXONOMY = Column("providers.Specialty.taxonomy_code", 10, 50, "taxonomy code")
PROVIDER_TAX_ID = Column("providers.Provider.tax_id", 9, 50, "employer identification number")
COLUMNS = (
    CLAIM_NUMBER,
    CLAIM_PLACE_OF_SERVICE,
    FREQUENCY_CODE,
    DIAGNOSIS_CODE,
    PAYER_CLAIM_CONTROL_NUMBER,
    PROCEDURE_QUALIFIER,
    PROCEDURE_CODE,
    MODIFIER,
    UNIT_BASIS,
    LINE_PLACE_OF_SERVICE,
    PAYER_ID,
    PAYER_NAME,
    MEMBER_ID,
    MEMBER_RELATIONSHIP,
    MEMBER_LAST_NAME,
    MEMBER_FIRST_NAME,
    MEMBER_ADDRESS_LINE1,
    MEMBER_ADDRESS_LINE2,
    MEMBER_CITY,
    MEMBER_STATE,
    MEMBER_ZIP,
    PROVIDER_NPI,
    PROVIDER_LAST_NAME,
    PROVIDER_ORGANIZATION_NAME,
    PROVIDER_FIRST_NAME,
    PROVIDER_ADDRESS_LINE1,
    PROVIDER_CITY,
    PROVIDER_STATE,
    PROVIDER_ZIP,
    PROVIDER_TAXONOMY,
    PROVIDER_TAX_ID,
)


@dataclass(frozen=True, slots=True)
class _PartyColumns:
    """Where the ingest writes one kind of party's elements; None where it does not store the element."""

    person_name: Column  # NM103 when NM102 = 1 (person)
    organization_name: Column  # NM103 otherwise
    first_name: Column | None  # NM104
    identifier: Column | None  # NM109
    address_line1: Column | None  # N301
    address_line2: Column | None  # N302
    city: Column | None  # N401
    state: Column | None  # N402
    zip_code: Column | None  # N403


# Billing (2010AA) and rendering (2310B) providers: providers.Provider, matched by NPI.
_PROVIDER = _PartyColumns(
    PROVIDER_LAST_NAME,
    PROVIDER_ORGANIZATION_NAME,
    PROVIDER_FIRST_NAME,
    PROVIDER_NPI,
    PROVIDER_ADDRESS_LINE1,
    None,
    PROVIDER_CITY,
    PROVIDER_STATE,
    PROVIDER_ZIP,
)
# Subscriber (2010BA) and patient (2010CA): members.Member and MemberPII; the patient's NM109 is not stored.
_SUBSCRIBER = _PartyColumns(
    MEMBER_LAST_NAME,
    MEMBER_LAST_NAME,
    MEMBER_FIRST_NAME,
    MEMBER_ID,
    MEMBER_ADDRESS_LINE1,
    MEMBER_ADDRESS_LINE2,
    MEMBER_CITY,
    MEMBER_STATE,
    MEMBER_ZIP,
)
_PATIENT = _PartyColumns(
    MEMBER_LAST_NAME,
    MEMBER_LAST_NAME,
    MEMBER_FIRST_NAME,
    None,
    MEMBER_ADDRESS_LINE1,
    MEMBER_ADDRESS_LINE2,
    MEMBER_CITY,
    MEMBER_STATE,
    MEMBER_ZIP,
)
# Payer (2010BB): members.HealthPlan keeps its id and name only.
_PAYER = _PartyColumns(PAYER_NAME, PAYER_NAME, None, PAYER_ID, None, None, None, None, None)

TOTAL_CHARGE = NumericColumn("claims.Claim.total_charge", 12, 2, "total claim charge")
LINE_CHARGE = NumericColumn("claims.ClaimLine.charge", 12, 2, "line item charge")
UNITS = NumericColumn("claims.ClaimLine.units", 9, 3, "service unit count")
# The batch row keeps the sum of the file's CLM02.
FILE_TOTAL_CHARGE = NumericColumn("claims.IngestBatch.total_charge", 14, 2, "sum of the file's claim charges")
NUMERIC_COLUMNS = (TOTAL_CHARGE, LINE_CHARGE, UNITS, FILE_TOTAL_CHARGE)

# ClaimLine.line_number and Claim.line_count are PostgreSQL smallint (PositiveSmallIntegerField).
SMALLINT_MAX = 32767
# SV1-07 (C004): up to 4 pointers, each 1-12 (005010X222A1 2400 SV1-07-1..4; HI carries at most 12 codes).
DIAGNOSIS_POINTERS_MAX = 4
DIAGNOSIS_POINTER_MAX = 12
# Dates before this are data entry errors, not claims or people; service dates may run ahead of today by
# SERVICE_YEARS_AHEAD (a series of services billed in advance), birth dates not at all.
EARLIEST_DATE = dt.date(1900, 1, 1)
SERVICE_YEARS_AHEAD = 2


def _is_ascii_number(value: str) -> bool:
    """True for one or more ASCII digits only: ``str.isdigit`` alone also takes "²" and "٣", ``int()`` "+1" and
    " 1"; an ASCII-only string's digits are 0-9 (and both checks run in C: this runs for every LX and pointer)."""
    return value.isascii() and value.isdigit()


_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")


def _control_characters(value: str) -> int:
    # A regex search first: this runs on every stored element (millions per file), and nearly all hold none.
    if _CONTROL_CHARACTER.search(value) is None:
        return 0
    return len(_CONTROL_CHARACTER.findall(value))


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, into a year that has none
        return day.replace(year=day.year + years, day=28)


@functools.lru_cache(maxsize=65536)
def _date(value: str) -> dt.date:
    """A CCYYMMDD date (X12 DT, 8 digits). Raises ``ValueError`` when it is not 8 ASCII digits or not a real day.

    Cached and without ``strptime``: a file repeats few distinct dates, and ``strptime`` was 30 % of parsing.
    """
    if len(value) != 8 or not (value.isascii() and value.isdigit()):
        raise ValueError("not CCYYMMDD")
    return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))


def _decimal(seg: Segment, index: int, ref: str, file_name: str, column: NumericColumn) -> Decimal:
    """Element ``index`` of ``seg`` as the exact ``Decimal`` it says, when it fits ``column``; never rounded.

    X12 data element type R (ASC X12 005010 Standards, "Data element types"): an optional leading minus sign,
    digits and an optional decimal point; no plus sign, no exponent, no thousands separator. Amounts in an 837P
    are dollars (CLM02, SV1-02); SV1-04 is a count of units or minutes.

    Raises ``X12Error`` naming the element when it is missing, not in that form, negative (charges and unit
    counts are never negative here; ``claimline_charge_nonnegative``), has more decimal places than the
    column keeps (99.999 is refused, not rounded to 100.00), or more digits before the point than it holds.
    Trailing zeros after the point and leading zeros are not digits that need storing ("1.500" is 1.5).
    """

    raw = seg.get(index)
    # Amounts repeat (fee-schedule charges, unit counts): a value once checked against a column is reused.
    known = _DECIMALS.get((raw, column))
    if known is not None:
        return known
    value = _decimal_checked(seg, raw, ref, file_name, column)
    if len(_DECIMALS) >= _DECIMALS_KEPT:
        _DECIMALS.clear()
    _DECIMALS[(raw, column)] = value
    return value


_DECIMALS: dict[tuple[str, NumericColumn], Decimal] = {}
# SV1-07 as sent (with the component separator) -> the pointers it gave without a warning.
_POINTER_LISTS: dict[tuple[str, str], tuple[int, ...]] = {}
_POINTER_LISTS_KEPT = 4096
_DECIMALS_KEPT = 65536


def _decimal_checked(seg: Segment, raw: str, ref: str, file_name: str, column: NumericColumn) -> Decimal:
    def fail(message: str) -> X12Error:
        return X12Error(Finding(seg.position, seg.id, ref, message), file_name)

    if not raw:
        raise fail(f"required {column.what} is missing")
    negative = raw.startswith("-")
    whole, _, fraction = raw[1:].partition(".") if negative else raw.partition(".")
    if not (whole or fraction) or not _is_ascii_number(whole + fraction):
        raise fail(
            f"{column.what} is not a number in X12 form (type R: digits, an optional leading minus sign and "
            f"decimal point; no exponent) ({_shape(raw)})"
        )
    whole, fraction = whole.lstrip("0"), fraction.rstrip("0")
    if negative and (whole or fraction):
        raise fail(f"{column.what} is negative; the claims platform takes no negative {column.what}")
    if len(fraction) > column.decimal_places:
        raise fail(
            f"{column.what} has {len(fraction)} decimal places; the claims platform keeps "
            f"{column.decimal_places} and does not round"
        )
    whole_digits = column.max_digits - column.decimal_places
    if len(whole) > whole_digits:
        raise fail(
            f"{column.what} has {len(whole)} digits before the decimal point; the claims platform stores at "
            f"most {whole_digits}"
        )
    try:
        value = Decimal(raw)  # exact: the constructor does not round to the context's precision
    except InvalidOperation:  # pragma: no cover - the checks above admit only what Decimal reads
        raise fail(_not_a_number(raw)) from None
    return value.copy_abs() if value.is_zero() else value  # "-0" is 0


class _Parser:
    """State machine over the segments of one file (all interchanges, groups and transaction sets)."""

    def __init__(self, file_name: str, today: dt.date | None = None) -> None:
        self.file_name = file_name
        # Injectable so that the date windows (on_dtp, on_dmg) are deterministic in tests.
        self.today = today or dt.date.today()
        self.latest_service_date = _years_after(self.today, SERVICE_YEARS_AHEAD)
        self.file_total = Decimal("0")
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

    def fit(self, seg: Segment, ref: str, value: str, column: Column) -> str:
        """``value`` when the ingest can store it in ``column`` as it is; ``X12Error`` naming ``ref`` when it
        is longer than the column or holds a control character (X12 data elements hold none; PostgreSQL
        refuses NUL in text)."""
        if len(value) > column.max_length:
            limit = f"the claims platform stores at most {column.max_length}"
            if column.ig_max > column.max_length:
                limit = f"the IG allows {column.ig_max}, {limit}"
            raise self.fail(seg, ref, f"{column.what} is {len(value)} characters; {limit}")
        if not seg.clean and _control_characters(value):
            raise self.fail(seg, ref, f"{column.what} holds a control character ({_shape(value)})")
        return value

    def _party_columns(self, party: Party) -> _PartyColumns:
        if party is self.payer:
            return _PAYER
        if party is self.subscriber:
            return _SUBSCRIBER
        if party is self.patient:
            return _PATIENT
        return _PROVIDER  # billing (2010AA) or rendering (2310B)

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

    def _check_names(self, seg: Segment, party: Party) -> None:
        columns = self._party_columns(party)
        name = columns.person_name if party.entity_type == "1" else columns.organization_name
        self.fit(seg, "NM103", party.last_or_org_name, name)
        if columns.first_name is not None:
            self.fit(seg, "NM104", party.first_name, columns.first_name)
        if columns.identifier is not None:
            self.fit(seg, "NM109", party.identifier, columns.identifier)

    def on_nm1(self, seg: Segment) -> None:
        code = seg.get(1)
        self.current_party = None
        if self.claim is not None:
            if self.line is None and not self.in_other_subscriber and code == "82":
                party = self._party(seg)
                self.claim.rendering_provider = party
                self.current_party = party
                self._check_names(seg, party)
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
        if self.current_party is not None:
            self._check_names(seg, self.current_party)

    def on_n3(self, seg: Segment) -> None:
        party = self.current_party
        if party is None:
            return
        columns = self._party_columns(party)
        party.address_line1 = seg.get(1).strip()
        party.address_line2 = seg.get(2).strip()
        if columns.address_line1 is not None:
            self.fit(seg, "N301", party.address_line1, columns.address_line1)
        if columns.address_line2 is not None:
            self.fit(seg, "N302", party.address_line2, columns.address_line2)

    def on_n4(self, seg: Segment) -> None:
        party = self.current_party
        if party is None:
            return
        columns = self._party_columns(party)
        # Kept whole: cutting a state or ZIP+4 code short would store a different place.
        party.city = seg.get(1).strip()
        party.state_code = seg.get(2).strip()
        party.zip_code = seg.get(3).strip()
        for ref, value, column in (
            ("N401", party.city, columns.city),
            ("N402", party.state_code, columns.state),
            ("N403", party.zip_code, columns.zip_code),
        ):
            if column is not None:
                self.fit(seg, ref, value, column)

    def on_dmg(self, seg: Segment) -> None:
        """DMG02 date of birth (D8, CCYYMMDD) between ``EARLIEST_DATE`` and today; DMG03 gender as sent."""
        if self.current_party is None:
            return
        if seg.get(1) == "D8" and seg.get(2):
            raw = seg.get(2)
            try:
                born = _date(raw)
            except ValueError:
                raise self.fail(
                    seg, "DMG02", f"date of birth is not a valid CCYYMMDD date ({_shape(raw)})"
                ) from None
            if not EARLIEST_DATE <= born <= self.today:
                raise self.fail(
                    seg,
                    "DMG02",
                    f"date of birth is outside {EARLIEST_DATE.isoformat()} to today ({self.today.isoformat()})",
                )
            self.current_party.date_of_birth = born
        self.current_party.gender = seg.get(3)

    def on_prv(self, seg: Segment) -> None:
        # PRV*BI (billing, 2000A) and PRV*PE (rendering, 2310B) carry the NUCC taxonomy in PRV03.
        if seg.get(2) != "PXC":
            return
        if self.claim is None and self.level == "20" and seg.get(1) == "BI":
            # PRV*BI is a 2000A segment: it comes before the 2010AA NM1*85 it describes.
            self.billing_taxonomy = self.fit(seg, "PRV03", seg.get(3), PROVIDER_TAXONOMY)
            if self.billing is not None:
                self.billing.taxonomy_code = seg.get(3)
        elif self.claim is not None and self.claim.rendering_provider is not None and seg.get(1) == "PE":
            self.claim.rendering_provider.taxonomy_code = self.fit(
                seg, "PRV03", seg.get(3), PROVIDER_TAXONOMY
            )

    def on_sbr(self, seg: Segment) -> None:
        if self.claim is not None:
            # 2320: other subscriber information (coordination of benefits).
            self.in_other_subscriber = True
            self.current_party = None
            return
        self.relationship = self.fit(seg, "SBR02", seg.get(2), MEMBER_RELATIONSHIP) or "18"
        self.claim_filing_code = seg.get(9)

    def on_pat(self, seg: Segment) -> None:
        if self.claim is None:
            self.patient_relationship = self.fit(seg, "PAT01", seg.get(1), MEMBER_RELATIONSHIP)

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
        claim_number = self.fit(seg, "CLM01", seg.get(1).strip(), CLAIM_NUMBER)
        if not claim_number:
            raise self.fail(seg, "CLM01", "claim number (patient control number) is missing")
        self._detect_component(seg, 5, 2)
        clm05 = self.comps(seg, 5)
        place = self.fit(seg, "CLM05-1", clm05[0] if clm05 else "", CLAIM_PLACE_OF_SERVICE)
        if not place:
            raise self.fail(seg, "CLM05-1", "place of service code is missing")
        frequency = self.fit(seg, "CLM05-3", clm05[2] if len(clm05) > 2 else "", FREQUENCY_CODE) or "1"
        patient = self.patient if self.level == "23" else None
        relationship = (
            (self.patient_relationship or "G8") if patient is not None else (self.relationship or "18")
        )
        self.claim = ParsedClaim(
            position=seg.position,
            claim_number=claim_number,
            total_charge=_decimal(seg, 2, "CLM02", self.file_name, TOTAL_CHARGE),
            place_of_service=place,
            frequency_code=frequency,
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
            # 005010X222A1 2010AA REF02: the EIN is exactly nine digits with no separators. Anything else
            # (real files send "10-1234567") is not stored rather than cut to fit; the claim itself is sound.
            ein = seg.get(2).strip()
            if len(ein) == PROVIDER_TAX_ID.max_length and _is_ascii_number(ein):
                self.current_party.tax_id = ein
            else:
                self.current_party.tax_id = ""
                self.warn(
                    seg,
                    "REF02",
                    f"employer identification number is not 9 digits ({_shape(ein)}); not stored",
                )
            return
        if (
            self.claim is not None
            and self.line is None
            and not self.in_other_subscriber
            and seg.get(1) == "F8"
        ):
            self.claim.payer_claim_control_number = self.fit(
                seg, "REF02", seg.get(2).strip(), PAYER_CLAIM_CONTROL_NUMBER
            )

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
            code_ref = f"{ref}-2"
            if len(parts) >= 2 and parts[1]:
                code = parts[1]
            elif len(parts) == 1 and i < len(elements) and elements[i] and sep not in elements[i]:
                # "HI*BK*8901": qualifier and code written as two elements instead of one composite.
                code = elements[i]
                code_ref = f"HI{i + 1:02d}"
                # The code is not quoted: a diagnosis is PHI (see _shape).
                self.warn(seg, ref, f"qualifier {qualifier} and its code written as separate elements")
                i += 1
            else:
                self.warn(seg, ref, f"diagnosis qualifier {qualifier} without a code; ignored")
                continue
            if qualifier in ICD9_QUALIFIERS:
                claim.diagnosis_code_system = "icd9cm"
            code = code.strip().replace(".", "").upper()
            claim.diagnosis_codes.append(self.fit(seg, code_ref, code, DIAGNOSIS_CODE))

    def on_lx(self, seg: Segment) -> None:
        if self.claim is None:
            raise self.fail(seg, "", "LX (service line) outside a claim")
        self.in_other_subscriber = False
        self.current_party = None
        if len(self.claim.lines) >= SMALLINT_MAX:
            raise self.fail(seg, "", f"claim has more than {SMALLINT_MAX} service lines (the IG allows 50)")
        raw = seg.get(1)
        if _is_ascii_number(raw) and 1 <= int(raw) <= SMALLINT_MAX:
            number = int(raw)
        else:
            # LX01 only orders the lines; a line is not lost for a bad one (ClaimLine.line_number: smallint).
            number = len(self.claim.lines) + 1
            self.warn(
                seg,
                "LX01",
                f"line number is not a number from 1 to {SMALLINT_MAX} ({_shape(raw)}); numbered {number}",
            )
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
        """2400 SV1 onto the open service line.

        SV1-02 charge in dollars and SV1-04 unit count as exact Decimals (``_decimal``). SV1-04 is required by
        the IG; a missing one is read as 1 unit (what a professional line without a count means in practice)
        with a warning. A count of 0 is kept as 0 with a warning: the line is stored as sent and adjudication
        prices it at nothing; it is not turned into 1, and one such line does not reject the whole file.
        SV1-07 diagnosis pointers: at most 4, each 1-12 in ASCII digits; any other is ignored with a warning.
        Raises ``X12Error`` for a second SV1 in one line, a value the claim tables cannot store as sent
        (``fit``), or a charge or count that is not a plain non-negative number fitting its column.
        """
        line = self.line
        if self.claim is None or line is None:
            raise self.fail(seg, "", "SV1 outside a service line (no LX before it)")
        if line.procedure_code:
            # The 2400 loop holds one SV1; reading a second over the first would lose a service.
            raise self.fail(seg, "", f"second SV1 in the service line at segment {line.position}")
        self._detect_component(seg, 1, 2)
        procedure = self.comps(seg, 1)
        if len(procedure) < 2 or not procedure[1]:
            raise self.fail(seg, "SV1-01", f"procedure code missing in the composite ({_shape(seg.get(1))})")
        qualifier = self.fit(seg, "SV1-01-1", procedure[0], PROCEDURE_QUALIFIER)
        code = self.fit(seg, "SV1-01-2", procedure[1].strip(), PROCEDURE_CODE)
        modifiers = [
            self.fit(seg, f"SV1-01-{k}", m.strip(), MODIFIER)
            for k, m in enumerate(procedure[2:6], start=3)
            if m.strip()
        ]
        line.procedure_qualifier = qualifier
        line.procedure_code = code
        line.modifiers = modifiers
        line.charge = _decimal(seg, 2, "SV1-02", self.file_name, LINE_CHARGE)
        line.unit_basis = self.fit(seg, "SV1-03", seg.get(3), UNIT_BASIS) or "UN"
        if seg.get(4):
            line.units = _decimal(seg, 4, "SV1-04", self.file_name, UNITS)
            if line.units == 0:
                self.warn(seg, "SV1-04", "service unit count is 0; kept as 0")
        else:
            line.units = Decimal("1")
            self.warn(seg, "SV1-04", "service unit count is missing (required); read as 1")
        line.place_of_service = self.fit(seg, "SV1-05", seg.get(5), LINE_PLACE_OF_SERVICE)
        line.diagnosis_pointers = self._pointers(seg)

    def _pointers(self, seg: Segment) -> list[int]:
        # Files repeat a few pointer lists ("1", "1:2"): one read without a warning is reused (as a new list).
        key = (seg.get(7), self.component or seg.delimiters.component)
        known = _POINTER_LISTS.get(key)
        if known is not None:
            return list(known)
        warnings = len(self.warnings)
        pointers = self._pointers_read(seg)
        if len(self.warnings) == warnings and len(_POINTER_LISTS) < _POINTER_LISTS_KEPT:
            _POINTER_LISTS[key] = tuple(pointers)
        return pointers

    def _pointers_read(self, seg: Segment) -> list[int]:
        pointers: list[int] = []
        for k, raw in enumerate(self.comps(seg, 7), start=1):
            p = raw.strip()
            ref = f"SV1-07-{k}"
            if not p:
                continue
            if k > DIAGNOSIS_POINTERS_MAX:
                self.warn(
                    seg, ref, f"more than {DIAGNOSIS_POINTERS_MAX} diagnosis pointers; the rest ignored"
                )
                break
            if not _is_ascii_number(p):
                self.warn(seg, ref, f"diagnosis pointer is not a number ({_shape(p)}); ignored")
            elif not 1 <= int(p) <= DIAGNOSIS_POINTER_MAX:
                self.warn(seg, ref, f"diagnosis pointer is not from 1 to {DIAGNOSIS_POINTER_MAX}; ignored")
            else:
                pointers.append(int(p))
        return pointers

    def on_dtp(self, seg: Segment) -> None:
        """2400 DTP*472 service date (D8) or range (RD8), each between ``EARLIEST_DATE`` and
        ``SERVICE_YEARS_AHEAD`` years after today; X12Error otherwise."""
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
        for day in (self.line.service_date, self.line.service_date_to):
            if not EARLIEST_DATE <= day <= self.latest_service_date:
                raise self.fail(
                    seg,
                    "DTP03",
                    f"service date is outside {EARLIEST_DATE.isoformat()} to "
                    f"{self.latest_service_date.isoformat()} ({SERVICE_YEARS_AHEAD} years after today)",
                )

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
        self.file_total += claim.total_charge
        limit = Decimal(10) ** (FILE_TOTAL_CHARGE.max_digits - FILE_TOTAL_CHARGE.decimal_places)
        if self.file_total >= limit:
            raise X12Error(
                Finding(
                    claim.position,
                    "CLM",
                    "CLM02",
                    f"{FILE_TOTAL_CHARGE.what} reaches {limit:,} dollars; the claims platform stores less",
                ),
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
    def iter_claims(self, segments: Iterable[Segment]) -> Iterator[ParsedClaim]:
        """Yield each claim as its 2300 loop closes; envelope errors at the end of the text raise last."""
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
                if self.claims:
                    # ``_close_claim`` puts a finished claim here: hand it on, keep nothing.
                    yield from self.claims
                    self.claims.clear()
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

    def run(self, segments: Iterable[Segment]) -> ParsedFile:
        claims = list(self.iter_claims(segments))
        return ParsedFile(
            claims=claims,
            warnings=self.warnings,
            interchange_count=self.interchanges,
            transaction_count=self.transactions,
        )


def parse_837(raw: bytes, file_name: str = "", *, today: dt.date | None = None) -> ParsedFile:
    """Parse an 837P file's bytes into claims and warnings.

    Returns ``ParsedFile`` (claims in file order; warnings as ``Finding`` with 1-based segment positions).
    Raises ``X12Error`` naming the file, segment position and element when the file cannot be mapped.
    ``today`` (default ``dt.date.today()``) bounds service dates and dates of birth.
    """
    return _Parser(file_name, today=today).run(tokenize_stream(io.BytesIO(raw), file_name))


class Stream837:
    """An 837P file read as a stream: ``claims()`` yields each claim as its 2300 loop closes.

    Memory holds about one chunk of text and one claim, whatever the file's size (``claims.x12.tokenizer``).
    ``warnings``, ``interchange_count`` and ``transaction_count`` are complete once ``claims()`` is exhausted.
    ``last_position`` is the segment the parser last read (for reporting a failure outside the parser).
    Iterating raises ``X12Error`` (file, segment position, element) at the first place that cannot be mapped;
    the claims yielded before it were well formed, but the file as a whole must then be rejected.
    """

    def __init__(self, stream: BinaryIO, file_name: str = "", *, today: dt.date | None = None) -> None:
        self._parser = _Parser(file_name, today=today)
        self._stream = stream
        self._segments = tokenize_stream(stream, file_name)
        self.last_position = 0

    @property
    def bytes_read(self) -> int:
        """Bytes of the file read so far (a chunk ahead of the claims handed out)."""
        return self._stream.tell()

    def _tracked(self) -> Iterator[Segment]:
        for seg in self._segments:
            self.last_position = seg.position
            yield seg

    def claims(self) -> Iterator[ParsedClaim]:
        return self._parser.iter_claims(self._tracked())

    @property
    def warnings(self) -> list[Finding]:
        return self._parser.warnings

    @property
    def interchange_count(self) -> int:
        return self._parser.interchanges

    @property
    def transaction_count(self) -> int:
        return self._parser.transactions


__all__ = ["Delimiters", "ParsedClaim", "ParsedFile", "ParsedLine", "Party", "Stream837", "parse_837"]
