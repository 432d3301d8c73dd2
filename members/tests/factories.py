"""factory_boy factories for members: plans, members, their PII and enrollments."""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from members.models import Enrollment, Gender, HealthPlan, Member, MemberPII, PlanType


class HealthPlanFactory(DjangoModelFactory):
    class Meta:
        model = HealthPlan

    name = factory.Sequence(lambda n: f"Test Health Plan {n}")
    payer_id = factory.Sequence(lambda n: f"PAYER{n:05d}")
    plan_type = PlanType.COMMERCIAL


class MemberFactory(DjangoModelFactory):
    """A subscriber (relationship 18, self); pass ``subscriber=`` and ``relationship_code=`` for a dependent."""

    class Meta:
        model = Member

    member_number = factory.Sequence(lambda n: f"M{n:09d}")
    # A subscriber's payer-side id is usually their own; dependents share the subscriber's.
    subscriber_identifier = factory.LazyAttribute(lambda m: f"SUB{m.member_number}")
    relationship_code = "18"
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=1, maximum_age=90)
    gender = factory.Iterator([Gender.FEMALE, Gender.MALE])
    state_code = "OH"
    city = "Columbus"
    zip_code = "43215"


class MemberPIIFactory(DjangoModelFactory):
    class Meta:
        model = MemberPII

    member = factory.SubFactory(MemberFactory)
    address_line1 = factory.Faker("street_address")
    phone = factory.Sequence(lambda n: f"614555{n % 10000:04d}")
    email = factory.Faker("email")
    # 9xx area numbers are never issued by the SSA: test data can never be a real SSN.
    ssn = factory.Sequence(lambda n: f"900-{n // 10000 % 100:02d}-{n % 10000:04d}")


class EnrollmentFactory(DjangoModelFactory):
    class Meta:
        model = Enrollment

    member = factory.SubFactory(MemberFactory)
    plan = factory.SubFactory(HealthPlanFactory)
    effective_date = factory.LazyFunction(lambda: dt.date.today().replace(month=1, day=1))
    termination_date = None
    is_active = True
