"""Value helpers both synthetic generators share: X12-safe text and fresh valid NPIs.

Names and addresses from Faker pass through ``x12_text`` in both, so the 837P files and the COPY history hold
the same alphabet (and the COPY text needs no escaping, see ``ops.synthetic.history.copy_text``).
"""

from __future__ import annotations

import random
import re

from providers.npi import npi_check_digit

# X12 basic character set (A-Z, 0-9, space and a few specials) minus our delimiters * : ~ ^.
_NOT_X12_TEXT = re.compile(r"[^A-Z0-9 &'(),./;?=+\-]")


def x12_text(value: str, max_len: int) -> str:
    """Upper-cased ``value`` reduced to the X12 basic character set, trimmed to ``max_len`` characters."""
    cleaned = _NOT_X12_TEXT.sub("", value.upper())
    return " ".join(cleaned.split())[:max_len].strip()


def make_npi(rng: random.Random, used: set[str]) -> str:
    """A fresh valid 10-digit NPI drawn from ``rng``, added to ``used``: first digit 1 or 2 (CMS NPI
    standard), Luhn check digit from ``providers.npi``. Retries until the number is not in ``used``."""
    while True:
        base = rng.choice("12") + f"{rng.randrange(10**8):08d}"
        npi = base + str(npi_check_digit(base))
        if npi not in used:
            used.add(npi)
            return npi
