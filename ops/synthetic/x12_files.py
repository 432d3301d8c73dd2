"""Deterministic synthetic 837P files for the demo and the ingest benchmark (no outside files, no PHI).

``build_universe(seed=..., claims_hint=...)`` makes the parties (health plans, providers with valid NPIs,
members with dependents); ``iter_demo_claims(universe, ...)`` yields claims drawn from it;
``generate_demo_files`` writes them with ``claims.x12.writer`` (``manage.py generate_demo_837``). Everything
comes from ``random.Random`` and a seeded ``Faker``, so the same seed and arguments give the same objects and
byte-identical 837P files.

The claims are the writer's own input types (``claims.x12.model``): exactly what goes into the file
(upper-cased names, ICD-10-CM codes without the dot, money as ``Decimal`` dollars), so a round-trip test can
compare what ingest loads against them. Code lists come from ``ops.synthetic.reference``: the first five
plans, the ``X12_FILE_*`` taxonomy selections and encounter mix, the common diagnoses and the billable
ICD-10-CM leaves.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from claims.x12.model import X12Claim, X12Member, X12Payer, X12Provider, X12ServiceLine
from claims.x12.writer import write_837p_to
from ops.synthetic.reference import (
    COMMON_DIAGNOSES,
    COMMON_SHARE,
    GROUP_SUFFIXES,
    X12_FILE_ENCOUNTERS,
    X12_FILE_GROUP_TAXONOMIES,
    X12_FILE_PERSON_TAXONOMIES,
    X12_FILE_PLANS,
    TaxonomySpec,
    billable_icd10_codes,
)
from ops.synthetic.values import make_npi, x12_text

CENT = Decimal("0.01")
# Demo data is dated relative to this day unless the caller passes ``as_of``: a fixed date, not the clock,
# so a seed always gives the same bytes. It is inside the partition window that ``pgpartition`` creates.
DEFAULT_AS_OF = dt.date(2026, 11, 1)
# Service dates fall in the ~18 months before ``as_of``.
SERVICE_WINDOW_DAYS = 548
_ENCOUNTER_WEIGHTS = tuple(e.weight for e in X12_FILE_ENCOUNTERS)


@dataclass(frozen=True, slots=True)
class DemoUniverse:
    """The parties shared by all files of one run."""

    seed: int
    as_of: dt.date
    plans: tuple[X12Payer, ...]
    billing_providers: tuple[X12Provider, ...]
    # Rendering providers of each organisation billing provider, by billing NPI (empty for solo practitioners).
    renderers: dict[str, tuple[X12Provider, ...]]
    members: tuple[X12Member, ...]  # subscribers and dependents; the patients claims are drawn for


class _Pools:
    """Name and address pools drawn once from Faker: reusing them keeps big universes fast (~1 us a pick).

    Not shared with the history generator's pools (``ops.synthetic.history.people``): sizes, draw order and
    the Faker providers used differ, and each fixes its own output for a seed.
    """

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
    plans = tuple(X12Payer(p.name, p.payer_id, str(p.plan_type)) for p in X12_FILE_PLANS)
    used_npis: set[str] = set()

    def person_provider(taxonomy: TaxonomySpec, address: tuple[str, str, str, str] | None) -> X12Provider:
        """A person; ``address`` None for a rendering provider (2310B carries no address or tax id)."""
        female = rng.random() < 0.5
        first = rng.choice(pools.female_names if female else pools.male_names)
        last = rng.choice(pools.last_names)
        npi = make_npi(rng, used_npis)
        if address is None:
            return X12Provider(npi, "1", "", last, first, taxonomy.code, "", "", "", "", "")
        return X12Provider(
            npi=npi,
            entity_type="1",
            organization_name="",
            last_name=last,
            first_name=first,
            taxonomy_code=taxonomy.code,
            address_line1=address[0],
            city=address[1],
            state_code=address[2],
            zip_code=address[3] + f"{rng.randrange(1, 10000):04d}",
            tax_id=f"{rng.randrange(10, 99)}{rng.randrange(10**7):07d}",
        )

    billing: list[X12Provider] = []
    renderers: dict[str, tuple[X12Provider, ...]] = {}
    for i in range(max(5, min(60, claims_hint // 1500))):
        address = rng.choice(pools.places)
        if i % 3 == 2:  # a solo practitioner billing under their own NPI
            provider = person_provider(rng.choice(X12_FILE_PERSON_TAXONOMIES), address)
            renderers[provider.npi] = ()
        else:
            taxonomy = rng.choice(X12_FILE_GROUP_TAXONOMIES)
            name = x12_text(f"{rng.choice(pools.last_names)} {rng.choice(GROUP_SUFFIXES)}", 60)
            provider = X12Provider(
                npi=make_npi(rng, used_npis),
                entity_type="2",
                organization_name=name,
                last_name="",
                first_name="",
                taxonomy_code=taxonomy.code,
                address_line1=address[0],
                city=address[1],
                state_code=address[2],
                zip_code=address[3] + f"{rng.randrange(1, 10000):04d}",
                tax_id=f"{rng.randrange(10, 99)}{rng.randrange(10**7):07d}",
            )
            renderers[provider.npi] = tuple(
                person_provider(rng.choice(X12_FILE_PERSON_TAXONOMIES), None)
                for _ in range(rng.randint(2, 6))
            )
        billing.append(provider)

    members: list[X12Member] = []
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
    rng: random.Random, pools: _Pools, plans: Sequence[X12Payer], as_of: dt.date, used_ids: set[str]
) -> list[X12Member]:
    """A subscriber and, for commercial plans, sometimes a spouse and children sharing the member id."""
    age = rng.choices((rng.randint(19, 64), rng.randint(65, 92)), weights=(80, 20))[0]
    # ``plans`` are X12_FILE_PLANS by position: 0-2 commercial, 3 Medicare, 4 Medicaid.
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

    def person(relationship: str, sex: str, dob: dt.date, subscriber: X12Member | None) -> X12Member:
        first = rng.choice(pools.female_names if sex == "F" else pools.male_names)
        return X12Member(
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
    billing: X12Provider,
    fee_factor: Decimal,
    patient: X12Member,
) -> X12Claim:
    encounter = rng.choices(X12_FILE_ENCOUNTERS, weights=_ENCOUNTER_WEIGHTS)[0]
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
            X12ServiceLine(
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
    return X12Claim(
        claim_number=claim_number,
        billing_provider=billing,
        rendering_provider=rng.choice(team) if team else None,
        patient=patient,
        place_of_service=rng.choice(encounter.places),
        diagnosis_codes=diagnoses,
        lines=tuple(lines),
    )


def iter_demo_claims(universe: DemoUniverse, *, count: int, file_index: int = 1) -> Iterator[X12Claim]:
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

        def order(patient: X12Member) -> tuple[int, int, int]:
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
