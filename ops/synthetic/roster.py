"""A synthetic eligibility roster for the members that the demo 837P files brought in.

Real files create their members from the file's own demographics, with no enrollment: the engine pends such
claims "eligibility not on file" until the plan's roster (an 834 in production) is on file. For the demo this
module plays the roster: it enrolls most of the members that have claims but no enrollment, in the plan of
their first claim from two years before it, and puts most billing providers in the networks of the plans they
bill. A share of members is left out on purpose, so the examiner's work queue has real eligibility pends.
Deterministic for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db import transaction

from claims.models import Claim
from members.models import Enrollment
from providers.models import ProviderNetwork


@dataclass(frozen=True)
class RosterResult:
    enrolled: int
    left_unenrolled: int
    network_added: int


def demo_roster_apply(
    *, seed: int, unenrolled_share: float = 0.1, out_of_network_share: float = 0.05
) -> RosterResult:
    """Enroll members with claims and no enrollment (all but ``unenrolled_share`` of them) and add billing
    providers to their plans' networks (all but ``out_of_network_share``). Idempotent: a second run finds nobody
    left to enroll except those it leaves out, and draws the same ones for the same seed."""
    rng = random.Random(f"roster:{seed}")
    # One draw per member id (not per position), so members added later do not reshuffle who is left out.
    first_claims = (
        Claim.objects.filter(member__enrollments__isnull=True)
        .order_by("member_id", "service_date_from")
        .distinct("member_id")
        .values_list("member_id", "health_plan_id", "service_date_from")
    )
    enrollments = []
    left_out = 0
    for member_id, plan_id, first_service in first_claims:
        if random.Random(f"roster:{seed}:{member_id}").random() < unenrolled_share:
            left_out += 1
            continue
        start = first_service.replace(day=1) - relativedelta(years=2)
        enrollments.append(Enrollment(member_id=member_id, plan_id=plan_id, effective_date=start))
    pairs = set(Claim.objects.values_list("health_plan_id", "billing_provider_id").distinct())
    existing = set(ProviderNetwork.objects.values_list("plan_id", "provider_id"))
    networks = [
        ProviderNetwork(plan_id=plan_id, provider_id=provider_id)
        for plan_id, provider_id in sorted(pairs - existing)
        if rng.random() >= out_of_network_share
    ]
    with transaction.atomic():
        Enrollment.objects.bulk_create(enrollments)
        ProviderNetwork.objects.bulk_create(networks, ignore_conflicts=True)
    return RosterResult(enrolled=len(enrollments), left_unenrolled=left_out, network_added=len(networks))
