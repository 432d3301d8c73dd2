"""factory_boy factories for claims: ingest batches, claims in the current month, lines and status history.

Claims default to a service date in the current month, whose partition the test database always has
(conftest.py runs pgpartition). A line takes its claim's partition key, as the composite foreign key requires.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from claims.models import (
    Claim,
    ClaimLine,
    ClaimNumber,
    ClaimStatus,
    ClaimStatusHistory,
    FrequencyCode,
    IngestBatch,
    IngestStatus,
    ValidationOutcome,
)
from claims.services.lifecycle import claim_states, month_counts_add
from members.tests.factories import HealthPlanFactory, MemberFactory
from providers.tests.factories import ProviderFactory


def _today() -> dt.date:
    # UTC, like the partition maintenance (claims/partitioning.py), so "this month" is the same month.
    return dt.datetime.now(dt.UTC).date()


class IngestBatchFactory(DjangoModelFactory):
    class Meta:
        model = IngestBatch

    file_name = factory.Sequence(lambda n: f"test_{n:05d}.837")
    sha256 = factory.Sequence(lambda n: hashlib.sha256(f"test batch {n}".encode()).hexdigest())
    size_bytes = 2048
    status = IngestStatus.LOADED
    interchange_count = 1
    transaction_count = 1
    claim_count = 1
    line_count = 1
    total_charge = Decimal("125.00")
    validation_status = ValidationOutcome.ACCEPTED
    finished_at = factory.LazyFunction(timezone.now)


class ClaimFactory(DjangoModelFactory):
    """An original claim received now, for a service today, billed by a provider with a valid NPI, with its
    claim-number lookup row (``ClaimNumber``), as ingest writes one for every claim it loads."""

    class Meta:
        model = Claim
        skip_postgeneration_save = True

    service_date_from = factory.LazyFunction(_today)
    service_date_to = factory.SelfAttribute("service_date_from")
    claim_number = factory.Sequence(lambda n: f"CLM{n:08d}")
    member = factory.SubFactory(MemberFactory)
    health_plan = factory.SubFactory(HealthPlanFactory)
    billing_provider = factory.SubFactory(ProviderFactory)
    place_of_service = "11"
    frequency_code = FrequencyCode.ORIGINAL
    status = ClaimStatus.RECEIVED
    received_at = factory.LazyFunction(timezone.now)
    total_charge = Decimal("125.00")
    diagnosis_codes = factory.LazyFunction(lambda: ["E119"])

    @factory.post_generation
    def number(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            ClaimNumber.objects.create(
                claim_id=self.pk,
                service_date_from=self.service_date_from,
                billing_provider_id=self.billing_provider_id,
                claim_number=self.claim_number,
            )

    @factory.post_generation
    def month_counts(self, create: bool, extracted: object, **kwargs: object) -> None:
        # Counted in its month as a writer of claims must (claims.services.lifecycle: ingest's
        # month_counts_loaded), so the work queue, the status filter and the jobs that read the months find it.
        if create:
            states = claim_states(
                self.status,
                remitted=self.remittance_id is not None,
                reversed_=self.reversal_remittance_id is not None,
            )
            month_counts_add({(state, self.service_date_from): 1 for state in states})


class ClaimLineFactory(DjangoModelFactory):
    class Meta:
        model = ClaimLine

    claim = factory.SubFactory(ClaimFactory)
    # The claim's partition key, never the line's own date: claim and lines share a month partition.
    service_date_from = factory.SelfAttribute("claim.service_date_from")
    line_number = factory.Sequence(lambda n: n % 50 + 1)
    procedure_code = "99213"
    charge = Decimal("125.00")
    units = Decimal("1")
    diagnosis_pointers = factory.LazyFunction(lambda: [1])
    service_date = factory.SelfAttribute("claim.service_date_from")
    service_date_to = factory.SelfAttribute("service_date")


class ClaimStatusHistoryFactory(DjangoModelFactory):
    class Meta:
        model = ClaimStatusHistory

    claim = factory.SubFactory(ClaimFactory)
    claim_service_date_from = factory.SelfAttribute("claim.service_date_from")
    from_status = ""
    to_status = ClaimStatus.RECEIVED
    changed_at = factory.LazyFunction(timezone.now)
    source = "ingest"
