"""Deterministic synthetic claims for the demo and the ingest benchmark (no outside files, no PHI).

``build_universe(seed=..., claims_hint=...)`` makes the reference data (health plans, providers with valid
NPIs, members with dependents); ``iter_demo_claims(universe, ...)`` yields claims drawn from it. Everything
comes from ``random.Random`` and a seeded ``Faker``, so the same seed and arguments give the same objects, and
``claims.x12.writer`` turns them into byte-identical 837P files.

The dataclasses hold exactly what the writer puts in the file (upper-cased names, ICD-10-CM codes without the
dot, money as ``Decimal`` dollars), so a round-trip test can compare what ingest loads against them. Code
sources: NUCC Health Care Provider Taxonomy code set; CMS Place of Service code set; ICD-10-CM billable codes
from ``simple_icd_10_cm`` (2023+ code set); claim filing indicator codes (837P SBR09, code list 1032).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from providers.npi import npi_check_digit

CENT = Decimal("0.01")
# Demo data is dated relative to this day unless the caller passes ``as_of``: a fixed date, not the clock,
# so a seed always gives the same bytes. It is inside the partition window that ``pgpartition`` creates.
DEFAULT_AS_OF = dt.date(2026, 11, 1)
# Service dates fall in the ~18 months before ``as_of``.
SERVICE_WINDOW_DAYS = 548


# --- Data written to the file -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """A payer: 2010BB NM1*PR (name, PI payer id) and the subscriber's SBR09 claim filing indicator."""

    name: str
    payer_id: str
    claim_filing_code: str  # members.models.PlanType value


@dataclass(frozen=True, slots=True)
class DemoProvider:
    """A billing (2010AA NM1*85) or rendering (2310B NM1*82) provider.

    ``entity_type`` "1" person / "2" organisation (NM102); organisations have only ``organization_name``.
    Address and ``tax_id`` (REF*EI, 9 digits) are written for billing providers only and are "" for rendering
    providers; ``zip_code`` is ZIP+4 (9 digits, required in 2010AA N403). ``taxonomy_code`` is written
    (PRV*BI / PRV*PE); ``taxonomy_name`` is not (it is the NUCC name, for seeding ``Specialty``).
    """

    npi: str
    entity_type: str
    organization_name: str
    last_name: str
    first_name: str
    taxonomy_code: str
    taxonomy_name: str
    address_line1: str
    city: str
    state_code: str
    zip_code: str
    tax_id: str


@dataclass(frozen=True, slots=True)
class DemoMember:
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
    plan: DemoPlan
    subscriber: DemoMember | None = None

    @property
    def is_subscriber(self) -> bool:
        return self.subscriber is None

    @property
    def policy_holder(self) -> DemoMember:
        """The subscriber whose policy covers this member (itself for a subscriber)."""
        return self.subscriber if self.subscriber is not None else self


