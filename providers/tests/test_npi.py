"""NPI check digit: CMS "Requirements for Check Digit Algorithm for the NPI" (Luhn over 80840 + NPI)."""

import pytest

from providers.npi import npi_check_digit, npi_is_valid


@pytest.mark.parametrize(
    ("npi", "valid"),
    [
        ("1234567893", True),  # the worked example in the CMS document
        ("1245319599", True),
        ("1234567890", False),
        ("123456789", False),  # nine digits
        ("12345678931", False),
        ("123456789X", False),
        ("１２３４５６７８９３", False),  # full-width digits are str.isdigit() but not ASCII
    ],
)
def test_npi_is_valid(npi: str, valid: bool) -> None:
    assert npi_is_valid(npi) is valid


def test_check_digit_of_cms_example() -> None:
    assert npi_check_digit("123456789") == 3


def test_check_digit_rejects_wrong_length() -> None:
    with pytest.raises(ValueError, match="9 digits"):
        npi_check_digit("12345")
