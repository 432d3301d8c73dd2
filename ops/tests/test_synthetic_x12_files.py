"""Synthetic 837P files (``ops.synthetic.x12_files``, ``manage.py generate_demo_837``): pyx12 accepts them, the
same seed gives the same bytes, the codes are valid, and the command writes and reports them. The writer itself
is tested in ``claims/tests/test_writer.py``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from claims.x12.model import X12Claim
from claims.x12.validation import validate_837
from ops.synthetic.reference import COMMON_DIAGNOSES, PLAN_SPECS
from ops.synthetic.x12_files import build_universe, generate_demo_files, iter_demo_claims
from providers.npi import npi_is_valid


@pytest.fixture(scope="module")
def demo_claims() -> list[X12Claim]:
    universe = build_universe(seed=11, claims_hint=60)
    return list(iter_demo_claims(universe, count=60))


def test_generated_files_are_accepted_by_pyx12(tmp_path: Path) -> None:
    written = generate_demo_files(tmp_path, files=2, claims_per_file=20, seed=5)

    for f in written:
        report = validate_837(f.path)
        assert (f.path.name, report.outcome, report.errors) == (f.path.name, "accepted", [])


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = generate_demo_files(tmp_path / "a", files=2, claims_per_file=20, seed=9)
    second = generate_demo_files(tmp_path / "b", files=2, claims_per_file=20, seed=9)
    other = generate_demo_files(tmp_path / "c", files=2, claims_per_file=20, seed=10)

    for a, b, c in zip(first, second, other, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes()
        assert a.path.read_bytes() != c.path.read_bytes()
    # Different files of one run differ too (own claims and control numbers).
    assert first[0].path.read_bytes() != first[1].path.read_bytes()
    assert [f.path.name for f in first] == ["demo_0001.837", "demo_0002.837"]
    assert b"ISA*00*" in first[0].path.read_bytes()[:10]


def test_demo_codes_are_valid(demo_claims: list[X12Claim]) -> None:
    import simple_icd_10_cm as cm

    for claim in demo_claims:
        assert npi_is_valid(claim.billing_provider.npi)
        if claim.rendering_provider is not None:
            assert npi_is_valid(claim.rendering_provider.npi)
        for code in claim.diagnosis_codes:
            assert cm.is_valid_item(code) and cm.is_leaf(code), code
        for line in claim.lines:
            assert line.charge > 0 and line.charge == line.charge.quantize(Decimal("0.01"))
            assert all(1 <= p <= len(claim.diagnosis_codes) for p in line.diagnosis_pointers)
            assert claim.service_date_to < dt.date(2026, 11, 1)
    for code in COMMON_DIAGNOSES:
        assert cm.is_valid_item(code) and cm.is_leaf(code), code


def test_command_writes_and_reports_files(tmp_path: Path) -> None:
    out = StringIO()
    call_command(
        "generate_demo_837",
        "--out",
        str(tmp_path),
        "--files",
        "2",
        "--claims-per-file",
        "5",
        "--seed",
        "3",
        stdout=out,
    )

    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["demo_0001.837", "demo_0002.837"]
    assert f"{tmp_path / 'demo_0001.837'}: 5 claims" in out.getvalue()
    assert "wrote 2 file(s), 10 claims" in out.getvalue()


def test_file_plans_are_the_first_history_plans() -> None:
    # Demo files ingested after a history load must find its plans: same payer ids and filing codes.
    universe = build_universe(seed=3, claims_hint=40)

    assert [(p.payer_id, p.claim_filing_code) for p in universe.plans] == [
        (spec.payer_id, str(spec.plan_type)) for spec in PLAN_SPECS[:5]
    ]
    assert {m.plan.payer_id for m in universe.members} <= {spec.payer_id for spec in PLAN_SPECS[:5]}