@dataclass(frozen=True, slots=True)
class DemoLine:
    """A service line: 2400 LX, SV1, DTP*472.

    ``charge`` is the line total in dollars (SV1-02) = unit fee x ``units``; ``diagnosis_pointers`` are
    1-based positions in the claim's ``diagnosis_codes`` (SV1-07).
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
class DemoClaim:
    """A professional claim: 2300 CLM, HI, optional 2310B, and its lines.

    ``patient`` is the subscriber itself or one of its dependents. ``rendering_provider`` is None when the
    billing provider rendered the service (2310B omitted). ``diagnosis_codes`` are ICD-10-CM without the dot,
    principal first (HI ABK, then ABF).
    """

    claim_number: str
    billing_provider: DemoProvider
    rendering_provider: DemoProvider | None
    patient: DemoMember
    place_of_service: str
    diagnosis_codes: tuple[str, ...]
    lines: tuple[DemoLine, ...]
    frequency_code: str = "1"

    @property
    def subscriber(self) -> DemoMember:
        return self.patient.policy_holder

    @property
    def plan(self) -> DemoPlan:
        return self.patient.plan

    @property
    def total_charge(self) -> Decimal:
        """CLM02: the sum of the line charges (837P 2300 CLM02 note: must equal the sum of SV1-02)."""
        return sum((line.charge for line in self.lines), Decimal("0"))

    @property
    def service_date_from(self) -> dt.date:
        return min(line.service_date for line in self.lines)

    @property
    def service_date_to(self) -> dt.date:
        return max(line.service_date for line in self.lines)


@dataclass(frozen=True, slots=True)
class DemoUniverse:
    """Reference data shared by all files of one run."""

    seed: int
    as_of: dt.date
    plans: tuple[DemoPlan, ...]
    billing_providers: tuple[DemoProvider, ...]
    # Rendering providers of each organisation billing provider, by billing NPI (empty for solo practitioners).
    renderers: dict[str, tuple[DemoProvider, ...]]
    members: tuple[DemoMember, ...]  # subscribers and dependents; the patients claims are drawn for


# --- Fixed code lists ---------------------------------------------------------------------------------------

# (name, payer id, SBR09 claim filing indicator code). Fictional payers; real code values.
PLANS: tuple[tuple[str, str, str], ...] = (
    ("SUMMIT HEALTH PPO", "SMT01", "12"),
    ("MERIDIAN BLUE SHIELD", "MBS02", "BL"),
    ("CASCADE CARE HMO", "CCH03", "HM"),
    ("MEDICARE PART B DEMO", "MCR04", "MB"),
    ("STATE MEDICAID DEMO", "MCD05", "MC"),
)

# NUCC taxonomy codes (code set v24): person specialties for rendering / solo billing providers.
PERSON_TAXONOMIES: tuple[tuple[str, str], ...] = (
    ("207Q00000X", "Family Medicine"),
    ("207R00000X", "Internal Medicine"),
    ("208000000X", "Pediatrics"),
    ("207V00000X", "Obstetrics & Gynecology"),
    ("207X00000X", "Orthopaedic Surgery"),
    ("207N00000X", "Dermatology"),
    ("207RC0000X", "Internal Medicine, Cardiovascular Disease"),
    ("2084P0800X", "Psychiatry & Neurology, Psychiatry"),
    ("363LF0000X", "Nurse Practitioner, Family"),
    ("363A00000X", "Physician Assistant"),
    ("225100000X", "Physical Therapist"),
    ("208D00000X", "General Practice"),
)
# Organisation taxonomies for group billing providers.
GROUP_TAXONOMIES: tuple[tuple[str, str], ...] = (
    ("193200000X", "Multi-Specialty Group"),
    ("193400000X", "Single Specialty Group"),
    ("261QP2300X", "Clinic/Center, Primary Care"),
)
GROUP_SUFFIXES = ("MEDICAL GROUP", "FAMILY MEDICINE", "PRIMARY CARE", "HEALTH PARTNERS", "CLINIC")

# Commonly billed ICD-10-CM codes (all billable leaves in simple_icd_10_cm 1.5); most diagnoses come from here.
COMMON_DIAGNOSES: tuple[str, ...] = (
    "E11.9", "I10", "J06.9", "M54.50", "Z00.00", "E78.5", "F41.9", "J20.9", "K21.9", "N39.0",
    "R51.9", "Z23", "M25.561", "R10.9", "F32.A", "E66.9", "G43.909", "J45.909", "R05.9", "I25.10",
    "E03.9", "M17.11", "H10.9", "R53.83", "J02.9", "E55.9", "B34.9", "L30.9", "M54.2", "G47.00",
    "J30.9", "K59.00", "Z13.220", "R06.02", "M79.10",
)  # fmt: skip
# Share of diagnoses drawn from COMMON_DIAGNOSES; the rest are any billable leaf (a long tail).
COMMON_SHARE = 0.8
# Random draws skip chapters that make no sense as an office diagnosis for an arbitrary patient: pregnancy
# (O), perinatal (P) and external causes (V-Y, never a principal diagnosis per ICD-10-CM guideline I.C.20).
_EXCLUDED_PREFIXES = ("O", "P", "V", "W", "X", "Y")


@dataclass(frozen=True, slots=True)
class _Service:
    code: str
    fee: Decimal  # dollars per unit, before the provider's fee factor
    modifiers: tuple[str, ...] = ()
    max_units: int = 1


@dataclass(frozen=True, slots=True)
class _Encounter:
    """A kind of visit: where, the E/M (or main) service, optional add-on services, typical diagnoses."""

    weight: int
    places: tuple[str, ...]  # CMS place of service codes, first most likely
    main: tuple[_Service, ...]
    extras: tuple[_Service, ...]
    diagnoses: tuple[str, ...]


def _svc(code: str, fee: str, modifiers: tuple[str, ...] = (), max_units: int = 1) -> _Service:
    return _Service(code, Decimal(fee), modifiers, max_units)


# CPT/HCPCS codes with plausible billed charges (dollars): E/M visits, preventive, labs, injections, therapy.
ENCOUNTERS: tuple[_Encounter, ...] = (
    _Encounter(
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
    _Encounter(
        10,
        ("11",),
        (_svc("99203", "160.00"), _svc("99204", "245.00")),
        (_svc("36415", "15.00"), _svc("80053", "42.00")),
        ("R10.9", "R53.83", "M54.50", "F41.9"),
    ),
    _Encounter(
        15,
        ("11",),
        (_svc("99396", "235.00"), _svc("99395", "220.00")),
        (_svc("90471", "30.00"), _svc("90686", "40.00"), _svc("36415", "15.00")),
        ("Z00.00", "Z23", "Z13.220"),
    ),
    _Encounter(
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
    _Encounter(
        10,
        ("11", "22"),
        (_svc("97110", "65.00", (), 4),),
        (_svc("97140", "60.00", (), 3), _svc("97530", "70.00", (), 3)),
        ("M54.50", "M25.561", "M54.2", "M79.10"),
    ),
    _Encounter(
        5,
        ("10", "02"),
        (_svc("99213", "110.00", ("95",)), _svc("99214", "165.00", ("95",))),
        (),
        ("F41.9", "F32.A", "J06.9", "G47.00"),
    ),
)
_ENCOUNTER_WEIGHTS = tuple(e.weight for e in ENCOUNTERS)


@functools.cache
def billable_icd10_codes() -> tuple[str, ...]:
    """All billable ICD-10-CM leaves usable as a demo diagnosis, with dots (``E11.9``), sorted.

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


