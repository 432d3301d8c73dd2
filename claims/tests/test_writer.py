"""837P writer (claims.x12.writer): pyx12 accepts what it writes, with correct envelope counts, HL tree, money
totals and exactly the claims' values. The input claims come from the synthetic generator
(``ops.synthetic.x12_files``, tested in ``ops/tests/test_synthetic_x12_files.py``). Small files keep this fast."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from claims.models import ValidationOutcome
from claims.x12.model import X12Claim
from claims.x12.validation import validate_837
from claims.x12.writer import money, write_837p
from ops.synthetic.x12_files import build_universe, iter_demo_claims

CREATED = dt.datetime(2026, 10, 15, 9, 30)


def _segments(text: str) -> list[list[str]]:
    return [seg.strip().split("*") for seg in text.split("~") if seg.strip()]


def _transactions(segments: list[list[str]]) -> Iterator[list[list[str]]]:
    """Each ST..SE run (inclusive)."""
    current: list[list[str]] | None = None
    for seg in segments:
        if seg[0] == "ST":
            current = []
        if current is not None:
            current.append(seg)
        if seg[0] == "SE":
            assert current is not None
            yield current
            current = None


@pytest.fixture(scope="module")
def demo_claims() -> list[X12Claim]:
    universe = build_universe(seed=11, claims_hint=60)
    return list(iter_demo_claims(universe, count=60))


@pytest.fixture(scope="module")
def demo_text(demo_claims: list[X12Claim]) -> str:
    # 25 claims per transaction set: three ST/SE pairs, so the multi-transaction path is covered too.
    return write_837p(
        demo_claims,
        sender_id="DEMOSUBMITTER",
        receiver_id="DEMOPAYERS",
        control_number=4711,
        created=CREATED,
        max_claims_per_transaction=25,
    )


def test_sample_covers_dependents_renderers_and_solo_billers(demo_claims: list[X12Claim]) -> None:
    # The validation tests below are only meaningful if every optional loop actually occurs.
    assert any(not c.patient.is_subscriber for c in demo_claims)  # 2000C
    assert any(c.rendering_provider is not None for c in demo_claims)  # 2310B
    assert any(c.rendering_provider is None for c in demo_claims)  # billing provider rendered
    assert any(len(c.lines) > 1 for c in demo_claims)
    assert any(line.modifiers for c in demo_claims for line in c.lines)


def test_written_file_is_accepted_by_pyx12(demo_text: str, tmp_path: Path) -> None:
    path = tmp_path / "demo.837"
    path.write_text(demo_text, encoding="ascii")

    report = validate_837(path)

    assert report.errors == []
    assert report.outcome == ValidationOutcome.ACCEPTED
    assert report.ack_999.count("IK5*A~") == 3
    assert "AK9*A*3*3*3~" in report.ack_999


def test_envelope_counts_and_control_numbers(demo_text: str) -> None:
    segments = _segments(demo_text)
    transactions = list(_transactions(segments))

    assert len(transactions) == 3
    for number, txn in enumerate(transactions, start=1):
        st, se = txn[0], txn[-1]
        assert st == ["ST", "837", f"{number:04d}", "005010X222A1"]
        assert int(se[1]) == len(txn)  # SE01 counts ST through SE
        assert se[2] == st[2]
    isa, gs, ge, iea = segments[0], segments[1], segments[-2], segments[-1]
    assert isa[13] == "000004711" and iea == ["IEA", "1", "000004711"]
    assert gs[6] == "4711" and ge == ["GE", "3", "4711"]
    assert len("*".join(isa)) == 105  # fixed-length ISA (plus the terminator)
    assert isa[9:11] == ["261015", "0930"]


def test_hl_tree_numbering_and_child_codes(demo_text: str) -> None:
    for txn in _transactions(_segments(demo_text)):
        hls = [seg for seg in txn if seg[0] == "HL"]
        level_of: dict[str, str] = {}
        parents: set[str] = set()
        for expected_id, hl in enumerate(hls, start=1):
            hl_id, parent, level, child = (hl + [""] * 5)[1:5]
            assert hl_id == str(expected_id)
            expected_parent_level = {"20": None, "22": "20", "23": "22"}[level]
            if expected_parent_level is None:
                assert parent == ""
            else:
                assert level_of[parent] == expected_parent_level
                parents.add(parent)
            level_of[hl_id] = level
        for hl in hls:
            # HL04 = 1 exactly when some later HL names this one as parent.
            assert (hl[4] == "1") == (hl[1] in parents), hl


def test_clm02_is_the_sum_of_sv102(demo_text: str, demo_claims: list[X12Claim]) -> None:
    totals: dict[str, Decimal] = {}
    line_sums: dict[str, Decimal] = {}
    current = ""
    for seg in _segments(demo_text):
        if seg[0] == "CLM":
            current = seg[1]
            totals[current] = Decimal(seg[2])
            line_sums[current] = Decimal("0")
        elif seg[0] == "SV1":
            line_sums[current] += Decimal(seg[2])

    assert totals == line_sums
    assert totals == {c.claim_number: c.total_charge for c in demo_claims}
    assert len(totals) == 60


def test_file_carries_exactly_the_demo_values(demo_text: str, demo_claims: list[X12Claim]) -> None:
    by_number = {c.claim_number: c for c in demo_claims}
    segments = _segments(demo_text)
    for index, seg in enumerate(segments):
        if seg[0] != "CLM":
            continue
        claim = by_number[seg[1]]
        assert seg[5] == f"{claim.place_of_service}:B:1"
        hi = segments[index + 1]
        assert hi[0] == "HI"
        assert [c.split(":")[1] for c in hi[1:]] == list(claim.diagnosis_codes)
        assert [c.split(":")[0] for c in hi[1:]] == ["ABK"] + ["ABF"] * (len(claim.diagnosis_codes) - 1)
        sv1s = [s for s in segments[index + 1 :][: 3 + 3 * len(claim.lines)] if s[0] == "SV1"]
        for sv1, line in zip(sv1s, claim.lines, strict=True):
            assert sv1[1] == ":".join(("HC", line.procedure_code, *line.modifiers))
            assert (Decimal(sv1[2]), sv1[3], Decimal(sv1[4])) == (line.charge, "UN", line.units)
            assert sv1[7] == ":".join(str(p) for p in line.diagnosis_pointers)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("125.00"), "125"),
        (Decimal("146.50"), "146.5"),
        (Decimal("100"), "100"),
        (Decimal("0.05"), "0.05"),
    ],
)
def test_money_has_no_trailing_zeros(value: Decimal, text: str) -> None:
    assert money(value) == text
