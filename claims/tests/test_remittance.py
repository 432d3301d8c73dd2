"""835 remittances on real PostgreSQL: the real 837P samples go in, are decided by the engine, and come out as
835s that balance and that pyx12 accepts; a second cycle remits nothing again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from claims.lifecycle import ClaimStatus
from claims.models import Claim, ClaimRelation, Remittance, RemittanceRun
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
    """005010X221A1 balancing: per service SVC02 - SVC03 = its CAS, per claim CLP03 - CLP04 = all its CAS and
    CLP05 = its PR CAS, BPR02 = sum CLP04 - sum PLB04 (BPR02 zero or more). Amounts as written, so a CLP02 = 22
    reversal (everything negated) is checked by the same equations."""
    segments = _segments(text)
    bpr = next(s for s in segments if s[0] == "BPR")
    assert _money(bpr[2]) >= 0
    clp_paid = Decimal("0")
    plb = Decimal("0")
    claim: dict[str, Decimal] | None = None
    service: dict[str, Decimal] | None = None

    def close_service() -> None:
        if service is not None:
            assert service["charge"] - service["paid"] == service["cas"], service

    def close_claim() -> None:
        if claim is not None:
            assert claim["charge"] - claim["paid"] == claim["cas"], claim
            assert claim["patient"] == claim["pr"], claim

    for seg in segments:
        if seg[0] in ("CLP", "SE"):
            close_service()
            close_claim()
            service = None
            claim = None
            if seg[0] == "CLP":
                patient = _money(seg[5]) if len(seg) > 5 else Decimal("0")
                claim = {
                    "charge": _money(seg[3]),
                    "paid": _money(seg[4]),
                    "patient": patient,
                    "cas": Decimal("0"),
                    "pr": Decimal("0"),
                }
                clp_paid += _money(seg[4])
        elif seg[0] == "SVC":
            close_service()
            service = {"charge": _money(seg[2]), "paid": _money(seg[3]), "cas": Decimal("0")}
        elif seg[0] == "CAS":
            amounts = sum((_money(seg[i]) for i in range(3, len(seg), 3)), Decimal("0"))
            assert claim is not None
            claim["cas"] += amounts
            if seg[1] == "PR":
                claim["pr"] += amounts
            if service is not None:
                service["cas"] += amounts
        elif seg[0] == "PLB":
            close_service()
            close_claim()
            service = None
            claim = None
            # PLB03/PLB04, PLB05/PLB06, ...: (reason[:reference], amount) pairs; positive withholds.
            plb += sum((_money(seg[i]) for i in range(4, len(seg), 2)), Decimal("0"))
    assert _money(bpr[2]) == clp_paid - plb


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


UHIN = "837P/uhin/837.edi"
ORIGINAL_CLM = b"CLM*1606*2***11:B:1"


def _load(path: Path) -> Claim:
    """Ingest and validate ``path`` (one claim), return the claim it loaded."""
    batch = batch_ingest(path=path).batch
    batch_validate(batch_id=batch.id, path=path)
    return Claim.objects.get(batch=batch)


def _variant(tmp_path: Path, shared_x12: Path, frequency: bytes, name: str) -> Path:
    """The UHIN sample sent again as a replacement (7) or a void (8) of its claim 1606."""
    raw = (shared_x12 / UHIN).read_bytes()
    assert ORIGINAL_CLM in raw
    path = tmp_path / name
    path.write_bytes(raw.replace(ORIGINAL_CLM, ORIGINAL_CLM[:-1] + frequency))
    return path


def _remitted_and_approved(shared_x12: Path, tmp_path: Path) -> tuple[Claim, str]:
    """The UHIN claim, approved with a payment, remitted in a first cycle; with the 835's CLP for it."""
    original = _load(shared_x12 / UHIN)
    demo_roster_apply(seed=1, unenrolled_share=0.0, out_of_network_share=0.0)
    # The sample's 2-year-old service date is timely, and its $2 charge is paid (no deductible, no copay).
    HealthPlan.objects.update(filing_limit_days=10_000, deductible=0, copay=0)
    claims_adjudicate()
    original.refresh_from_db()
    assert original.status == ClaimStatus.APPROVED and original.total_paid > 0
    first = remittances_generate(payment_date=dt.date(2026, 11, 27), out_dir=tmp_path / "1")
    assert (first.payees, first.claims) == (1, 1)
    original.refresh_from_db()
    assert original.remittance is not None and original.reversal_remittance_id is None
    (clp,) = [s for s in _segments(original.remittance.content) if s[0] == "CLP"]
    assert clp[2] == "1"
    return original, "*".join(clp)


