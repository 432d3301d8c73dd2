"""factory_boy factories for providers: specialties, providers with valid NPIs, network participation."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from members.tests.factories import HealthPlanFactory
from providers.models import EntityType, Provider, ProviderNetwork, Specialty
from providers.npi import npi_check_digit


def make_npi(n: int) -> str:
    """A valid NPI (CMS check digit) from a sequence number; NPIs start with 1 or 2, these with 1."""
    base = f"1{n % 100_000_000:08d}"
    return f"{base}{npi_check_digit(base)}"


class SpecialtyFactory(DjangoModelFactory):
    class Meta:
        model = Specialty

    # Shaped like NUCC codes (10 characters ending in X) without colliding with real ones seeded elsewhere.
    taxonomy_code = factory.Sequence(lambda n: f"T{n:08d}X")
    name = factory.Sequence(lambda n: f"Test Specialty {n}")


class ProviderFactory(DjangoModelFactory):
    """An individual provider (entity type 1); use ``organization=True`` for a group or facility."""

    class Meta:
        model = Provider

    class Params:
        organization = factory.Trait(
            entity_type=EntityType.ORGANIZATION,
            first_name="",
            last_name="",
            organization_name=factory.Faker("company"),
        )

    npi = factory.Sequence(make_npi)
    npi_valid = True
    entity_type = EntityType.PERSON
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    organization_name = ""
    primary_specialty = factory.SubFactory(SpecialtyFactory)
    state_code = "OH"
    city = "Columbus"
    zip_code = "43215"


class ProviderNetworkFactory(DjangoModelFactory):
    class Meta:
        model = ProviderNetwork

    provider = factory.SubFactory(ProviderFactory)
    plan = factory.SubFactory(HealthPlanFactory)
    accepting_new_patients = True
