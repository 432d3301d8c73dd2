"""The demo eligibility roster: enrolls members with claims, leaves a seeded share out, and runs once."""

from __future__ import annotations

import pytest

from claims.tests.factories import ClaimFactory
from members.models import Enrollment
from ops.synthetic.roster import demo_roster_apply
from providers.models import ProviderNetwork

pytestmark = pytest.mark.django_db


def test_roster_enrolls_members_with_claims_leaves_some_out_and_is_idempotent() -> None:
    claims = [ClaimFactory() for _ in range(40)]

    first = demo_roster_apply(seed=7, unenrolled_share=0.25, out_of_network_share=0.0)
    second = demo_roster_apply(seed=7, unenrolled_share=0.25, out_of_network_share=0.0)

    assert first.enrolled + first.left_unenrolled == 40
    assert 0 < first.left_unenrolled < 40
    assert (second.enrolled, second.left_unenrolled) == (0, first.left_unenrolled)
    by_member = {c.member_id: c for c in claims}
    enrollments = list(Enrollment.objects.all())
    assert len(enrollments) == first.enrolled
    for enrollment in enrollments:
        claim = by_member[enrollment.member_id]
        assert enrollment.plan_id == claim.health_plan_id
        assert enrollment.effective_date < claim.service_date_from
    assert ProviderNetwork.objects.count() == first.network_added == 40
