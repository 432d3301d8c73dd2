"""Providers (billing and rendering), their NUCC taxonomy specialties and plan networks."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce, Concat, Upper

from providers.npi import npi_is_valid


def validate_npi(value: str) -> None:
    """Django validator for the NPI check digit (CMS NPI standard, Luhn over '80840' + NPI)."""
    if not npi_is_valid(value):
        raise ValidationError(
            "%(value)s is not a valid NPI (10 digits, Luhn check digit)", params={"value": value}
        )


class EntityType(models.TextChoices):
    """NM102 entity type qualifier."""

    PERSON = "1", "Person"
    ORGANIZATION = "2", "Non-person entity"


class Specialty(models.Model):
    """A NUCC Health Care Provider Taxonomy code (e.g. 207Q00000X Family Medicine)."""

    taxonomy_code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["taxonomy_code"]
        verbose_name_plural = "specialties"

    def __str__(self) -> str:
        return f"{self.taxonomy_code} {self.name}"


class Provider(models.Model):
    """A billing or rendering provider identified by NPI.

    ``npi_valid`` records the check-digit result rather than enforcing it: real files carry test NPIs, and a
    failed check must be visible, not make the claim disappear.
    """

    # The validator guards forms (the admin); ingest stores NPIs as sent and records the check in npi_valid.
    npi = models.CharField(max_length=10, unique=True, validators=[validate_npi])
    npi_valid = models.BooleanField(default=True)
    entity_type = models.CharField(max_length=1, choices=EntityType.choices, default=EntityType.PERSON)
    first_name = models.CharField(max_length=35, blank=True)
    last_name = models.CharField(max_length=60, blank=True)
    organization_name = models.CharField(max_length=60, blank=True)
    # Upper-cased "ORGANIZATION LAST FIRST", maintained by PostgreSQL, for one trigram index over all names.
    search_name = models.GeneratedField(
        expression=Upper(
            Concat(
                Coalesce("organization_name", Value("")),
                Value(" "),
                Coalesce("last_name", Value("")),
                Value(" "),
                Coalesce("first_name", Value("")),
            )
        ),
        output_field=models.TextField(),
        db_persist=True,
    )
    primary_specialty = models.ForeignKey(
        Specialty, null=True, blank=True, on_delete=models.PROTECT, related_name="providers"
    )
    state_code = models.CharField(max_length=2, blank=True)
    city = models.CharField(max_length=60, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # 2010AA N301 and REF*EI of the billing provider as last sent: the 835 payee loop (1000B N3, REF*TJ).
    address_line1 = models.CharField(max_length=55, blank=True, default="", db_default="")
    tax_id = models.CharField(max_length=9, blank=True, default="", db_default="")

    class Meta:
        ordering = ["npi"]
        indexes = [
            # Provider name search ("contains", any part of the name): trigram GIN on the generated name.
            GinIndex(OpClass(Upper("search_name"), name="gin_trgm_ops"), name="provider_name_trgm_idx"),
            # Provider directory: specialty + state + city of active providers, covering the display name.
            models.Index(
                fields=["primary_specialty", "state_code", "city"],
                condition=models.Q(is_active=True),
                include=["last_name", "first_name", "organization_name"],
                name="provider_directory_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.npi} {self.display_name}"

    @property
    def display_name(self) -> str:
        if self.entity_type == EntityType.ORGANIZATION or not self.last_name:
            return self.organization_name or self.last_name
        return f"{self.last_name}, {self.first_name}".strip(", ")


class ProviderNetwork(models.Model):
    """A provider's participation in a plan's network."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="networks")
    plan = models.ForeignKey("members.HealthPlan", on_delete=models.CASCADE, related_name="network")
    accepting_new_patients = models.BooleanField(default=True)
    effective_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "provider"], name="provider_network_uniq"),
        ]
        indexes = [
            # Directory filter "in plan P's network and accepting new patients".
            models.Index(
                fields=["plan", "provider"],
                condition=models.Q(accepting_new_patients=True),
                name="network_accepting_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} in {self.plan_id}"
