"""Members (patients and subscribers), their health plans and enrollments.

Demographics needed to find a member live on ``Member``; direct identifiers (address, phone, e-mail, SSN) live
in ``MemberPII``, one-to-one, so that most queries, indexes and admin pages never touch them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper
from encrypted_fields.fields import EncryptedCharField, EncryptedEmailField

from members.ssn import ssn_hmac


class PlanType(models.TextChoices):
    """Claim filing indicator codes (X12 837P 2000B SBR09, code list 1032)."""

    COMMERCIAL = "CI", "Commercial insurance"
    HMO = "HM", "Health maintenance organization"
    PPO = "12", "Preferred provider organization"
    POS = "13", "Point of service"
    EPO = "14", "Exclusive provider organization"
    MEDICARE_B = "MB", "Medicare Part B"
    MEDICARE_A = "MA", "Medicare Part A"
    MEDICAID = "MC", "Medicaid"
    BLUE_CROSS = "BL", "Blue Cross/Blue Shield"
    CHAMPUS = "CH", "TRICARE (CHAMPUS)"
    WORKERS_COMP = "WC", "Workers' compensation"
    OTHER = "ZZ", "Mutually defined / other"


class Gender(models.TextChoices):
    """Administrative gender as sent in DMG03."""

    FEMALE = "F", "Female"
    MALE = "M", "Male"
    UNKNOWN = "U", "Unknown"


class HealthPlan(models.Model):
    """A payer (2010BB NM1*PR): the organisation that adjudicates and pays claims."""

    name = models.CharField(max_length=120)
    # NM109 with qualifier PI (payer identification) or XV (CMS plan id).
    payer_id = models.CharField(max_length=80, unique=True)
    plan_type = models.CharField(max_length=2, choices=PlanType.choices, default=PlanType.COMMERCIAL)
    # Adjudication terms (claims.adjudication.engine.Benefits): money in dollars, rates as fractions.
    # Days from the first date of service within which a claim must be received (CARC 29 past it).
    filing_limit_days = models.PositiveSmallIntegerField(default=365, db_default=365)
    # Dollars per RVU for the fee schedule (CMS PFS conversion factor, CY 2026: $33.4009).
    conversion_factor = models.DecimalField(
        max_digits=8, decimal_places=4, default=Decimal("33.4009"), db_default=Decimal("33.4009")
    )
    # Raw SQL and COPY inserts (tests, tools) get the same terms from the database defaults.
    deductible = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("500.00"), db_default=Decimal("500.00")
    )  # per plan year
    coinsurance_rate = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal("0.200"), db_default=Decimal("0.200")
    )
    copay = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("25.00"), db_default=Decimal("25.00")
    )  # per claim
    # A claim charging more than this is pended for an examiner.
    review_threshold = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("10000.00"), db_default=Decimal("10000.00")
    )
    # Out of network (not HMO/EPO): the allowed amount is multiplied by this.
    out_of_network_rate = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal("0.600"), db_default=Decimal("0.600")
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.payer_id})"


class Member(models.Model):
    """A person who receives care under a plan: a subscriber, or a dependent (patient, loop 2000C).

    ``member_number`` is ours and unique. ``subscriber_identifier`` is the member identifier as the payer sent it in
    2010BA NM109; several people can share one (a family, or a payer that re-uses numbers), so it is not unique.
    """

    member_number = models.CharField(max_length=80)
    subscriber_identifier = models.CharField(max_length=80, db_index=True)
    # SBR02 / PAT01 individual relationship code: 18 = self, 01 = spouse, 19 = child, G8 = other.
    relationship_code = models.CharField(max_length=2, default="18")
    subscriber = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="dependents"
    )
    first_name = models.CharField(max_length=60, blank=True)
    last_name = models.CharField(max_length=60)
    date_of_birth = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=1, choices=Gender.choices, default=Gender.UNKNOWN)
    state_code = models.CharField(max_length=2, blank=True)
    city = models.CharField(max_length=60, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["member_number"]
        constraints = [
            # Member lookup by number (admin search, claim intake): unique, and covering so the lookup is an
            # index-only scan that returns the name and date of birth without visiting the heap.
            models.UniqueConstraint(
                fields=["member_number"],
                name="member_number_uniq",
                include=["first_name", "last_name", "date_of_birth"],
            ),
        ]
        indexes = [
            # Name search "last name starts with X, first name Y, born between": expression index on the
            # upper-cased names; text_pattern_ops lets LIKE 'SMI%' use it under any collation.
            models.Index(
                OpClass(Upper("last_name"), name="text_pattern_ops"),
                Upper("first_name"),
                "date_of_birth",
                name="member_name_dob_upper_idx",
            ),
            # Free-text member search ("contains"): trigram GIN on the upper-cased last name, which is the
            # expression Django's icontains emits (UPPER(col::text) LIKE UPPER('%x%')).
            GinIndex(OpClass(Upper("last_name"), name="gin_trgm_ops"), name="member_last_trgm_idx"),
            # Geographic reports (members by state and city), active members only.
            models.Index(
                fields=["state_code", "city"],
                condition=models.Q(is_active=True),
                name="member_geo_active_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.member_number


class MemberPII(models.Model):
    """Direct identifiers of a member (PHI), split from ``Member`` so they are read only when needed, and encrypted
    at rest (members/pii.py: Fernet ciphertext in text columns, None for an empty value; the SSN's keyed hash in
    ``ssn_hmac`` for exact lookup)."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, primary_key=True, related_name="pii")
    address_line1 = EncryptedCharField(max_length=55, blank=True, null=True)
    address_line2 = EncryptedCharField(max_length=55, blank=True, null=True)
    phone = EncryptedCharField(max_length=20, blank=True, null=True)
    email = EncryptedEmailField(blank=True, null=True)
    ssn = EncryptedCharField(max_length=11, blank=True, null=True)
    # HMAC-SHA256 of the SSN's digits (members.pii.ssn_hmac), kept by save() and by the bulk writers.
    ssn_hmac = models.CharField(max_length=64, blank=True, db_default="", editable=False)

    class Meta:
        verbose_name = "member PII"
        verbose_name_plural = "member PII"
        permissions = [
            ("reveal_memberpii", "Can reveal a member's full identifiers (audited, with a reason)"),
        ]
        indexes = [
            # "Which member has SSN 900-12-3456": one keyed hash, members with an SSN only.
            models.Index(
                fields=["ssn_hmac"], condition=~models.Q(ssn_hmac=""), name="memberpii_ssn_hmac_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"PII of {self.member_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.ssn_hmac = ssn_hmac(self.ssn)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "ssn" in update_fields:
            kwargs["update_fields"] = {*update_fields, "ssn_hmac"}
        super().save(*args, **kwargs)


class Enrollment(models.Model):
    """Coverage of a member by a plan over a date range (termination_date null = open-ended)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="enrollments")
    plan = models.ForeignKey(HealthPlan, on_delete=models.PROTECT, related_name="enrollments")
    effective_date = models.DateField()
    termination_date = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["member_id", "-effective_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(termination_date__isnull=True)
                | models.Q(termination_date__gte=models.F("effective_date")),
                name="enrollment_dates_ordered",
            ),
        ]
        indexes = [
            # Eligibility check "is this member covered on date D": active enrollments of one member only.
            models.Index(
                fields=["member", "effective_date"],
                condition=models.Q(is_active=True),
                include=["termination_date", "plan"],
                name="enrollment_active_member_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.plan_id} from {self.effective_date}"


class MemberAccumulator(models.Model):
    """How much of a plan year's deductible a member has met in a plan (dollars): the adjudication's memory.

    One row per (member, plan, plan year), made on first use; changed only by the adjudication service, under
    the row lock it takes (SELECT ... FOR UPDATE) in the transaction that decides the member's claims, so two
    batches deciding the same member's claims at once can never both spend the same deductible.
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="accumulators")
    plan = models.ForeignKey(HealthPlan, on_delete=models.PROTECT, related_name="+")
    plan_year = models.PositiveSmallIntegerField()
    deductible_met = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "plan", "plan_year"], name="accumulator_uniq"),
            models.CheckConstraint(condition=models.Q(deductible_met__gte=0), name="accumulator_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.plan_id}, {self.plan_year}: {self.deductible_met}"