def _reversal_of(remitted_clp: str) -> str:
    """The CLP02 = 22 segment that takes ``remitted_clp`` back: status 22, CLP03-CLP05 negated, the rest as is."""
    fields = remitted_clp.split("*")
    fields[2] = "22"
    for i in (3, 4, 5):
        if i < len(fields) and fields[i] not in ("", "0"):
            fields[i] = "-" + fields[i]
    return "*".join(fields)


def _accepted(path: Path) -> str:
    report = validate_835(path)
    assert (path.name, report.outcome, report.errors) == (path.name, "accepted", [])
    text = path.read_text()
    _assert_balanced(text)
    return text


def test_replaced_remitted_claim_is_reversed_once_then_the_replacement_is_paid(
    shared_x12: Path, tmp_path: Path
) -> None:
    original, remitted_clp = _remitted_and_approved(shared_x12, tmp_path)
    replacement = _load(_variant(tmp_path, shared_x12, b"7", "replacement.edi"))
    assert (replacement.related_claim_id, replacement.relation) == (original.id, ClaimRelation.REPLACES)
    claims_adjudicate()  # the engine decides the replacement and ends the original
    original.refresh_from_db()
    replacement.refresh_from_db()
    assert original.status == ClaimStatus.REPLACED
    assert replacement.status == ClaimStatus.APPROVED

    second = remittances_generate(payment_date=dt.date(2026, 12, 4), out_dir=tmp_path / "2")

    assert second.outcome == RunOutcome.SUCCESS and second.error == ""
    assert (second.payees, second.claims) == (1, 2)
    (path,) = (tmp_path / "2").glob("*.835")
    text = _accepted(path)
    segments = _segments(text)
    clps = [s for s in segments if s[0] == "CLP"]
    # The reversal first (as remitted, CLP07 the original's id), then the replacement's own payment.
    assert "*".join(clps[0]) == _reversal_of(remitted_clp)
    assert (clps[0][1], clps[0][7]) == ("1606", str(original.id))
    assert (clps[1][1], clps[1][2], clps[1][7], clps[1][9]) == ("1606", "1", str(replacement.id), "7")
    paid = original.total_paid
    assert _money(clps[0][4]) == -paid and _money(clps[1][4]) == replacement.total_paid
    # Every CAS of the reversal is the remitted one negated.
    remitted_cas = [s for s in _segments(original.remittance.content) if s[0] == "CAS"]
    reversal_cas = [s for s in segments[segments.index(clps[0]) : segments.index(clps[1])] if s[0] == "CAS"]
    assert len(reversal_cas) == len(remitted_cas) > 0
    for was, back in zip(remitted_cas, reversal_cas, strict=True):
        assert back[:3] == was[:3] and _money(back[3]) == -_money(was[3])
    net = replacement.total_paid - paid
    bpr = next(s for s in segments if s[0] == "BPR")
    assert _money(bpr[2]) == max(net, Decimal("0"))
    assert not any(s[0] == "PLB" for s in segments) or net < 0
    row = Remittance.objects.get(run=second)
    original.refresh_from_db()
    replacement.refresh_from_db()
    assert original.reversal_remittance_id == row.id and original.remittance_id != row.id
    assert replacement.remittance_id == row.id and replacement.reversal_remittance_id is None

    third = remittances_generate(payment_date=dt.date(2026, 12, 11))

    assert (third.payees, third.claims, third.outcome) == (0, 0, RunOutcome.SUCCESS)
    assert Remittance.objects.count() == 2


