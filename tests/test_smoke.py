import pytest
from django.db import connection


@pytest.mark.django_db
def test_claim_partitions_exist_for_current_month():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'claims_claim'"
        )
        (n,) = cursor.fetchone()
    # 24 months back + this month + 3 ahead, plus DEFAULT.
    assert n == 29


def test_provider_form_rejects_npi_failing_check_digit():
    from django.core.exceptions import ValidationError

    from providers.models import validate_npi

    validate_npi("1245319599")  # a real NPI-shaped number whose Luhn check digit holds
    with pytest.raises(ValidationError, match="not a valid NPI"):
        validate_npi("1234567890")