# X12 basic character set (A-Z, 0-9, space and a few specials) minus our delimiters * : ~ ^.
_NOT_X12_TEXT = re.compile(r"[^A-Z0-9 &'(),./;?=+\-]")


def x12_text(value: str, max_len: int) -> str:
    """Upper-cased ``value`` reduced to the X12 basic character set, trimmed to ``max_len`` characters."""
    cleaned = _NOT_X12_TEXT.sub("", value.upper())
    return " ".join(cleaned.split())[:max_len].strip()


def _make_npi(rng: random.Random, used: set[str]) -> str:
    """A fresh valid NPI: first digit 1 or 2 (CMS NPI standard), Luhn check digit from providers.npi."""
    while True:
        base = rng.choice("12") + f"{rng.randrange(10**8):08d}"
        npi = base + str(npi_check_digit(base))
        if npi not in used:
            used.add(npi)
            return npi


class _Pools:
    """Name and address pools drawn once from Faker: reusing them keeps big universes fast (~1 us a pick)."""

    def __init__(self, seed: int, size: int) -> None:
        from faker import Faker

        fake = Faker("en_US")
        fake.seed_instance(seed)
        self.last_names = [x12_text(fake.last_name(), 60) for _ in range(size)]
        self.female_names = [x12_text(fake.first_name_female(), 35) for _ in range(size)]
        self.male_names = [x12_text(fake.first_name_male(), 35) for _ in range(size)]
        self.places: list[tuple[str, str, str, str]] = []
        for _ in range(size):
            state = fake.state_abbr(include_territories=False, include_freely_associated_states=False)
            self.places.append(
                (
                    x12_text(fake.street_address(), 55),
                    x12_text(fake.city(), 30),
                    state,
                    fake.zipcode_in_state(state),
                )
            )


