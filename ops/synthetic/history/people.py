"""Reference data of a synthetic plan: health plans, specialties, providers with networks, members with PII
and enrollments. Builds the COPY text of those tables and the in-memory indexes the claim generator draws from.

Every draw comes from a ``random.Random`` seeded with a string derived from the run's seed (``stream()``), and
names and addresses from a Faker seeded the same way, so a seed gives the same rows on every run. Dates derive
from ``as_of`` only. Direct identifiers are synthetic by construction: SSNs only from the 9xx area (never
issued as an SSN), phone numbers only in the 555-01XX range reserved for fiction, e-mail only at RFC 2606
example domains.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from django.db import models

from members.models import Enrollment, HealthPlan, Member, MemberPII, PlanType
from members.pii import pii_copy_row
from ops.synthetic.history.copy_text import CopyChunk, copy_columns, day_text, timestamp_text
from ops.synthetic.reference import (
    BEHAVIORAL,
    EMAIL_DOMAINS,
    GROUP_SUFFIXES,
    LAB,
    ORG_TAXONOMIES,
    PERSON_TAXONOMIES,
    PLAN_SPECS,
    STATES,
    PlanSpec,
    TaxonomySpec,
    plan_terms,
)
from ops.synthetic.values import make_npi, x12_text
from providers.models import Provider, ProviderNetwork, Specialty

NULL = "\\N"
# A MemberPII row before encryption: member id, address line 1, address line 2, phone, e-mail, SSN.
PlainPii = tuple[int, str, str, str, str, str]
_ALNUM = re.compile(r"[^a-z0-9]")


def stream(seed: int, name: str) -> random.Random:
    """An independent random stream per phase: changing how one phase draws leaves the others' data alone.

    String seeds go through SHA-512 in ``random.seed`` (version 2), so they do not depend on PYTHONHASHSEED.
    """
    return random.Random(f"demo-data:{seed}:{name}")


def weighted_cum(weights: Sequence[float]) -> list[float]:
    """Cumulative weights for ``pick``: ``items[bisect(cum, random() * cum[-1])]`` is a weighted draw."""
    return list(accumulate(weights))


def pick(rng: random.Random, cum: Sequence[float]) -> int:
    """Index of a weighted draw over ``cum`` (from ``weighted_cum``)."""
    return bisect(cum, rng.random() * cum[-1])


def providers_for(claims: int) -> int:
    """Provider count for ``claims`` claims: one per 50 claims, at least 20, at most 20,000."""
    return min(20_000, max(20, claims // 50))


def members_for(claims: int) -> int:
    """Member count for ``claims`` claims: one per 5 claims (at least 1)."""
    return max(1, claims // 5)


class _Pools:
    """Names, streets and places drawn once from Faker and reused: Faker costs ~50 us a value.

    Not the 837P files' pools (``ops.synthetic.x12_files``): sizes, draw order and places per state differ, and
    each fixes its own output for a seed.
    """

    def __init__(self, seed: int, *, people: int) -> None:
        from faker import Faker

        fake = Faker("en_US")
        fake.seed_instance(seed)
        size = max(200, min(4000, people // 40))
        # Faker's en_US name lists are frequency-weighted, so SMITH and JOHNSON recur as in the population.
        self.last_names = [x12_text(fake.last_name(), 60) for _ in range(size)]
        self.female_names = [x12_text(fake.first_name_female(), 35) for _ in range(size // 2)]
        self.male_names = [x12_text(fake.first_name_male(), 35) for _ in range(size // 2)]
        self.streets = [x12_text(fake.street_name(), 40) for _ in range(size)]
        # Per state: (city, ZIP) pairs, more for populous states; ZIPs are in the state's real range.
        total_pop = sum(pop for _, pop, _ in STATES)
        self.places: list[list[tuple[str, str]]] = []
        for state, pop, _ in STATES:
            cities = max(4, min(400, size * pop // total_pop))
            places = []
            for _ in range(cities):
                city = x12_text(fake.city(), 30)
                for _ in range(1 + fake.random_int(0, 2)):
                    places.append((city, fake.zipcode_in_state(state)))
            self.places.append(places)


@dataclass
class Providers:
    """Providers for the claim generator, indexed by provider id (index 0 unused).

    ``billing_of[pid]`` is the id that bills for person ``pid`` (its group's, or its own when solo);
    ``fee_permille[bid]`` the billing provider's charge level (1000 = the reference fee);
    ``networks[pid]`` the plan indexes whose network it is in (a clinician billing through a group: the
    group's); ``group[pid]`` its specialty group.
    """

    count: int
    group: list[str]
    state: list[int]
    billing_of: list[int]
    fee_permille: list[int]
    weight: list[float]
    networks: list[tuple[int, ...]]
    persons: list[int]
    labs: list[int]
    # Memoised candidate lists per (state, plan, group, out-of-network), and providers by bucket key.
    _lists: dict[tuple[int, int, str, bool], tuple[list[int], list[float], bool]] = field(
        default_factory=dict, init=False, repr=False
    )
    _buckets: dict[tuple[object, ...], list[int]] = field(default_factory=dict, init=False, repr=False)

    def candidates(self, state: int, plan: int, group: str, oon: bool) -> tuple[list[int], list[float], bool]:
        """Rendering candidates for a patient in ``state`` on ``plan`` needing ``group``, with cumulative
        volume weights, and whether they are in the plan's network.

        In network and in state first, then in network anywhere; ``oon`` (or no network provider) picks from
        the state's providers of the group, then any provider of the group, then anyone.
        """
        key = (state, plan, group, oon)
        found = self._lists.get(key)
        if found is not None:
            return found
        if not self._buckets:
            self._fill_buckets()
        buckets = self._buckets
        tiers: list[tuple[tuple[object, ...], bool]] = []
        if not oon:
            tiers += [((group, plan, state), True), ((group, plan), True)]
        tiers += [((group, state), False), ((group,), False), (("*",), False)]
        for bucket, in_network in tiers:
            ids = buckets.get(bucket)
            if ids:
                found = (ids, weighted_cum([self.weight[p] for p in ids]), in_network)
                break
        else:  # pragma: no cover - there is always at least one person
            raise ValueError("no providers")
        self._lists[key] = found
        return found

    def _fill_buckets(self) -> None:
        # One pass: each provider lands in at most 2 + 2 x 5 buckets, so lookups never scan all providers.
        buckets = self._buckets
        for p in [*self.persons, *self.labs]:
            g, s = self.group[p], self.state[p]
            keys: list[tuple[object, ...]] = [(g,), (g, s)]
            for plan in self.networks[p]:
                keys += [(g, plan), (g, plan, s)]
            if g != LAB:
                keys.append(("*",))
            for k in keys:
                buckets.setdefault(k, []).append(p)


@dataclass
class Members:
    """Members for the claim generator, indexed by member id (index 0 unused); dates are day ordinals.

    Coverage: ``plan1`` from ``eff1`` to ``term1`` (inclusive); then ``plan2`` (-1 when none) from ``eff2``.
    ``cum`` holds cumulative utilisation weights over ids 1..count.
    """

    count: int
    state: list[int]
    age: list[int]
    plan1: list[int]
    eff1: list[int]
    term1: list[int]
    plan2: list[int]
    eff2: list[int]
    cum: list[float]


@dataclass
class People:
    providers: Providers
    members: Members
    plan_ids: list[int]  # plan index -> id
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class PiiRows:
    """The member PII rows before encryption, in member id order; ``pii_chunk`` makes their COPY chunk.

    Encryption (Fernet per identifier, an HMAC of the SSN) is over half the reference data's Python time and
    draws on no random stream, so the loader may run it in another process while the claims are generated.
    """

    rows: list[PlainPii]


def pii_chunk(pii: PiiRows) -> CopyChunk:
    """The ``members_memberpii`` COPY chunk of ``pii``: identifiers encrypted as the platform stores them
    (``members.pii``); Fernet tokens and hex digests hold no tab, newline or backslash."""
    rows = ["\t".join(NULL if v is None else str(v) for v in pii_copy_row(*row)) + "\n" for row in pii.rows]
    return _chunk("pii", rows)


# The models whose tables are filled here, for the loader's registry. Whole rows: the columns come from the
# models (``copy_columns``: every column but Provider's generated ``search_name``), and the row f-strings below
# write the values in that order.
MODELS: dict[str, type[models.Model]] = {
    "plans": HealthPlan,
    "specialties": Specialty,
    "providers": Provider,
    "networks": ProviderNetwork,
    "members": Member,
    "pii": MemberPII,
    "enrollments": Enrollment,
}
TABLES = {kind: model._meta.db_table for kind, model in MODELS.items()}
COLUMNS = {kind: copy_columns(model) for kind, model in MODELS.items()}


def _chunk(kind: str, rows: list[str]) -> CopyChunk:
    return CopyChunk(TABLES[kind], COLUMNS[kind], "".join(rows).encode(), len(rows))


def _first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.year * 12 + day.month - 1 + months
    return dt.date(month // 12, month % 12 + 1, 1)


def build_people(
    *, seed: int, claims: int, as_of: dt.date, window_start: dt.date
) -> tuple[People, Iterator[CopyChunk | PiiRows]]:
    """Plans, specialties, providers, networks, members, PII and enrollments for a run.

    Returns the indexes for the claim generator and the COPY chunks of the tables (generated eagerly: the
    indexes must be complete before the first claim); the PII comes as ``PiiRows``, still to be encrypted.
    """
    pools = _Pools(seed, people=members_for(claims))
    chunks: list[CopyChunk | PiiRows] = []
    state_cum = weighted_cum([pop for _, pop, _ in STATES])

    plan_rows = [_plan_row(i, p) for i, p in enumerate(PLAN_SPECS, start=1)]
    chunks.append(_chunk("plans", plan_rows))
    plan_ids = list(range(1, len(PLAN_SPECS) + 1))

    taxonomies: list[TaxonomySpec] = [*PERSON_TAXONOMIES, *(spec for spec, _ in ORG_TAXONOMIES)]
    specialty_id = {spec.code: i for i, spec in enumerate(taxonomies, start=1)}
    chunks.append(
        _chunk("specialties", [f"{i}\t{spec.code}\t{spec.name}\n" for i, spec in enumerate(taxonomies, 1)])
    )

    providers, provider_chunks = _build_providers(
        stream(seed, "providers"), pools, claims, as_of, window_start, specialty_id, state_cum
    )
    chunks.extend(provider_chunks)
    members, member_chunks = _build_members(
        stream(seed, "members"), pools, members_for(claims), as_of, window_start, state_cum
    )
    chunks.extend(member_chunks)
    counts: dict[str, int] = {}
    for chunk in chunks:
        if isinstance(chunk, CopyChunk):
            counts[chunk.table] = chunk.rows
        else:
            counts[TABLES["pii"]] = len(chunk.rows)
    return People(providers, members, plan_ids, counts), iter(chunks)


def _build_providers(
    rng: random.Random,
    pools: _Pools,
    claims: int,
    as_of: dt.date,
    window_start: dt.date,
    specialty_id: dict[str, int],
    state_cum: list[float],
) -> tuple[Providers, list[CopyChunk]]:
    total = providers_for(claims)
    orgs = max(2, total * 15 // 100)
    used_npis: set[str] = set()
    org_cum = weighted_cum([spec.weight for spec, _ in ORG_TAXONOMIES])
    person_cum = weighted_cum([spec.weight for spec in PERSON_TAXONOMIES])
    plan_cum = weighted_cum([p.member_weight for p in PLAN_SPECS])
    n = total + 1
    group = [""] * n
    state = [0] * n
    billing_of = list(range(n))
    fee = [1000] * n
    weight = [0.0] * n
    networks: list[tuple[int, ...]] = [()] * n
    persons: list[int] = []
    labs: list[int] = []
    # Organisations in each state by the specialty groups they employ, for affiliating clinicians.
    employers: dict[tuple[int, str], list[int]] = {}
    rows: list[str] = []
    network_rows: list[str] = []
    window_days = (as_of - window_start).days
    window_midnight = dt.datetime.combine(window_start, dt.time(), dt.UTC)

    def created_at() -> str:
        # Loaded into the platform at some point in the 15 years before the window.
        return timestamp_text(window_midnight - dt.timedelta(seconds=rng.randrange(86_400 * 365 * 15)))

    for pid in range(1, n):
        s = pick(rng, state_cum)
        city, zip_code = rng.choice(pools.places[s])
        state[pid] = s
        weight[pid] = rng.lognormvariate(0.0, 0.8)
        if pid <= orgs:
            # The first organisation is a laboratory, so reference-lab claims have a biller at any scale.
            spec, employs = ORG_TAXONOMIES[-1] if pid == 1 else ORG_TAXONOMIES[pick(rng, org_cum)]
            group[pid] = spec.group
            fee[pid] = rng.randint(900, 1400)
            if spec.group == LAB:
                labs.append(pid)
                name = (
                    f"{rng.choice(pools.last_names)} {rng.choice(('LABORATORIES', 'DIAGNOSTIC LABORATORY'))}"
                )
            elif spec.code.startswith("261Q"):
                kind = spec.name.split(", ", 1)[1].split(" (")[0].upper()
                name = f"{city} {kind}"
            else:
                name = f"{rng.choice(pools.last_names)} {rng.choice(GROUP_SUFFIXES)}"
            for g in employs:
                employers.setdefault((s, g), []).append(pid)
            npi = make_npi(rng, used_npis)
            rows.append(
                f"{pid}\t{npi}\tt\t2\t\t\t{x12_text(name, 60)}\t{specialty_id[spec.code]}\t{STATES[s][0]}\t"
                f"{city}\t{zip_code}\t{'t' if rng.random() < 0.98 else 'f'}\t{created_at()}\t{_payee_fields(pid)}\n"
            )
        else:
            spec = PERSON_TAXONOMIES[pick(rng, person_cum)]
            group[pid] = spec.group
            persons.append(pid)
            # Two clinicians in three bill through a group or clinic in their state; the rest bill alone.
            choices = employers.get((s, spec.group))
            if choices and rng.random() < 0.67:
                billing_of[pid] = rng.choice(choices)
            else:
                fee[pid] = rng.randint(900, 1400)
            female = rng.random() < 0.55
            first = rng.choice(pools.female_names if female else pools.male_names)
            npi = make_npi(rng, used_npis)
            rows.append(
                f"{pid}\t{npi}\tt\t1\t{first}\t{rng.choice(pools.last_names)}\t\t{specialty_id[spec.code]}\t"
                f"{STATES[s][0]}\t{city}\t{zip_code}\t{'t' if rng.random() < 0.97 else 'f'}\t{created_at()}\t"
                f"{_payee_fields(pid)}\n"
            )
        # Each provider contracts with 2-5 plans, bigger plans more often. A clinician billing through a group
        # is in the networks of the group: the payer contracts with the billing entity, and adjudication checks
        # the billing provider's network (claims.services.adjudication), so the two never disagree.
        chosen: list[int] = []
        if billing_of[pid] != pid:
            chosen = list(networks[billing_of[pid]])
        else:
            for _ in range(min(len(PLAN_SPECS), rng.randint(2, 5))):
                plan = pick(rng, plan_cum)
                while plan in chosen:
                    plan = pick(rng, plan_cum)
                chosen.append(plan)
            chosen.sort()
        networks[pid] = tuple(chosen)
        accepting = 0.6 if group[pid] == BEHAVIORAL else 0.88
        for plan in chosen:
            effective = (
                NULL
                if rng.random() < 0.05
                else day_text(_add_months(window_start, rng.randint(-60, max(0, window_days // 31 - 1))))
            )
            network_rows.append(
                f"{len(network_rows) + 1}\t{pid}\t{plan + 1}\t{'t' if rng.random() < accepting else 'f'}\t"
                f"{effective}\n"
            )
    index = Providers(
        count=total,
        group=group,
        state=state,
        billing_of=billing_of,
        fee_permille=fee,
        weight=weight,
        networks=networks,
        persons=persons,
        labs=labs,
    )
    return index, [_chunk("providers", rows), _chunk("networks", network_rows)]


def _build_members(
    rng: random.Random,
    pools: _Pools,
    count: int,
    as_of: dt.date,
    window_start: dt.date,
    state_cum: list[float],
) -> tuple[Members, list[CopyChunk | PiiRows]]:
    plan_cum = weighted_cum([p.member_weight for p in PLAN_SPECS])
    n = count + 1
    m_state = [0] * n
    m_age = [0] * n
    plan1 = [0] * n
    eff1 = [0] * n
    term1 = [0] * n
    plan2 = [-1] * n
    eff2 = [0] * n
    weights = [0.0] * n
    member_rows: list[str] = []
    pii_rows: list[PlainPii] = []
    enrollment_rows: list[str] = []
    used_ids: set[str] = set()
    used_ssns: set[str] = set()
    last_day = as_of - dt.timedelta(days=1)
    window_months = (as_of.year - window_start.year) * 12 + as_of.month - window_start.month
    never = dt.date.max.toordinal()
    mid = 0

    def ssn() -> str:
        # Area 900-999 has never been issued as an SSN (SSA; the IRS uses 9xx for ITINs), so no generated
        # value can be a real person's number.
        while True:
            value = f"{rng.randint(900, 999)}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
            if value not in used_ssns:
                used_ssns.add(value)
                return value

    while mid < count:
        p = pick(rng, plan_cum)
        spec = PLAN_SPECS[p]
        if spec.plan_type == PlanType.MEDICARE_B:
            age = (
                rng.randint(65, 95) if rng.random() < 0.88 else rng.randint(30, 64)
            )  # disability entitlement
        elif spec.plan_type == PlanType.MEDICAID:
            age = rng.randint(19, 64)
        else:
            age = rng.randint(22, 64)
        prefix = spec.payer_id[:3]
        while True:
            identifier = f"{prefix}{rng.randrange(10**9):09d}"
            if identifier not in used_ids:
                used_ids.add(identifier)
                break
        s = pick(rng, state_cum)
        city, zip_code = rng.choice(pools.places[s])
        street = f"{rng.randint(1, 9999)} {rng.choice(pools.streets)}"
        line2 = f"APT {rng.randint(1, 40)}{rng.choice('ABCD')}" if rng.random() < 0.22 else ""
        area = STATES[s][2]
        last = rng.choice(pools.last_names)
        # Family coverage: one enrollment history shared by the subscriber and dependents.
        r = rng.random()
        if r < 0.74:  # covered since before the window
            start = _add_months(window_start, -rng.randint(1, 120))
        else:  # joined during the window
            start = _add_months(window_start, rng.randint(0, max(0, window_months - 1)))
        end: dt.date | None = None
        switch = -1
        if rng.random() < 0.14:
            end = _add_months(start, rng.randint(1, 36)) - dt.timedelta(days=1)
            if end >= last_day:
                end = None
            elif rng.random() < 0.5:
                switch = pick(rng, plan_cum)
                if switch == p:
                    switch = (p + 1) % len(PLAN_SPECS)
        family: list[tuple[str, str, int]] = [("18", rng.choice("FM"), age)]
        if spec.has_dependents:
            if rng.random() < (0.15 if spec.plan_type == PlanType.MEDICAID else 0.45):
                spouse_sex = "M" if family[0][1] == "F" else "F"
                family.append(("01", spouse_sex, max(19, min(80, age + rng.randint(-6, 6)))))
            kids = rng.choices((0, 1, 2, 3, 4), weights=(40, 20, 22, 12, 6))[0] if age < 60 else 0
            for _ in range(kids):
                family.append(("19", rng.choice("FM"), rng.randint(0, min(25, max(0, age - 18)))))
        subscriber_id = mid + 1
        for k, (relationship, sex, person_age) in enumerate(family):
            if mid >= count:
                break
            mid += 1
            if rng.random() < 0.002:
                sex = "U"
            birth = as_of - dt.timedelta(days=person_age * 365 + rng.randint(30, 360))
            eff = max(start, _add_months(birth, 1))
            if end is not None and eff > end:
                eff = start
            first = rng.choice(pools.female_names if sex == "F" else pools.male_names)
            number = identifier if k == 0 else f"{identifier}-{k + 1}"
            covered_now = end is None or switch >= 0
            # The member record is created a few weeks before coverage starts (enrollment file lead time).
            created = dt.datetime.combine(eff, dt.time(), dt.UTC) - dt.timedelta(
                seconds=rng.randrange(86_400 * 5, 86_400 * 40)
            )
            member_rows.append(
                f"{mid}\t{number}\t{identifier}\t{relationship}\t{NULL if k == 0 else subscriber_id}\t{first}\t"
                f"{last}\t{day_text(birth)}\t{sex}\t{STATES[s][0]}\t{city}\t{zip_code}\t"
                f"{'t' if covered_now else 'f'}\t{timestamp_text(created)}\n"
            )
            email = ""
            if person_age >= 16 and rng.random() < 0.85:
                local = _ALNUM.sub("", first.lower()) + "." + _ALNUM.sub("", last.lower())
                email = f"{local}{rng.randint(1, 99)}@{rng.choice(EMAIL_DOMAINS)}"
            phone = f"{area}-555-01{rng.randint(0, 99):02d}" if rng.random() < 0.95 else ""
            # Encrypted later, as the platform stores them (``pii_chunk``).
            pii_rows.append((mid, street, line2, phone, email, ssn()))
            enrollment_rows.append(
                f"{len(enrollment_rows) + 1}\t{mid}\t{p + 1}\t{day_text(eff)}\t"
                f"{NULL if end is None else day_text(end)}\tt\n"
            )
            m_state[mid] = s
            m_age[mid] = person_age
            plan1[mid] = p
            eff1[mid] = eff.toordinal()
            term1[mid] = never if end is None else end.toordinal()
            if switch >= 0 and end is not None:
                plan2[mid] = switch
                eff2[mid] = end.toordinal() + 1
                enrollment_rows.append(
                    f"{len(enrollment_rows) + 1}\t{mid}\t{switch + 1}\t{day_text(end + dt.timedelta(days=1))}\t"
                    f"{NULL}\tt\n"
                )
            # Utilisation is skewed: a few members make most claims; older members more, children fewer.
            factor = 1.9 if person_age >= 65 else 0.7 if person_age < 18 else 1.0
            weights[mid] = rng.lognormvariate(0.0, 1.0) * factor
    members = Members(
        count=count,
        state=m_state,
        age=m_age,
        plan1=plan1,
        eff1=eff1,
        term1=term1,
        plan2=plan2,
        eff2=eff2,
        cum=weighted_cum(weights[1:]),
    )
    return members, [
        _chunk("members", member_rows),
        PiiRows(pii_rows),
        _chunk("enrollments", enrollment_rows),
    ]


def _plan_row(plan_id: int, spec: PlanSpec) -> str:
    """A ``members_healthplan`` COPY row: identity, then the plan type's adjudication terms (``plan_terms``)."""
    t = plan_terms(spec.plan_type)
    return (
        f"{plan_id}\t{spec.name}\t{spec.payer_id}\t{spec.plan_type}\t{t.filing_limit_days}\t{t.conversion_factor}\t"
        f"{t.deductible}\t{t.coinsurance_rate}\t{t.copay}\t{t.review_threshold}\t{t.out_of_network_rate}\n"
    )


def _payee_fields(provider_id: int) -> str:
    """Street and tax id of a synthetic provider (COPY text), drawn from no random stream so the other columns
    keep their draws. EINs never start with 9 (IRS prefixes): a "9" tax id is visibly synthetic."""
    return f"{provider_id % 9000 + 100} MAIN ST\t9{provider_id:08d}"