def test_void_of_remitted_claim_sends_only_its_reversal_with_the_balance_carried_forward(
    shared_x12: Path, tmp_path: Path
) -> None:
    original, remitted_clp = _remitted_and_approved(shared_x12, tmp_path)
    void = _load(_variant(tmp_path, shared_x12, b"8", "void.edi"))
    claims_adjudicate()  # the engine voids the void and its original
    original.refresh_from_db()
    void.refresh_from_db()
    assert original.status == void.status == ClaimStatus.VOIDED

    second = remittances_generate(payment_date=dt.date(2026, 12, 4), out_dir=tmp_path / "2")

    assert (second.payees, second.claims, second.total_paid, second.error) == (1, 1, Decimal("0"), "")
    (path,) = (tmp_path / "2").glob("*.835")
    text = _accepted(path)
    segments = _segments(text)
    (clp,) = [s for s in segments if s[0] == "CLP"]
    assert "*".join(clp) == _reversal_of(remitted_clp)
    bpr = next(s for s in segments if s[0] == "BPR")
    assert (bpr[1], bpr[2], bpr[4]) == ("H", "0", "NON")
    # The payment taken back exceeds the cycle's (nothing): carried forward as PLB FB, negative, BPR02 = 0.
    row = Remittance.objects.get(run=second)
    (plb,) = [s for s in segments if s[0] == "PLB"]
    npi = original.billing_provider.npi
    assert plb[:4] == ["PLB", npi, "20261231", f"FB:{row.trace_number}"]
    assert _money(plb[4]) == _money(clp[4]) == -original.total_paid
    original.refresh_from_db()
    void.refresh_from_db()
    assert original.reversal_remittance_id == row.id
    assert void.remittance_id is None and void.reversal_remittance_id is None

    third = remittances_generate(payment_date=dt.date(2026, 12, 11))

    assert (third.payees, third.claims) == (0, 0)
    assert Remittance.objects.count() == 2


def test_void_before_remittance_needs_no_reversal(shared_x12: Path, tmp_path: Path) -> None:
    original = _load(shared_x12 / UHIN)
    demo_roster_apply(seed=1, unenrolled_share=0.0, out_of_network_share=0.0)
    HealthPlan.objects.update(filing_limit_days=10_000)
    claims_adjudicate()
    _load(_variant(tmp_path, shared_x12, b"8", "void.edi"))
    claims_adjudicate()
    original.refresh_from_db()
    assert original.status == ClaimStatus.VOIDED and original.remittance_id is None

    run = remittances_generate(payment_date=dt.date(2026, 12, 4))

    assert (run.payees, run.claims, run.outcome) == (0, 0, RunOutcome.SUCCESS)
    assert not Remittance.objects.exists()


def test_forwarding_balance_carried_by_a_void_is_withheld_from_the_payees_next_payment(
    shared_x12: Path, tmp_path: Path
) -> None:
    original, _ = _remitted_and_approved(shared_x12, tmp_path)
    _load(_variant(tmp_path, shared_x12, b"8", "void.edi"))
    claims_adjudicate()
    carried = remittances_generate(payment_date=dt.date(2026, 12, 4))
    carrying = Remittance.objects.get(run=carried)
    assert carrying.forward_balance == -original.total_paid < 0

    # A new claim (another claim number) of the same payee and payer, paid in the next cycle.
    raw = (shared_x12 / UHIN).read_bytes().replace(b"CLM*1606*", b"CLM*1607*")
    path = tmp_path / "new.edi"
    path.write_bytes(raw)
    new = _load(path)
    claims_adjudicate()
    new.refresh_from_db()
    assert new.status == ClaimStatus.APPROVED and new.total_paid > 0

    run = remittances_generate(payment_date=dt.date(2026, 12, 11), out_dir=tmp_path / "3")

    (path835,) = (tmp_path / "3").glob("*.835")
    segments = _segments(_accepted(path835))
    (plb,) = [s for s in segments if s[0] == "PLB"]
    withheld = min(original.total_paid, new.total_paid)
    # A positive FB withholds the balance; its reference is the trace of the file that carried it.
    assert plb[3] == f"FB:{carrying.trace_number}" and _money(plb[4]) == withheld
    bpr = next(s for s in segments if s[0] == "BPR")
    assert _money(bpr[2]) == new.total_paid - withheld
    row = Remittance.objects.get(run=run)
    assert (row.forward_balance, row.paid) == (withheld, new.total_paid - withheld)
    owed = -sum(
        r.forward_balance for r in Remittance.objects.filter(payee=row.payee, health_plan=row.health_plan)
    )
    assert owed == original.total_paid - withheld
