"""835 remittances on real PostgreSQL: the real 837P samples go in, are decided by the engine, and come out as
835s that balance and that pyx12 accepts; a second cycle remits nothing again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from claims.lifecycle import ClaimStatus
from claims.models import Claim, Remittance, RemittanceRun
from claims.services.adjudication import claims_adjudicate
from claims.services.ingest import batch_ingest
from claims.services.remittance import claim_filing_code, remittances_generate
from claims.services.validation import batch_validate
from claims.x12.validation835 import validate_835
from members.models import HealthPlan
from ops.platform.models import RunOutcome
from ops.synthetic.roster import demo_roster_apply

pytestmark = pytest.mark.django_db


def _segments(text: str) -> list[list[str]]:
    return [seg.split("*") for seg in text.replace("\n", "").split("~") if seg]


def _money(value: str) -> Decimal:
    return Decimal(value or "0")


def _assert_balanced(text: str) -> None:
    """005010X221A1 balancing: per service SVC02 - SVC03 = its CAS, per claim CLP03 - CLP04 = all its CAS,
    BPR02 = sum CLP04 - sum PLB."""
    segments = _segments(text)
    bpr = next(s for s in segments if s[0] == "BPR")
    clp_paid = Decimal("0")
    claim: dict[str, Decimal] | None = None
    service: dict[str, Decimal] | None = None

    def close_service() -> None:
        if service is not None:
            assert service["charge"] - service["paid"] == service["cas"], service

    def close_claim() -> None:
        if claim is not None:
            assert claim["charge"] - claim["paid"] == claim["cas"], claim

    for seg in segments:
        if seg[0] in ("CLP", "SE"):
            close_service()
            close_claim()
            service = None
            claim = None
            if seg[0] == "CLP":
                claim = {"charge": _money(seg[3]), "paid": _money(seg[4]), "cas": Decimal("0")}
                clp_paid += _money(seg[4])
        elif seg[0] == "SVC":
            close_service()
            service = {"charge": _money(seg[2]), "paid": _money(seg[3]), "cas": Decimal("0")}
        elif seg[0] == "CAS":
            amounts = sum((_money(seg[i]) for i in range(3, len(seg), 3)), Decimal("0"))
            assert claim is not None
            claim["cas"] += amounts
            if service is not None:
                service["cas"] += amounts
    assert _money(bpr[2]) == clp_paid


def test_plan_types_map_to_835_filing_codes() -> None:
    assert [claim_filing_code(t) for t in ("CI", "BL", "12", "HM", "MB", "ZZ")] == [
        "15",
        "ZZ",
        "12",
        "HM",
        "MB",
        "ZZ",
    ]


def test_real_samples_are_decided_and_remitted_in_balanced_835s_pyx12_accepts(
    shared_x12: Path, tmp_path: Path
) -> None:
    for path in sorted((shared_x12 / "837P").rglob("*")):
        if path.is_file():
            result = batch_ingest(path=path)
            if not result.rejected:
                batch_validate(batch_id=result.batch.id, path=path)
    # Real files bring no eligibility roster: enroll every claimant (the demo's roster, nobody left out), and
    # let the samples' old service dates pass the filing limit so the engine prices them.
    demo_roster_apply(seed=1, unenrolled_share=0.0, out_of_network_share=0.0)
    HealthPlan.objects.update(filing_limit_days=10_000)
    claims_adjudicate()
    assert not Claim.objects.filter(status=ClaimStatus.VALIDATED).exists()

    run = remittances_generate(payment_date=dt.date(2026, 11, 27), out_dir=tmp_path)

    decided = Claim.objects.filter(status__in=[ClaimStatus.APPROVED, ClaimStatus.DENIED])
    assert run.outcome == RunOutcome.SUCCESS and run.error == ""
    assert run.claims == decided.count() > 0
    assert not decided.filter(remittance__isnull=True).exists()
    files = sorted(tmp_path.glob("*.835"))
    assert len(files) == run.payees == Remittance.objects.count()
    assert sum((r.paid for r in Remittance.objects.all()), Decimal("0")) == run.total_paid
    for path in files:
        report = validate_835(path)
        assert (path.name, report.outcome, report.errors) == (path.name, "accepted", [])
        _assert_balanced(path.read_text())

    again = remittances_generate(payment_date=dt.date(2026, 12, 4))

    assert (again.payees, again.claims) == (0, 0)
    assert Remittance.objects.count() == len(files)


def test_generate_835_command_writes_files_and_reports_the_rate(
    shared_x12: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_x12 / "837P/uhin/837.edi"
    batch = batch_ingest(path=path).batch
    batch_validate(batch_id=batch.id, path=path)
    demo_roster_apply(seed=1, unenrolled_share=0.0, out_of_network_share=0.0)
    claims_adjudicate()  # received 2 years after service: denied CARC 29, remitted with CLP02 4

    call_command("generate_835", "--out", str(tmp_path), "--date", "2026-11-27")

    out = capsys.readouterr().out
    assert out.startswith("835 cycle 2026-11-27: 1 files, 1 claims, $0.00 paid")
    (written,) = tmp_path.glob("*.835")
    text = written.read_text()
    clp = next(s for s in _segments(text) if s[0] == "CLP")
    assert (clp[1], clp[2], clp[3], clp[4]) == ("1606", "4", "2", "0")
    assert "CAS*CO*29*2" in text
    assert RemittanceRun.objects.get().claims == 1