def build_universe(*, seed: int, claims_hint: int = 1000, as_of: dt.date = DEFAULT_AS_OF) -> DemoUniverse:
    """Plans, providers and members for ``seed``, sized for about ``claims_hint`` claims in total.

    Sizes: 5 plans; 5..60 billing providers (about 1 per 1,500 claims), two thirds of them groups with
    2-6 rendering providers; 40..30,000 patients (about 1 per 3 claims), a third of commercial subscribers
    with a spouse and/or children. Deterministic in (seed, claims_hint, as_of).
    """
    rng = random.Random(seed)
    pools = _Pools(seed, size=max(50, min(3000, claims_hint // 10)))
    plans = tuple(DemoPlan(name, payer_id, code) for name, payer_id, code in PLANS)
    used_npis: set[str] = set()

    def person_provider(taxonomy: tuple[str, str], address: tuple[str, str, str, str] | None) -> DemoProvider:
        """A person; ``address`` None for a rendering provider (2310B carries no address or tax id)."""
        female = rng.random() < 0.5
        first = rng.choice(pools.female_names if female else pools.male_names)
        last = rng.choice(pools.last_names)
        npi = _make_npi(rng, used_npis)
        if address is None:
            return DemoProvider(npi, "1", "", last, first, taxonomy[0], taxonomy[1], "", "", "", "", "")
        return DemoProvider(
            npi=npi,
            entity_type="1",
            organization_name="",
            last_name=last,
            first_name=first,
            taxonomy_code=taxonomy[0],
            taxonomy_name=taxonomy[1],
            address_line1=address[0],
            city=address[1],
            state_code=address[2],
            zip_code=address[3] + f"{rng.randrange(1, 10000):04d}",
            tax_id=f"{rng.randrange(10, 99)}{rng.randrange(10**7):07d}",
        )

    billing: list[DemoProvider] = []
    renderers: dict[str, tuple[DemoProvider, ...]] = {}
    for i in range(max(5, min(60, claims_hint // 1500))):
        address = rng.choice(pools.places)
        if i % 3 == 2:  # a solo practitioner billing under their own NPI
            provider = person_provider(rng.choice(PERSON_TAXONOMIES), address)
            renderers[provider.npi] = ()
        else:
            taxonomy = rng.choice(GROUP_TAXONOMIES)
            name = x12_text(f"{rng.choice(pools.last_names)} {rng.choice(GROUP_SUFFIXES)}", 60)
            provider = DemoProvider(
                npi=_make_npi(rng, used_npis),
                entity_type="2",
                organization_name=name,
                last_name="",
                first_name="",
                taxonomy_code=taxonomy[0],
                taxonomy_name=taxonomy[1],
                address_line1=address[0],
                city=address[1],
                state_code=address[2],
                zip_code=address[3] + f"{rng.randrange(1, 10000):04d}",
                tax_id=f"{rng.randrange(10, 99)}{rng.randrange(10**7):07d}",
            )
            renderers[provider.npi] = tuple(
                person_provider(rng.choice(PERSON_TAXONOMIES), None) for _ in range(rng.randint(2, 6))
            )
        billing.append(provider)

    members: list[DemoMember] = []
    used_ids: set[str] = set()
    target = max(40, min(30_000, claims_hint // 3))
    while len(members) < target:
        members.extend(_family(rng, pools, plans, as_of, used_ids))
    return DemoUniverse(
        seed=seed,
        as_of=as_of,
        plans=plans,
        billing_providers=tuple(billing),
        renderers=renderers,
        members=tuple(members),
    )


def _birth_date(rng: random.Random, as_of: dt.date, min_age: int, max_age: int) -> dt.date:
    return as_of - dt.timedelta(days=rng.randint(min_age * 365 + 30, max_age * 365 + 300))


def _family(
    rng: random.Random, pools: _Pools, plans: Sequence[DemoPlan], as_of: dt.date, used_ids: set[str]
) -> list[DemoMember]:
    """A subscriber and, for commercial plans, sometimes a spouse and children sharing the member id."""
    age = rng.choices((rng.randint(19, 64), rng.randint(65, 92)), weights=(80, 20))[0]
    if age >= 65:
        plan = plans[3] if rng.random() < 0.85 else rng.choice(plans[:3])
    else:
        plan = rng.choices(plans, weights=(30, 25, 20, 0, 15))[0]
    while True:
        member_id = f"{plan.payer_id[:3]}{rng.randrange(10**9):09d}"
        if member_id not in used_ids:
            used_ids.add(member_id)
            break
    last = rng.choice(pools.last_names)
    place = rng.choice(pools.places)
    gender = rng.choice("FM")

    def person(relationship: str, sex: str, dob: dt.date, subscriber: DemoMember | None) -> DemoMember:
        first = rng.choice(pools.female_names if sex == "F" else pools.male_names)
        return DemoMember(
            member_id=member_id,
            relationship_code=relationship,
            last_name=last,
            first_name=first,
            date_of_birth=dob,
            gender=sex,
            address_line1=place[0],
            city=place[1],
            state_code=place[2],
            zip_code=place[3],
            plan=plan,
            subscriber=subscriber,
        )

    subscriber = person("18", gender, _birth_date(rng, as_of, age, age), None)
    family = [subscriber]
    if plan.claim_filing_code in ("12", "BL", "HM", "CI") and rng.random() < 0.35:
        if rng.random() < 0.6:
            family.append(
                person("01", "M" if gender == "F" else "F", _birth_date(rng, as_of, 21, 64), subscriber)
            )
        for _ in range(rng.randint(0, 3)):
            family.append(person("19", rng.choice("FM"), _birth_date(rng, as_of, 0, 18), subscriber))
    return family


def _diagnoses(rng: random.Random, preferred: Sequence[str], count: int) -> tuple[str, ...]:
    """``count`` distinct ICD-10-CM codes without dots, the first from the encounter's typical list."""
    codes = [rng.choice(preferred)]
    while len(codes) < count:
        code = (
            rng.choice(COMMON_DIAGNOSES)
            if rng.random() < COMMON_SHARE
            else rng.choice(billable_icd10_codes())
        )
        if code not in codes:
            codes.append(code)
    return tuple(code.replace(".", "") for code in codes)


def _claim(
    rng: random.Random,
    universe: DemoUniverse,
    *,
    claim_number: str,
    billing: DemoProvider,
    fee_factor: Decimal,
    patient: DemoMember,
) -> DemoClaim:
    encounter = rng.choices(ENCOUNTERS, weights=_ENCOUNTER_WEIGHTS)[0]
    diagnoses = _diagnoses(rng, encounter.diagnoses, rng.choices((1, 2, 3, 4), weights=(35, 35, 20, 10))[0])
    services = [rng.choice(encounter.main)]
    services += rng.sample(encounter.extras, k=rng.randint(0, min(3, len(encounter.extras))))
    first_date = universe.as_of - dt.timedelta(days=rng.randint(1, SERVICE_WINDOW_DAYS))
    # Therapy is often billed as one claim over several visits; everything else is one date of service.
    spread = encounter.main[0].max_units > 1 and rng.random() < 0.5
    lines = []
    for number, service in enumerate(services, start=1):
        units = rng.randint(1, service.max_units)
        charge = (service.fee * fee_factor).quantize(CENT) * units
        pointers = [1] if number == 1 else sorted(rng.sample(range(1, len(diagnoses) + 1), k=1))
        if number == 1 and len(diagnoses) > 1:
            pointers += sorted(
                rng.sample(range(2, len(diagnoses) + 1), k=min(3, rng.randint(0, len(diagnoses) - 1)))
            )
        day = first_date + dt.timedelta(days=rng.randint(0, 6) if spread and number > 1 else 0)
        lines.append(
            DemoLine(
                line_number=number,
                procedure_code=service.code,
                modifiers=service.modifiers,
                charge=charge,
                units=Decimal(units),
                diagnosis_pointers=tuple(pointers),
                service_date=min(day, universe.as_of - dt.timedelta(days=1)),
            )
        )
    team = universe.renderers[billing.npi]
    return DemoClaim(
        claim_number=claim_number,
        billing_provider=billing,
        rendering_provider=rng.choice(team) if team else None,
        patient=patient,
        place_of_service=rng.choice(encounter.places),
        diagnosis_codes=diagnoses,
        lines=tuple(lines),
    )


def iter_demo_claims(universe: DemoUniverse, *, count: int, file_index: int = 1) -> Iterator[DemoClaim]:
    """Yield ``count`` claims for file ``file_index``, ordered for the writer's grouping.

    Order: by billing provider, then by policy holder, the subscriber's own claims before its dependents',
    each patient's claims together. Only one provider's claims are held in memory at a time, so a
    100,000-claim file streams. Claim numbers are ``D<seed:04>F<file:04>C<n:06>`` (unique per run, at most
    38 characters as CLM01 allows). Deterministic in (universe, count, file_index).
    """
    rng = random.Random(universe.seed * 1_000_003 + file_index)
    providers = universe.billing_providers
    # A few busy providers and a long tail, as in real claim volumes.
    weights = [1.0 / (rank + 1) for rank in range(len(providers))]
    rng.shuffle(weights)
    counts = [0] * len(providers)
    for index in rng.choices(range(len(providers)), weights=weights, k=count):
        counts[index] += 1
    member_index = {id(m): i for i, m in enumerate(universe.members)}
    sequence = 0
    for provider, provider_count in zip(providers, counts, strict=True):
        if not provider_count:
            continue
        # The provider's charge master: its fees are the reference fee times this factor.
        fee_factor = Decimal(rng.randint(90, 140)) / 100
        patients = [rng.choice(universe.members) for _ in range(provider_count)]

        def order(patient: DemoMember) -> tuple[int, int, int]:
            holder = patient.policy_holder
            return (member_index[id(holder)], 0 if patient.is_subscriber else 1, member_index[id(patient)])

        patients.sort(key=order)
        for patient in patients:
            sequence += 1
            yield _claim(
                rng,
                universe,
                claim_number=f"D{universe.seed % 10_000:04d}F{file_index:04d}C{sequence:06d}",
                billing=provider,
                fee_factor=fee_factor,
                patient=patient,
            )


# --- Files --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    """One written demo file: where, what is in it (counts, CLM02 total in dollars), size and time taken."""

    path: Path
    claims: int
    lines: int
    transactions: int
    segments: int
    total_charge: Decimal
    size_bytes: int
    seconds: float


SENDER_ID = "DEMOSUBMITTER"
RECEIVER_ID = "DEMOPAYERS"


def interchange_created(seed: int, as_of: dt.date, file_index: int) -> dt.datetime:
    """ISA09/ISA10 of file ``file_index``: ``as_of`` at a time of day taken from the seed, one minute apart
    per file. Never the clock, so the same seed gives the same bytes."""
    rng = random.Random(f"interchange-time:{seed}")
    start = dt.datetime.combine(as_of, dt.time(rng.randint(6, 19), rng.randint(0, 59)))
    return start + dt.timedelta(minutes=file_index - 1)


def generate_demo_files(
    out_dir: Path, *, files: int, claims_per_file: int, seed: int, as_of: dt.date = DEFAULT_AS_OF
) -> list[GeneratedFile]:
    """Write ``files`` 837P files ``demo_0001.837`` ... into ``out_dir`` (created if missing).

    All files draw from one universe (members and providers recur across files). Each file is streamed
    (constant memory in ``claims_per_file``) to ``<name>.part`` and renamed when complete, so a watcher never
    sees half a file. ISA13/GS06 control numbers are ``(seed % 99999) * 10000 + file_index``. Raises
    ``ValueError`` for ``files`` outside 1..9999 or ``claims_per_file`` < 1.
    """
    import time

    from claims.x12.writer import write_837p_to

    if not 1 <= files <= 9999:
        raise ValueError(f"files must be 1..9999, got {files}")
    if claims_per_file < 1:
        raise ValueError(f"claims_per_file must be at least 1, got {claims_per_file}")
    out_dir.mkdir(parents=True, exist_ok=True)
    universe = build_universe(seed=seed, claims_hint=files * claims_per_file, as_of=as_of)
    written: list[GeneratedFile] = []
    for file_index in range(1, files + 1):
        started = time.perf_counter()
        path = out_dir / f"demo_{file_index:04d}.837"
        partial = path.with_name(path.name + ".part")
        # newline="" keeps "~\n" as written on every platform: the bytes must not depend on the OS.
        with partial.open("w", encoding="ascii", newline="") as fh:
            result = write_837p_to(
                fh,
                iter_demo_claims(universe, count=claims_per_file, file_index=file_index),
                sender_id=SENDER_ID,
                receiver_id=RECEIVER_ID,
                control_number=(seed % 99_999) * 10_000 + file_index,
                created=interchange_created(seed, as_of, file_index),
            )
        partial.replace(path)
        written.append(
            GeneratedFile(
                path=path,
                claims=result.claims,
                lines=result.lines,
                transactions=result.transactions,
                segments=result.segments,
                total_charge=result.total_charge,
                size_bytes=path.stat().st_size,
                seconds=time.perf_counter() - started,
            )
        )
    return written
