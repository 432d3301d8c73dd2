"""The one set of reference data behind all synthetic data: code lists, weights, invented organisations.

Both generators draw from here: the 837P files (``ops.synthetic.x12_files``) and the database history loaded
with COPY (``ops.synthetic.history``). Where the two need the same kind of data there is one list; where the
837P files use a shorter list, it is a named selection from the full one (``X12_FILE_*``), because the order
of those short lists is the order of the files' random draws and fixes their bytes for a seed. The one list
that differs in content, the encounter mix, is kept twice, side by side, with the reason.

Sources of the code values: NUCC Health Care Provider Taxonomy code set (v24); CMS Place of Service code set;
X12 Claim Adjustment Reason Codes (CARC, code list 139); X12 837P SBR09 claim filing indicator (code list 1032,
``members.models.PlanType``); ICD-10-CM billable codes from ``simple_icd_10_cm`` (2023+ code set,
``billable_icd10_codes``); CPT/HCPCS codes with RVUs in ``claims.fee_schedule`` (codes outside the physician fee
schedule — lab tests, vaccines, drugs — are used only where they carry no RVU there by design). US state
populations: 2020 census, thousands. Payers and organisations are fictional. Weights are relative (they need
not sum to anything).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

from claims.carc import Carc
from members.models import PlanType

# -- Plans ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """A health plan: name, payer id (NM109), filing indicator, share of members, whether it covers dependents.

    ``plan_type`` is the 837P SBR09 claim filing indicator (``PlanType``). ``member_weight`` and
    ``has_dependents`` are used by the history generator only; what a claim is paid is the adjudication
    engine's business (``claims.adjudication``), from the plan type's terms (``plan_terms``).
    """

    name: str
    payer_id: str
    plan_type: str
    member_weight: int
    has_dependents: bool


@dataclass(frozen=True)
class PlanTerms:
    """A plan's adjudication terms (``members.HealthPlan``): filing limit in days, money in dollars, rates 0-1."""

    filing_limit_days: int
    deductible: Decimal
    coinsurance_rate: Decimal
    copay: Decimal
    conversion_factor: Decimal = Decimal("33.4009")  # CMS PFS conversion factor, CY 2026
    review_threshold: Decimal = Decimal("10000.00")
    out_of_network_rate: Decimal = Decimal("0.600")


# Typical terms by plan type. Medicare: one calendar year to file (42 CFR 424.44), Part B deductible and 20 %
# coinsurance; Medicaid: no cost share; HMO: copays, no deductible; TRICARE: a year to file, a small deductible
# and 20 %; workers' compensation: no cost share for the worker; commercial: 180 days, deductible, coinsurance
# and an office copay. The synthetic members see a doctor about twice a year, so deductibles are at the low end
# of what plans ask: with a $500 deductible two in three commercial claims paid nothing. Review thresholds: a
# professional claim above them waits for an examiner (the engine's "high_charge" pend); set so that surgeons'
# claims reach them and office visits never do.
COMMERCIAL_TERMS = PlanTerms(
    180, Decimal("250.00"), Decimal("0.200"), Decimal("25.00"), review_threshold=Decimal("3000.00")
)
PLAN_TERMS: dict[str, PlanTerms] = {
    PlanType.MEDICARE_B: PlanTerms(
        365, Decimal("283.00"), Decimal("0.200"), Decimal("0.00"), review_threshold=Decimal("2500.00")
    ),
    PlanType.MEDICAID: PlanTerms(
        365, Decimal("0.00"), Decimal("0.000"), Decimal("0.00"), review_threshold=Decimal("2000.00")
    ),
    PlanType.HMO: PlanTerms(
        180, Decimal("0.00"), Decimal("0.000"), Decimal("30.00"), review_threshold=Decimal("3000.00")
    ),
    PlanType.EPO: PlanTerms(
        180, Decimal("200.00"), Decimal("0.100"), Decimal("30.00"), review_threshold=Decimal("3000.00")
    ),
    PlanType.CHAMPUS: PlanTerms(
        365, Decimal("150.00"), Decimal("0.200"), Decimal("0.00"), review_threshold=Decimal("3000.00")
    ),
    PlanType.WORKERS_COMP: PlanTerms(
        180, Decimal("0.00"), Decimal("0.000"), Decimal("0.00"), review_threshold=Decimal("3000.00")
    ),
}


def plan_terms(plan_type: str) -> PlanTerms:
    return PLAN_TERMS.get(plan_type, COMMERCIAL_TERMS)


