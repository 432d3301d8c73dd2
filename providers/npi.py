"""National Provider Identifier check digit.

Rule: CMS "Requirements for Check Digit Algorithm for the NPI" — the Luhn formula (ISO/IEC 7812) applied to the
9 leading digits prefixed with the card-issuer constant 80840; the 10th digit is the check digit.
"""

from __future__ import annotations

import functools

# The 80840 prefix contributes a constant 24 to the Luhn sum (doubling 0, 4 -> 0 + 8 = 8, plus 8+0+4+0+... as
# specified by CMS).
_PREFIX_SUM = 24


def npi_check_digit(first_nine: str) -> int:
    """Check digit for the first nine digits of an NPI.

    Raises ValueError when ``first_nine`` is not exactly nine ASCII digits.
    """
    if len(first_nine) != 9 or not first_nine.isdigit() or not first_nine.isascii():
        raise ValueError(f"NPI base must be 9 digits, got {first_nine!r}")
    total = _PREFIX_SUM
    # Double every other digit starting from the rightmost of the nine (Luhn, check digit not yet appended).
    for i, ch in enumerate(reversed(first_nine)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


@functools.lru_cache(maxsize=65536)
def npi_is_valid(npi: str) -> bool:
    """True when ``npi`` is 10 ASCII digits whose last digit is the NPI check digit.

    Cached: ingest checks two NPIs per claim, and a file repeats a few thousand providers.
    """
    if len(npi) != 10 or not npi.isdigit() or not npi.isascii():
        return False
    return npi_check_digit(npi[:9]) == int(npi[9])