PLAN_SPECS: tuple[PlanSpec, ...] = (
    PlanSpec("SUMMIT HEALTH PPO", "SMT01", PlanType.PPO, 22, True),
    PlanSpec("MERIDIAN BLUE SHIELD", "MBS02", PlanType.BLUE_CROSS, 20, True),
    PlanSpec("CASCADE CARE HMO", "CCH03", PlanType.HMO, 10, True),
    PlanSpec("MEDICARE PART B DEMO", "MCR04", PlanType.MEDICARE_B, 18, False),
    PlanSpec("STATE MEDICAID DEMO", "MCD05", PlanType.MEDICAID, 16, True),
    PlanSpec("PINNACLE POINT OF SERVICE", "PNP06", PlanType.POS, 5, True),
    PlanSpec("HARBOR EXCLUSIVE PROVIDER", "HBE07", PlanType.EPO, 4, True),
    PlanSpec("LIBERTY COMMERCIAL INSURANCE", "LCI08", PlanType.COMMERCIAL, 3, True),
    PlanSpec("TRICARE DEMO REGION", "TRD09", PlanType.CHAMPUS, 1, True),
    PlanSpec("KEYSTONE WORKERS COMPENSATION", "KWC10", PlanType.WORKERS_COMP, 1, False),
)
# The 837P files use the first five plans only, by position (the fourth is Medicare), so demo files ingested
# after a history load match its plans by payer id.
X12_FILE_PLANS: tuple[PlanSpec, ...] = PLAN_SPECS[:5]

# -- Geography ------------------------------------------------------------------------------------------------

# (state, population in thousands, one real area code): all 50 states and DC. Phone numbers use the 555-01XX
# line range that is reserved for fiction, so no generated number can reach a real subscriber.
STATES: tuple[tuple[str, int, str], ...] = (
    ("CA", 39538, "213"), ("TX", 29146, "214"), ("FL", 21538, "305"), ("NY", 20201, "212"),
    ("PA", 13003, "215"), ("IL", 12813, "312"), ("OH", 11799, "216"), ("GA", 10712, "404"),
    ("NC", 10439, "704"), ("MI", 10077, "313"), ("NJ", 9289, "201"), ("VA", 8631, "804"),
    ("WA", 7705, "206"), ("AZ", 7152, "602"), ("MA", 7030, "617"), ("TN", 6911, "615"),
    ("IN", 6786, "317"), ("MD", 6177, "410"), ("MO", 6154, "314"), ("WI", 5894, "414"),
    ("CO", 5774, "303"), ("MN", 5706, "612"), ("SC", 5119, "803"), ("AL", 5024, "205"),
    ("LA", 4658, "504"), ("KY", 4506, "502"), ("OR", 4237, "503"), ("OK", 3959, "405"),
    ("CT", 3606, "203"), ("UT", 3272, "801"), ("IA", 3190, "515"), ("NV", 3105, "702"),
    ("AR", 3012, "501"), ("MS", 2961, "601"), ("KS", 2938, "316"), ("NM", 2118, "505"),
    ("NE", 1962, "402"), ("ID", 1839, "208"), ("WV", 1794, "304"), ("HI", 1455, "808"),
    ("NH", 1377, "603"), ("ME", 1362, "207"), ("RI", 1097, "401"), ("MT", 1084, "406"),
    ("DE", 990, "302"), ("SD", 887, "605"), ("ND", 779, "701"), ("AK", 733, "907"),
    ("DC", 690, "202"), ("VT", 643, "802"), ("WY", 577, "307"),
)  # fmt: skip
# RFC 2606 reserves these second-level domains: an address in them can never be delivered to a person.
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# -- Provider specialties -------------------------------------------------------------------------------------

# Specialty groups: which kind of encounter a rendering provider of the taxonomy bills.
PRIMARY, PEDS, OBGYN, MSK, DERM, CARDIO, BEHAVIORAL = (
    "primary",
    "peds",
    "obgyn",
    "msk",
    "derm",
    "cardio",
    "bh",
)
THERAPY, CHIRO, PODIATRY, SPECIALIST, EYE, URGENT, LAB = (
    "therapy", "chiro", "podiatry", "specialist", "eye", "urgent", "lab",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TaxonomySpec:
    """A NUCC taxonomy code with its NUCC display name, specialty group and share of providers (relative)."""

    code: str
    name: str
    group: str
    weight: int


# Individuals (NPI entity type 1). Weights follow the rough make-up of a commercial network: primary care and
# advanced practice clinicians first, then behavioural health, therapy, and the medical specialties.
PERSON_TAXONOMIES: tuple[TaxonomySpec, ...] = (
    TaxonomySpec("207Q00000X", "Family Medicine", PRIMARY, 120),
    TaxonomySpec("207R00000X", "Internal Medicine", PRIMARY, 110),
    TaxonomySpec("208D00000X", "General Practice", PRIMARY, 10),
    TaxonomySpec("207QG0300X", "Family Medicine, Geriatric Medicine", PRIMARY, 6),
    TaxonomySpec("207RG0300X", "Internal Medicine, Geriatric Medicine", PRIMARY, 6),
    TaxonomySpec("363LF0000X", "Nurse Practitioner, Family", PRIMARY, 90),
    TaxonomySpec("363LA2200X", "Nurse Practitioner, Adult Health", PRIMARY, 25),
    TaxonomySpec("363A00000X", "Physician Assistant", PRIMARY, 45),
    TaxonomySpec("363AM0700X", "Physician Assistant, Medical", PRIMARY, 20),
    TaxonomySpec("208000000X", "Pediatrics", PEDS, 50),
    TaxonomySpec("363LP0200X", "Nurse Practitioner, Pediatrics", PEDS, 10),
    TaxonomySpec("207V00000X", "Obstetrics & Gynecology", OBGYN, 30),
    TaxonomySpec("207VG0400X", "Obstetrics & Gynecology, Gynecology", OBGYN, 6),
    TaxonomySpec("363LW0102X", "Nurse Practitioner, Women's Health", OBGYN, 6),
    TaxonomySpec("207X00000X", "Orthopaedic Surgery", MSK, 20),
    TaxonomySpec("207XX0005X", "Orthopaedic Surgery, Sports Medicine", MSK, 5),
    TaxonomySpec("208100000X", "Physical Medicine & Rehabilitation", MSK, 8),
    TaxonomySpec("208VP0014X", "Pain Medicine, Interventional Pain Medicine", MSK, 4),
    TaxonomySpec("207N00000X", "Dermatology", DERM, 12),
    TaxonomySpec("207RC0000X", "Internal Medicine, Cardiovascular Disease", CARDIO, 18),
    TaxonomySpec("207RI0011X", "Internal Medicine, Interventional Cardiology", CARDIO, 4),
    TaxonomySpec("2084P0800X", "Psychiatry & Neurology, Psychiatry", BEHAVIORAL, 20),
    TaxonomySpec("2084P0804X", "Psychiatry & Neurology, Child & Adolescent Psychiatry", BEHAVIORAL, 4),
    TaxonomySpec("363LP0808X", "Nurse Practitioner, Psych/Mental Health", BEHAVIORAL, 10),
    TaxonomySpec("103T00000X", "Psychologist", BEHAVIORAL, 15),
    TaxonomySpec("103TC0700X", "Psychologist, Clinical", BEHAVIORAL, 10),
    TaxonomySpec("1041C0700X", "Social Worker, Clinical", BEHAVIORAL, 30),
    TaxonomySpec("101YM0800X", "Counselor, Mental Health", BEHAVIORAL, 25),
    TaxonomySpec("225100000X", "Physical Therapist", THERAPY, 45),
    TaxonomySpec("225X00000X", "Occupational Therapist", THERAPY, 12),
    TaxonomySpec("111N00000X", "Chiropractor", CHIRO, 25),
    TaxonomySpec("213E00000X", "Podiatrist", PODIATRY, 10),
    TaxonomySpec("207RE0101X", "Internal Medicine, Endocrinology, Diabetes & Metabolism", SPECIALIST, 5),
    TaxonomySpec("207RG0100X", "Internal Medicine, Gastroenterology", SPECIALIST, 8),
    TaxonomySpec("207RP1001X", "Internal Medicine, Pulmonary Disease", SPECIALIST, 6),
    TaxonomySpec("207RN0300X", "Internal Medicine, Nephrology", SPECIALIST, 5),
    TaxonomySpec("207RX0202X", "Internal Medicine, Medical Oncology", SPECIALIST, 4),
    TaxonomySpec("207RH0003X", "Internal Medicine, Hematology & Oncology", SPECIALIST, 6),
    TaxonomySpec("207RR0500X", "Internal Medicine, Rheumatology", SPECIALIST, 3),
    TaxonomySpec("207RI0200X", "Internal Medicine, Infectious Disease", SPECIALIST, 3),
    TaxonomySpec("2084N0400X", "Psychiatry & Neurology, Neurology", SPECIALIST, 8),
    TaxonomySpec("207K00000X", "Allergy & Immunology", SPECIALIST, 3),
    TaxonomySpec("207Y00000X", "Otolaryngology", SPECIALIST, 6),
    TaxonomySpec("208800000X", "Urology", SPECIALIST, 7),
    TaxonomySpec("208600000X", "Surgery", SPECIALIST, 12),
    TaxonomySpec("2086S0129X", "Surgery, Vascular Surgery", SPECIALIST, 3),
    TaxonomySpec("207W00000X", "Ophthalmology", EYE, 10),
    TaxonomySpec("152W00000X", "Optometrist", EYE, 20),
    TaxonomySpec("207P00000X", "Emergency Medicine", URGENT, 20),
)  # fmt: skip
# Organisations (entity type 2): the group practices and clinics that bill for their clinicians, and labs.
# ``groups`` of an organisation: the specialty groups of the clinicians it employs.
ORG_TAXONOMIES: tuple[tuple[TaxonomySpec, tuple[str, ...]], ...] = (
    (TaxonomySpec("193200000X", "Multi-Specialty Group", PRIMARY, 30),
     (PRIMARY, PEDS, OBGYN, MSK, DERM, CARDIO, SPECIALIST, EYE, THERAPY)),
    (TaxonomySpec("193400000X", "Single Specialty Group", SPECIALIST, 30),
     (MSK, DERM, CARDIO, SPECIALIST, OBGYN, BEHAVIORAL, THERAPY, CHIRO, PODIATRY, EYE)),
    (TaxonomySpec("261QP2300X", "Clinic/Center, Primary Care", PRIMARY, 20), (PRIMARY, PEDS)),
    (TaxonomySpec("261QF0400X", "Clinic/Center, Federally Qualified Health Center (FQHC)", PRIMARY, 6),
     (PRIMARY, PEDS, OBGYN, BEHAVIORAL)),
    (TaxonomySpec("261QR1300X", "Clinic/Center, Rural Health", PRIMARY, 4), (PRIMARY,)),
    (TaxonomySpec("261QM0801X", "Clinic/Center, Mental Health (Including Community Mental Health Center)",
                  BEHAVIORAL, 6), (BEHAVIORAL,)),
    (TaxonomySpec("261QU0200X", "Clinic/Center, Urgent Care", URGENT, 8), (URGENT,)),
    (TaxonomySpec("291U00000X", "Clinical Medical Laboratory", LAB, 3), ()),
)  # fmt: skip
# Second words of a group practice's name ("<LAST NAME> MEDICAL GROUP").
GROUP_SUFFIXES = ("MEDICAL GROUP", "FAMILY MEDICINE", "PRIMARY CARE", "HEALTH PARTNERS", "CLINIC")


def _taxonomies(specs: tuple[TaxonomySpec, ...], *codes: str) -> tuple[TaxonomySpec, ...]:
    by_code = {spec.code: spec for spec in specs}
    return tuple(by_code[code] for code in codes)


# The 837P files' taxonomies: a short selection, drawn uniformly, in this order (the draw order: reordering
# changes every file's bytes). Persons are rendering or solo billing providers; groups bill for them.
X12_FILE_PERSON_TAXONOMIES = _taxonomies(
    PERSON_TAXONOMIES,
    "207Q00000X", "207R00000X", "208000000X", "207V00000X", "207X00000X", "207N00000X",
    "207RC0000X", "2084P0800X", "363LF0000X", "363A00000X", "225100000X", "208D00000X",
)  # fmt: skip
X12_FILE_GROUP_TAXONOMIES = _taxonomies(
    tuple(spec for spec, _ in ORG_TAXONOMIES), "193200000X", "193400000X", "261QP2300X"
)

# -- Services and encounters ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A billable service: CPT/HCPCS code, reference fee per unit in cents, modifiers, most units per line."""

    code: str
    fee_cents: int
    modifiers: tuple[str, ...] = ()
    max_units: int = 1

    @property
    def fee(self) -> Decimal:
        """The reference fee per unit in dollars, with two decimals (``12500`` cents -> ``Decimal("125.00")``)."""
        return Decimal(self.fee_cents).scaleb(-2)


def _svc(code: str, dollars: str, modifiers: tuple[str, ...] = (), max_units: int = 1) -> ServiceSpec:
    whole, _, cents = dollars.partition(".")
    return ServiceSpec(code, int(whole) * 100 + int(cents or 0), modifiers, max_units)


@dataclass(frozen=True, slots=True)
class X12FileEncounter:
    """A kind of visit of the 837P files: where, the E/M (or main) service, optional add-on services (0 to 3
    drawn uniformly), typical principal diagnoses (with dots)."""

    weight: int
    places: tuple[str, ...]  # CMS place of service codes, first most likely
    main: tuple[ServiceSpec, ...]
    extras: tuple[ServiceSpec, ...]
    diagnoses: tuple[str, ...]


# The 837P files' encounter mix. It differs in content from ``ENCOUNTER_SPECS`` below and is kept as it is:
# the files' bytes for a seed depend on it, and the history generator's richer mix (specialty groups, patient
# ages, weighted add-on counts, 17 kinds) was built on top of it — the encounters there that these six cover
# take their services from here, so each service's fee is written once.
# CPT/HCPCS codes with plausible billed charges (dollars): E/M visits, preventive, labs, injections, therapy.
X12_FILE_ENCOUNTERS: tuple[X12FileEncounter, ...] = (
    X12FileEncounter(
        50,
        ("11", "11", "11", "22", "19"),
        (_svc("99213", "125.00"), _svc("99214", "185.00"), _svc("99212", "85.00")),
        (
            _svc("36415", "15.00"),
            _svc("85025", "28.00"),
            _svc("80053", "42.00"),
            _svc("81002", "12.00"),
            _svc("93000", "55.00"),
        ),
        ("E11.9", "I10", "E78.5", "J06.9", "K21.9", "N39.0", "R51.9"),
    ),
    X12FileEncounter(
        10,
        ("11",),
        (_svc("99203", "160.00"), _svc("99204", "245.00")),
        (_svc("36415", "15.00"), _svc("80053", "42.00")),
        ("R10.9", "R53.83", "M54.50", "F41.9"),
    ),
    X12FileEncounter(
        15,
        ("11",),
        (_svc("99396", "235.00"), _svc("99395", "220.00")),
        (_svc("90471", "30.00"), _svc("90686", "40.00"), _svc("36415", "15.00")),
        ("Z00.00", "Z23", "Z13.220"),
    ),
    X12FileEncounter(
        10,
        ("11", "22"),
        (_svc("99213", "125.00", ("25",)),),
        (
            _svc("20610", "150.00", ("RT",)),
            _svc("96372", "35.00"),
            _svc("J3420", "12.00"),
            _svc("11721", "70.00"),
        ),
        ("M17.11", "M25.561", "E55.9", "L30.9"),
    ),
    X12FileEncounter(
        10,
        ("11", "22"),
        (_svc("97110", "65.00", (), 4),),
        (_svc("97140", "60.00", (), 3), _svc("97530", "70.00", (), 3)),
        ("M54.50", "M25.561", "M54.2", "M79.10"),
    ),
    X12FileEncounter(
        5,
        ("10", "02"),
        (_svc("99213", "110.00", ("95",)), _svc("99214", "165.00", ("95",))),
        (),
        ("F41.9", "F32.A", "J06.9", "G47.00"),
    ),
)


# Short name for the history's encounters below, which reuse these services.
_X12 = X12_FILE_ENCOUNTERS


@dataclass(frozen=True, slots=True)
class EncounterSpec:
    """A kind of visit.

    ``group`` is the specialty group that renders it; ``places`` CMS place of service codes (repeats weight
    them); ``main`` the principal service (first most likely), ``extras`` add-on services of which
    ``extra_counts`` (weights for 0, 1, 2, ... extras) are drawn; ``principal`` typical principal diagnoses
    with dots, most common first. ``ages`` is the inclusive patient age range it applies to.
    """

    name: str
    weight: int
    group: str
    places: tuple[str, ...]
    main: tuple[ServiceSpec, ...]
    extras: tuple[ServiceSpec, ...]
    extra_counts: tuple[int, ...]
    principal: tuple[str, ...]
    ages: tuple[int, int] = (0, 120)
    spread_days: int = 0  # > 0: lines may fall on later days (therapy plans of care billed on one claim)


_LABS = (
    _svc("36415", "15.00"), _svc("80053", "42.00"), _svc("85025", "28.00"), _svc("80061", "38.00"),
    _svc("83036", "30.00"), _svc("84443", "45.00"), _svc("82306", "55.00"), _svc("81003", "10.00"),
)  # fmt: skip
_OFFICE_EXTRAS = (
    *_X12[0].extras,
    _svc("80061", "38.00"), _svc("83036", "30.00"), _svc("84443", "45.00"),
    _svc("90471", "30.00"), _svc("90686", "40.00"), _svc("96372", "35.00"), _svc("J1885", "9.00"),
)  # fmt: skip
# Office and telehealth E/M codes, weighted as billed nationally (99213/99214 dominate).
_EST_VISITS = (
    _svc("99213", "125.00"), _svc("99214", "185.00"), _svc("99213", "125.00"), _svc("99214", "185.00"),
    _svc("99213", "125.00"), _svc("99212", "85.00"), _svc("99215", "260.00"),
)  # fmt: skip

ENCOUNTER_SPECS: tuple[EncounterSpec, ...] = (
    EncounterSpec(
        "office visit", 300, PRIMARY, _X12[0].places, _EST_VISITS, _OFFICE_EXTRAS, (5, 12, 22, 26, 20, 15),
        ("I10", "E11.9", "E78.5", "J06.9", "M54.50", "K21.9", "N39.0", "E11.65", "R05.9", "J02.9", "F41.1",
         "E03.9", "R51.9", "M25.561", "R10.9", "J20.9", "E66.9", "R53.83", "G47.00", "L30.9", "B34.9",
         "J30.9", "E55.9", "K59.00", "R06.02", "M79.10", "I25.10", "J45.909", "J44.9", "R73.03"),
    ),
    EncounterSpec(
        "new patient", 50, PRIMARY, ("11",), _X12[1].main + (_svc("99202", "110.00"),),
        _X12[1].extras + _LABS[2:6], (10, 25, 35, 30),
        ("R10.9", "R53.83", "M54.50", "F41.9", "I10", "E11.9", "R51.9", "R07.9", "R42"),
    ),
    EncounterSpec(
        "adult preventive visit", 90, PRIMARY, ("11",),
        _X12[2].main + (_svc("99385", "210.00"), _svc("99386", "230.00")),
        _X12[2].extras + _LABS[1:6], (3, 10, 22, 28, 22, 15),
        ("Z00.00", "Z00.01", "Z23", "Z13.220", "Z12.31", "Z12.11", "Z13.1"), ages=(18, 120),
    ),
    EncounterSpec(
        "child sick visit", 70, PEDS, ("11",),
        (_svc("99213", "120.00"), _svc("99214", "175.00"), _svc("99212", "80.00")),
        (_svc("87880", "35.00", ("QW",)), _svc("87804", "40.00", ("QW",)), _svc("90471", "30.00"),
         _svc("90686", "40.00"), _svc("81003", "10.00")), (25, 35, 30, 10),
        ("J06.9", "H66.90", "J02.9", "J02.0", "R50.9", "J20.9", "L30.9", "B34.9", "R11.10", "J45.909",
         "F90.0", "Z23", "Z00.129", "Z00.121"), ages=(0, 17),
    ),
    EncounterSpec(
        "joint injection", 40, MSK, _X12[3].places, _X12[3].main,
        # The 837P files' procedure visit also lists nail debridement (11721); podiatry bills that here.
        _X12[3].extras[:3] + (_svc("J1030", "18.00"), _svc("20610", "150.00", ("LT",))), (0, 25, 45, 30),
        ("M17.11", "M17.12", "M25.561", "M25.511", "M75.100", "M19.90", "M77.10", "M54.16"), ages=(18, 120),
    ),
    EncounterSpec(
        "physical therapy", 90, THERAPY, _X12[4].places,
        tuple(ServiceSpec(s.code, s.fee_cents, ("GP",), s.max_units) for s in _X12[4].main),
        tuple(ServiceSpec(s.code, s.fee_cents, ("GP",), s.max_units) for s in _X12[4].extras)
        + (_svc("97110", "65.00", ("GP",), 3), _svc("97140", "60.00", ("GP", "59"), 2)),
        (0, 15, 45, 40), ("M54.50", "M25.561", "M54.2", "M79.10", "M25.511", "M62.830", "S83.511A", "M54.16"),
        spread_days=6,
    ),
    EncounterSpec(
        "telehealth visit", 45, PRIMARY, _X12[5].places, _X12[5].main,
        (_svc("99213", "110.00", ("95",)), _svc("90471", "30.00")), (85, 10, 5),
        ("F41.9", "F32.A", "J06.9", "G47.00", "I10", "E11.9", "F41.1", "U07.1"),
    ),
    EncounterSpec(
        "psychotherapy", 80, BEHAVIORAL, ("11", "11", "02", "10", "53"),
        (_svc("90834", "130.00"), _svc("90837", "175.00"), _svc("90834", "130.00")),
        (_svc("90837", "175.00"), _svc("99213", "125.00"), _svc("90834", "130.00")), (20, 40, 40),
        ("F41.1", "F33.1", "F32.A", "F43.10", "F41.9", "F90.0", "F43.23", "F32.1", "F31.9", "F10.20"),
        ages=(6, 120), spread_days=27,
    ),
    EncounterSpec(
        "chiropractic", 40, CHIRO, ("11",), (_svc("98940", "55.00", ("AT",)),),
        (_svc("97140", "50.00", ("GP", "59")), _svc("97110", "55.00", ("GP",), 2), _svc("97530", "60.00")),
        (5, 40, 55), ("M99.03", "M99.01", "M54.50", "M54.2", "M54.6", "M99.04", "M53.3"), ages=(16, 120),
    ),
    EncounterSpec(
        "cardiology visit", 30, CARDIO, ("11", "11", "22"),
        (_svc("99214", "210.00"), _svc("99204", "290.00"), _svc("99215", "300.00")),
        (_svc("93000", "60.00"), _svc("36415", "15.00"), _svc("80061", "38.00"), _svc("80053", "42.00")),
        (5, 25, 40, 30), ("I25.10", "I48.91", "I10", "I50.9", "R00.2", "I34.0", "R07.9", "E78.5", "I49.9"),
        ages=(25, 120),
    ),
    EncounterSpec(
        "dermatology visit", 25, DERM, ("11",), (_svc("99213", "130.00"), _svc("99203", "170.00")),
        (_svc("99212", "90.00"), _svc("96372", "35.00")), (70, 25, 5),
        ("L70.0", "L82.1", "D22.5", "L57.0", "L40.0", "L30.9", "C44.91", "L21.9", "B35.1"),
    ),
    EncounterSpec(
        "podiatry visit", 20, PODIATRY, ("11", "31", "32"), (_svc("11721", "70.00"), _svc("99213", "120.00")),
        (_svc("99213", "120.00", ("25",)), _svc("11721", "70.00")), (30, 50, 20),
        ("B35.1", "L60.0", "M79.671", "E11.42", "L84", "M77.31"), ages=(30, 120),
    ),
    EncounterSpec(
        "specialist consult", 70, SPECIALIST, ("11", "11", "22", "19"),
        (_svc("99204", "280.00"), _svc("99214", "200.00"), _svc("99203", "190.00"), _svc("99215", "290.00")),
        (*_LABS[:6], _svc("96372", "35.00"), _svc("J1030", "18.00")), (10, 15, 25, 25, 15, 10),
        ("E11.65", "K21.9", "J44.9", "N18.30", "D64.9", "M06.9", "G43.909", "J30.2", "N40.0", "K58.9",
         "G40.909", "R31.9", "J32.9", "K80.20", "I83.90", "M10.9", "E05.90", "K57.30", "G62.9", "C50.911"),
        ages=(14, 120),
    ),
    EncounterSpec(
        "eye visit", 25, EYE, ("11",), (_svc("99213", "120.00"), _svc("99214", "170.00"), _svc("99203", "160.00")),
        (_svc("99212", "80.00"),), (90, 10), ("H52.4", "H40.9", "H25.9", "H10.33", "E11.9", "H52.13", "H04.123"),
    ),
    EncounterSpec(
        "urgent care", 60, URGENT, ("20",),
        (_svc("99214", "195.00"), _svc("99213", "140.00"), _svc("99204", "260.00")),
        (_svc("87880", "35.00", ("QW",)), _svc("87804", "40.00", ("QW",)), _svc("81003", "10.00"),
         _svc("96372", "40.00"), _svc("J1885", "9.00"), _svc("J1030", "18.00"), _svc("87635", "51.00")),
        (10, 30, 40, 20), ("J06.9", "J02.9", "J02.0", "S93.401A", "N39.0", "J01.90", "R10.9", "U07.1",
                           "J11.1", "S61.411A", "R50.9", "H10.9"),
    ),
    EncounterSpec(
        "women's health visit", 35, OBGYN, ("11",),
        (_svc("99395", "225.00"), _svc("99213", "125.00"), _svc("99396", "240.00"), _svc("99214", "180.00")),
        (_svc("81003", "10.00"), _svc("87491", "45.00"), _svc("36415", "15.00"), _svc("84443", "45.00")),
        (10, 30, 40, 20), ("Z01.419", "Z01.411", "N92.0", "N94.6", "Z30.09", "N95.1", "Z11.3", "N76.0"),
        ages=(15, 90),
    ),
    EncounterSpec(
        "reference lab", 45, LAB, ("81",), (_svc("80053", "42.00"), _svc("85025", "28.00"), _svc("80061", "38.00")),
        (*_LABS[3:], _svc("84153", "35.00"), _svc("87086", "25.00"), _svc("82947", "12.00")),
        (0, 5, 20, 30, 25, 20), ("Z00.00", "E11.9", "E78.5", "I10", "R73.03", "E03.9", "Z12.5", "D64.9"),
        ages=(18, 120),
    ),
    # The surgeon's professional claim for an operation in an ambulatory surgery center (24) or a hospital
    # outpatient department (22): one line, charges in the thousands, so most reach the plans' review
    # thresholds (``PLAN_TERMS``). The codes have no RVU in ``claims.fee_schedule``: allowed at charge.
    EncounterSpec(
        "orthopaedic surgery", 7, MSK, ("24", "24", "22"),
        (_svc("29881", "3400.00", ("RT",)), _svc("29881", "3400.00", ("LT",)), _svc("29827", "4600.00", ("RT",)),
         _svc("27447", "5400.00", ("LT",)), _svc("63030", "5900.00")), (), (1,),
        ("M23.221", "S83.241A", "M75.121", "M17.11", "M17.12", "M48.061", "M51.16"), ages=(18, 90),
    ),
    EncounterSpec(
        "general surgery", 5, SPECIALIST, ("24", "22"),
        (_svc("47562", "3100.00"), _svc("49505", "2400.00"), _svc("66984", "2600.00", ("RT",))), (), (1,),
        ("K80.20", "K80.10", "K81.0", "K40.90", "H25.11", "H25.13"), ages=(18, 95),
    ),
)  # fmt: skip
# Services given only in flu season (September through January): the influenza vaccine and its test.
FLU_SEASON_CODES = frozenset({"90686", "87804"})
FLU_SEASON_MONTHS = frozenset({9, 10, 11, 12, 1})

# -- Diagnoses ------------------------------------------------------------------------------------------------

# Commonly billed ICD-10-CM codes (all billable leaves in simple_icd_10_cm 1.5); both generators draw most
# diagnoses from here (the 837P files uniformly, the history Zipf-weighted in this order).
COMMON_DIAGNOSES: tuple[str, ...] = (
    "E11.9", "I10", "J06.9", "M54.50", "Z00.00", "E78.5", "F41.9", "J20.9", "K21.9", "N39.0",
    "R51.9", "Z23", "M25.561", "R10.9", "F32.A", "E66.9", "G43.909", "J45.909", "R05.9", "I25.10",
    "E03.9", "M17.11", "H10.9", "R53.83", "J02.9", "E55.9", "B34.9", "L30.9", "M54.2", "G47.00",
    "J30.9", "K59.00", "Z13.220", "R06.02", "M79.10",
)  # fmt: skip
# Share of the 837P files' secondary diagnoses drawn from COMMON_DIAGNOSES; the rest are any billable leaf.
COMMON_SHARE = 0.8
# Random draws skip chapters that make no sense as an office diagnosis for an arbitrary patient: pregnancy
# (O), perinatal (P) and external causes (V-Y, never a principal diagnosis per ICD-10-CM guideline I.C.20).
_EXCLUDED_PREFIXES = ("O", "P", "V", "W", "X", "Y")


@functools.cache
def billable_icd10_codes() -> tuple[str, ...]:
    """All billable ICD-10-CM leaves usable as a synthetic diagnosis, with dots (``E11.9``), sorted.

    simple_icd_10_cm is imported here, once: its import costs ~1.5 s and most of the project never needs it.
    """
    import simple_icd_10_cm as cm

    return tuple(
        sorted(
            code
            for code in cm.get_all_codes(with_dots=True)
            if cm.is_leaf(code) and not code.startswith(_EXCLUDED_PREFIXES)
        )
    )


# Relative shares of ICD-10-CM chapters among office-setting diagnoses outside the common codes (roughly the
# NAMCS mix). Keyed by the code's first letter; D and H are split by number below (D0-D49 neoplasms, D50-D89
# blood; H00-H59 eye, H60-H95 ear). Pregnancy, perinatal and external-cause chapters are not drawn
# (``billable_icd10_codes`` leaves them out).
CHAPTER_WEIGHTS: dict[str, int] = {
    "A": 8, "B": 10, "C": 20, "D_NEO": 6, "D_BLOOD": 10, "E": 80, "F": 70, "G": 35, "H_EYE": 30, "H_EAR": 12,
    "I": 80, "J": 60, "K": 45, "L": 35, "M": 130, "N": 40, "Q": 3, "R": 90, "S": 45, "T": 8, "U": 1, "Z": 150,
}  # fmt: skip

# -- Adjudication inputs --------------------------------------------------------------------------------------

# Unlisted ("not otherwise classified") services by specialty group, added now and then to a claim: the
# engine pends every claim with one (claims.adjudication.edits.UNLISTED_CODES) for an examiner to read the
# documentation. J3490 unclassified drug, 20999 unlisted musculoskeletal procedure, 97799 unlisted physical
# medicine service, 17999 unlisted skin procedure, 99499 unlisted evaluation and management service.
UNLISTED_SERVICES: dict[str, ServiceSpec] = {
    PRIMARY: _svc("J3490", "45.00"),
    PEDS: _svc("J3490", "40.00"),
    URGENT: _svc("J3490", "45.00"),
    SPECIALIST: _svc("J3490", "60.00"),
    CARDIO: _svc("J3490", "60.00"),
    OBGYN: _svc("J3490", "50.00"),
    MSK: _svc("20999", "350.00"),
    THERAPY: _svc("97799", "75.00"),
    CHIRO: _svc("97799", "60.00"),
    DERM: _svc("17999", "180.00"),
    PODIATRY: _svc("17999", "150.00"),
    BEHAVIORAL: _svc("99499", "120.00"),
    EYE: _svc("99499", "110.00"),
}
# Procedures that are sometimes billed with modifier 22 (increased procedural services), which the engine pends.
MODIFIER_22_CODES = frozenset(
    {"20610", "11721", "29881", "29827", "27447", "63030", "47562", "49505", "66984"}
)

# CARCs an examiner denies a pended claim with after reading its documentation: 50 not medically necessary,
# 197 precertification absent, 252 documentation required, 96 non-covered charge, 97 included in another
# service's payment (bundled). Weighted like a commercial plan's review denials.
EXAMINER_DENIAL_CARCS: tuple[tuple[str, int], ...] = tuple(
    (code.value, weight)
    for code, weight in (
        (Carc.NOT_MEDICALLY_NECESSARY, 30),
        (Carc.AUTHORIZATION_ABSENT, 25),
        (Carc.DOCUMENTATION_REQUIRED, 20),
        (Carc.NON_COVERED, 15),
        (Carc.INCLUDED_IN_ANOTHER_SERVICE, 10),
    )
)
