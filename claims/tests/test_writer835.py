"""835 writer (claims.x12.writer835) and its validation (claims.x12.validation835): pyx12 accepts what it
writes with zero errors, the IG's balancing rules hold in the written text, reversals negate and still
balance, and input that does not balance is refused naming the claim, never the patient.

Three payees' remittances from one payer: a check with approved claims (CO-45 contractual, PR-1 deductible,
PR-2 coinsurance, PR-3 copay), a denial (CO-29), a claim-level adjustment and PLB interest/recovery; an ACH
payment with a reversal and its correction and a dependent patient; a zero payment (NON) of a denial (CO-242).
All DB-free."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from claims.carc import Carc
from claims.x12.model835 import (
    Adjustment,
    ClaimPayment,
    ProviderAdjustment,
    RemitAddress,
    RemitPayee,
    RemitPayer,
    RemitPayment,
    RemitPerson,
    Remittance,
    ServicePayment,
)
from claims.x12.validation835 import ACCEPTED, ACCEPTED_WITH_ERRORS, REJECTED, validate_835
from claims.x12.writer835 import (
    balance_problems,
    format_problems,
    write_835,
    write_835_interchange,
)

CREATED = dt.datetime(2026, 11, 2, 6, 15)
CYCLE = dt.date(2026, 10, 30)
FISCAL_YEAR_END = dt.date(2026, 12, 31)
D = Decimal

PAYER = RemitPayer(
    name="ACME HEALTH PLAN",
    payer_id="ACME01",
    tax_id="351234567",
    address=RemitAddress(line1="100 INSURANCE WAY", city="COLUMBUS", state_code="OH", zip_code="43215"),
    contact_name="EDI HELP DESK",
    contact_phone="8005550199",
    contact_email="EDI@ACME.EXAMPLE",
)


def _payee(name: str, npi: str, tax_id: str) -> RemitPayee:
    return RemitPayee(
        name=name,
        npi=npi,
        tax_id=tax_id,
        address=RemitAddress(
            line1="1 CLINIC DR", line2="SUITE 200", city="DAYTON", state_code="OH", zip_code="454021234"
        ),
    )


FAMILY = _payee("FAMILY PRACTICE ASSOCIATES", "1234567893", "311111111")
ORTHO = _payee("RIVERSIDE ORTHOPEDICS", "1245319599", "312222222")
CLINIC = _payee("NORTH END CLINIC", "1518950888", "313333333")


def co(reason: Carc | str, amount: str) -> Adjustment:
    return Adjustment("CO", str(reason), D(amount))


def pr(reason: Carc | str, amount: str) -> Adjustment:
    return Adjustment("PR", str(reason), D(amount))


def line(code: str, charge: str, paid: str, *adjustments: Adjustment, **extra: object) -> ServicePayment:
    return ServicePayment(
        procedure_code=code,
        charge=D(charge),
        paid=D(paid),
        units=D("1"),
        service_date=dt.date(2026, 10, 6),
        adjustments=adjustments,
        **extra,  # type: ignore[arg-type]
    )


def claim(
    pcn: str, status: str, charge: str, paid: str, patient_share: str, *lines: ServicePayment, **extra: object
) -> ClaimPayment:
    values: dict[str, object] = {
        "patient_control_number": pcn,
        "status_code": status,
        "total_charge": D(charge),
        "paid": D(paid),
        "patient_responsibility": D(patient_share),
        "claim_filing_code": "12",
        "payer_claim_control_number": f"26300{pcn[-2:]}0001",
        "facility_code": "11",
        "patient": RemitPerson("DOE", "JANE", "W123456701"),
        "lines": lines,
    }
    values.update(extra)
    return ClaimPayment(**values)  # type: ignore[arg-type]


# Approved: 215.00 billed, 99.00 paid; patient owes 20 deductible + 16 coinsurance + 5 copay.
APPROVED = claim(
    "FPA-1001",
    "1",
    "215",
    "99",
    "41",
    line(
        "99213",
        "150",
        "64",
        co(Carc.EXCEEDS_FEE_SCHEDULE, "50"),
        pr(Carc.DEDUCTIBLE, "20"),
        pr(Carc.COINSURANCE, "16"),
    ),
    line("36415", "25", "10", co(Carc.EXCEEDS_FEE_SCHEDULE, "15")),
    line(
        "85025",
        "40",
        "25",
        co(Carc.EXCEEDS_FEE_SCHEDULE, "10"),
        pr(Carc.COPAYMENT, "5"),
        remark_codes=("N130",),
    ),
)
# Denied at line level, timely filing.
DENIED = claim(
    "FPA-1002",
    "4",
    "200",
    "0",
    "0",
    line("99214", "200", "0", co(Carc.TIMELY_FILING, "200"), remark_codes=("N211",)),
    patient=RemitPerson("ROE", "RICHARD", "W765432101"),
)
# A claim-level adjustment (CO-253 sequestration) on top of the line's contractual one.
SEQUESTERED = claim(
    "FPA-1003",
    "1",
    "100",
    "78.40",
    "0",
    line("99212", "100", "80", co(Carc.EXCEEDS_FEE_SCHEDULE, "20"), modifiers=("25",)),
    adjustments=(co("253", "1.60"),),
)
FAMILY_REMIT = Remittance(
    payer=PAYER,
    payee=FAMILY,
    # 99 + 0 + 78.40 paid, minus PLB: 30.00 recovered (WO), 2.15 interest paid (L6, negative).
    payment=RemitPayment(amount=D("149.55"), method="CHK", date=CYCLE),
    trace_number="0012345678",
    production_date=CYCLE,
    claims=(APPROVED, DENIED, SEQUESTERED),
    provider_adjustments=(
        ProviderAdjustment(FAMILY.npi, FISCAL_YEAR_END, "WO", D("30"), reference_id="FPA-0917"),
        ProviderAdjustment(FAMILY.npi, FISCAL_YEAR_END, "L6", D("-2.15")),
    ),
)

# Paid 180 in an earlier cycle; reversed here (CLP02 22, amounts negated) and corrected to 200.
ORIGINAL = claim(
    "ROR-2001",
    "1",
    "300",
    "180",
    "40",
    line(
        "20610",
        "300",
        "180",
        co(Carc.EXCEEDS_FEE_SCHEDULE, "80"),
        pr(Carc.DEDUCTIBLE, "40"),
        modifiers=("RT",),
    ),
    payer_claim_control_number="2629900017001",
)
REVERSAL = dataclasses.replace(ORIGINAL, reversal=True)
CORRECTION = claim(
    "ROR-2001",
    "1",
    "300",
    "200",
    "20",
    line(
        "20610",
        "300",
        "200",
        co(Carc.EXCEEDS_FEE_SCHEDULE, "80"),
        pr(Carc.DEDUCTIBLE, "20"),
        modifiers=("RT",),
    ),
    payer_claim_control_number="2630400017002",
)
# A dependent child: NM1*IL carries the subscriber.
DEPENDENT = claim(
    "ROR-2002",
    "1",
    "120",
    "81",
    "15",
    line(
        "73610",
        "120",
        "81",
        co(Carc.EXCEEDS_FEE_SCHEDULE, "24"),
        pr(Carc.COPAYMENT, "15"),
        modifiers=("RT", "26"),
    ),
    patient=RemitPerson("DOE", "SAM", ""),
    insured=RemitPerson("DOE", "JOHN", "W555000101"),
    claim_filing_code="HM",
)
ORTHO_REMIT = Remittance(
    payer=PAYER,
    payee=ORTHO,
    payment=RemitPayment(
        amount=D("101"),  # -180 + 200 + 81
        method="ACH",
        date=dt.date(2026, 11, 3),
        sender_dfi_id="041000124",
        sender_account="99887766",
        receiver_dfi_id="044000037",
        receiver_account="12340001",
    ),
    trace_number="EFT20261103001",
    production_date=CYCLE,
    claims=(REVERSAL, CORRECTION, DEPENDENT),
    receiver_identifier="ORTHOCLEARING",
)

# Nothing paid this cycle: BPR02 0, BPR04 NON.
OUT_OF_NETWORK = claim(
    "NEC-3001",
    "4",
    "180",
    "0",
    "0",
    line("99203", "180", "0", co(Carc.OUT_OF_NETWORK, "180")),
    claim_filing_code="MC",
)
CLINIC_REMIT = Remittance(
    payer=PAYER,
    payee=CLINIC,
    payment=RemitPayment(amount=D("0"), method="NON", date=CYCLE),
    trace_number="NP20261030001",
    production_date=CYCLE,
    claims=(OUT_OF_NETWORK,),
)

REMITTANCES = (FAMILY_REMIT, ORTHO_REMIT, CLINIC_REMIT)


def _write(remittance: Remittance, control: int = 101) -> str:
    return write_835(
        remittance,
        interchange_control_number=control,
        sender_id="ACME01",
        receiver_id="PAYEE01",
        created=CREATED,
    )


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


def _cas_total(cas: list[str]) -> Decimal:
    """Sum of the amounts of one CAS segment: CAS03, CAS06, ... (triplets reason, amount, quantity)."""
    return sum((D(amount) for amount in cas[3::3] if amount), D("0"))


def _claims(
    transaction: list[list[str]],
) -> Iterator[tuple[list[str], list[list[str]], list[tuple[list[str], list[list[str]]]]]]:
    """(CLP, its claim-level CAS, [(SVC, its CAS)]) per 2100 loop, read from the segments alone."""
    clp: list[str] | None = None
    claim_cas: list[list[str]] = []
    lines: list[tuple[list[str], list[list[str]]]] = []
    for seg in transaction:
        if seg[0] in ("CLP", "PLB", "SE") and clp is not None:
            yield clp, claim_cas, lines
            clp, claim_cas, lines = None, [], []
        if seg[0] == "CLP":
            clp = seg
        elif seg[0] == "SVC":
            lines.append((seg, []))
        elif seg[0] == "CAS" and clp is not None:
            (lines[-1][1] if lines else claim_cas).append(seg)


def test_remittances_balance_before_writing() -> None:
    for remittance in REMITTANCES:
        assert balance_problems(remittance) == []
        assert format_problems(remittance) == []


@pytest.mark.parametrize("remittance", REMITTANCES, ids=["check", "ach-reversal", "no-payment"])
def test_written_file_is_accepted_by_pyx12_with_zero_errors(remittance: Remittance, tmp_path: Path) -> None:
    path = tmp_path / "remit.835"
    path.write_text(_write(remittance), encoding="ascii")
    report = validate_835(path)
    assert report.errors == []
    assert report.outcome == ACCEPTED
    assert not report.crashed


def test_interchange_of_three_payees_is_accepted_with_correct_counts(tmp_path: Path) -> None:
    text = write_835_interchange(
        REMITTANCES,
        interchange_control_number=4711,
        sender_id="ACME01",
        receiver_id="CLEARHOUSE",
        created=CREATED,
    )
    path = tmp_path / "three.835"
    path.write_text(text, encoding="ascii")
    report = validate_835(path)
    assert (report.outcome, report.errors) == (ACCEPTED, [])

    segments = _segments(text)
    assert [s[0] for s in segments[:2]] == ["ISA", "GS"] and [s[0] for s in segments[-2:]] == ["GE", "IEA"]
    isa, gs, ge, iea = segments[0], segments[1], segments[-2], segments[-1]
    assert (isa[13], isa[16]) == ("000004711", ":")
    assert gs[1] == "HP" and gs[6] == "4711" and gs[8] == "005010X221A1"
    transactions = list(_transactions(segments))
    assert len(transactions) == 3
    assert ge == ["GE", "3", "4711"]
    assert iea == ["IEA", "1", "000004711"]
    for number, transaction in enumerate(transactions, start=1):
        st, se = transaction[0], transaction[-1]
        # ST03 is Not Used in the 835 IG: two elements only.
        assert st == ["ST", "835", f"{number:04d}"]
        assert se == ["SE", str(len(transaction)), f"{number:04d}"]
    # Every segment is on its own line.
    assert text.count("~\n") == len(segments)


@pytest.mark.parametrize("remittance", REMITTANCES, ids=["check", "ach-reversal", "no-payment"])
def test_written_text_satisfies_the_three_balance_equations(remittance: Remittance) -> None:
    (transaction,) = _transactions(_segments(_write(remittance)))
    claims_paid = D("0")
    seen = 0
    for clp, claim_cas, lines in _claims(transaction):
        seen += 1
        line_adjustments = D("0")
        for svc, line_cas in lines:
            cas = sum((_cas_total(c) for c in line_cas), D("0"))
            assert D(svc[2]) - D(svc[3]) == cas, svc
            line_adjustments += cas
        claim_level = sum((_cas_total(c) for c in claim_cas), D("0"))
        assert D(clp[3]) - D(clp[4]) == claim_level + line_adjustments, clp
        claims_paid += D(clp[4])
    assert seen == len(remittance.claims)
    plb = [seg for seg in transaction if seg[0] == "PLB"]
    withheld = sum((D(amount) for seg in plb for amount in seg[4::2]), D("0"))
    bpr = next(seg for seg in transaction if seg[0] == "BPR")
    assert D(bpr[2]) == claims_paid - withheld == remittance.payment.amount


def test_check_remittance_carries_the_decided_values() -> None:
    text = _write(FAMILY_REMIT)
    lines = text.splitlines()
    assert "BPR*I*149.55*C*CHK************20261030~" in lines
    assert "TRN*1*0012345678*1351234567~" in lines
    assert "DTM*405*20261030~" in lines
    assert lines[lines.index("N1*PR*ACME HEALTH PLAN~") + 3 : lines.index("N1*PR*ACME HEALTH PLAN~") + 5] == [
        "REF*2U*ACME01~",
        "PER*BL*EDI HELP DESK*TE*8005550199*EM*EDI@ACME.EXAMPLE~",
    ]
    assert "N1*PE*FAMILY PRACTICE ASSOCIATES*XX*1234567893~" in lines
    assert "REF*TJ*311111111~" in lines
    start = lines.index("CLP*FPA-1001*1*215*99*41*12*26300010001*11*1~")
    assert lines[start : start + 14] == [
        "CLP*FPA-1001*1*215*99*41*12*26300010001*11*1~",
        "NM1*QC*1*DOE*JANE****MI*W123456701~",
        "SVC*HC:99213*150*64**1~",
        "DTM*472*20261006~",
        "CAS*CO*45*50~",
        "CAS*PR*1*20**2*16~",
        "SVC*HC:36415*25*10**1~",
        "DTM*472*20261006~",
        "CAS*CO*45*15~",
        "SVC*HC:85025*40*25**1~",
        "DTM*472*20261006~",
        "CAS*CO*45*10~",
        "CAS*PR*3*5~",
        "LQ*HE*N130~",
    ]
    # Denied: no CLP05, the whole charge adjusted CO-29 at line level.
    assert "CLP*FPA-1002*4*200*0**12*26300020001*11*1~" in lines
    assert "CAS*CO*29*200~" in lines
    # Claim-level CAS sits between CLP and NM1*QC.
    sequestered = lines.index("CLP*FPA-1003*1*100*78.4**12*26300030001*11*1~")
    assert lines[sequestered + 1 : sequestered + 3] == [
        "CAS*CO*253*1.6~",
        "NM1*QC*1*DOE*JANE****MI*W123456701~",
    ]
    assert "SVC*HC:99212:25*100*80**1~" in lines
    # PLB after the last claim, just before SE: WO withheld (positive), L6 interest paid (negative).
    assert lines[-4] == "PLB*1234567893*20261231*WO:FPA-0917*30*L6*-2.15~"
    assert lines[-3].startswith("SE*")


def test_ach_and_zero_payments_fill_bpr_as_the_ig_says() -> None:
    ach = _write(ORTHO_REMIT).splitlines()
    assert (
        "BPR*C*101*C*ACH*CCP*01*041000124*DA*99887766*1351234567**01*044000037*DA*12340001*20261103~" in ach
    )
    assert "TRN*1*EFT20261103001*1351234567~" in ach
    assert "REF*EV*ORTHOCLEARING~" in ach
    none = _write(CLINIC_REMIT).splitlines()
    assert "BPR*H*0*C*NON************20261030~" in none


def test_reversal_negates_amounts_precedes_its_correction_and_balances(tmp_path: Path) -> None:
    lines = _write(ORTHO_REMIT).splitlines()
    reversal = lines.index("CLP*ROR-2001*22*-300*-180*-40*12*2629900017001*11*1~")
    correction = lines.index("CLP*ROR-2001*1*300*200*20*12*2630400017002*11*1~")
    assert reversal < correction
    assert lines[reversal + 2 : reversal + 6] == [
        "SVC*HC:20610:RT*-300*-180**1~",
        "DTM*472*20261006~",
        "CAS*CO*45*-80~",
        "CAS*PR*1*-40~",
    ]
    # The reversal alone balances too (-300 - -180 = -80 + -40); the 180 it takes back exceeds the cycle's
    # payment, so it is carried forward with a negative PLB FB and BPR02 is 0.
    only_reversal = dataclasses.replace(
        ORTHO_REMIT,
        claims=(REVERSAL,),
        provider_adjustments=(ProviderAdjustment(ORTHO.npi, FISCAL_YEAR_END, "FB", D("-180"), "ROR-2001"),),
        payment=RemitPayment(amount=D("0"), method="NON", date=CYCLE),
    )
    assert balance_problems(only_reversal) == []
    assert format_problems(only_reversal) == []
    path = tmp_path / "reversal_only.835"
    path.write_text(_write(only_reversal), encoding="ascii")
    assert (validate_835(path).outcome, validate_835(path).errors) == (ACCEPTED, [])
    without_forward = dataclasses.replace(only_reversal, provider_adjustments=())
    assert balance_problems(without_forward) == [
        "BPR02 = 0 but the sum of CLP04 (-180) - the sum of PLB04 (0) = -180"
    ]
    # Status 22 itself is refused: a reversal is the original with reversal=True.
    with pytest.raises(ValueError, match="reversal=True"):
        dataclasses.replace(ORIGINAL, status_code="22")


def test_dependent_patient_gets_the_insured_and_no_patient_id() -> None:
    lines = _write(ORTHO_REMIT).splitlines()
    start = lines.index("CLP*ROR-2002*1*120*81*15*HM*26300020001*11*1~")
    assert lines[start + 1 : start + 4] == [
        "NM1*QC*1*DOE*SAM~",
        "NM1*IL*1*DOE*JOHN****MI*W555000101~",
        "SVC*HC:73610:RT:26*120*81**1~",
    ]


def test_unbalanced_claim_is_refused_naming_its_position_and_payer_claim_number_not_clp01() -> None:
    # The 99213 line says 70 paid but its adjustments still explain 86 of the 150 billed; the sequestered
    # claim says 80 paid, ignoring its claim-level 1.60 (and so the payment no longer adds up either).
    bad_line = dataclasses.replace(APPROVED.lines[0], paid=D("70"))
    bad = dataclasses.replace(APPROVED, lines=(bad_line, *APPROVED.lines[1:]))
    bad_total = dataclasses.replace(SEQUESTERED, paid=D("80"))
    remittance = dataclasses.replace(FAMILY_REMIT, claims=(bad, DENIED, bad_total))
    assert balance_problems(remittance) == [
        "claims[0] (CLP07 26300010001) line 1 (99213): SVC02 - SVC03 = 80 but the line's CAS amounts sum to 86",
        "claims[2] (CLP07 26300030001): CLP03 - CLP04 = 20 but its CAS amounts (claim level 1.60, "
        "service lines 20) sum to 21.60",
        "BPR02 = 149.55 but the sum of CLP04 (179) - the sum of PLB04 (27.85) = 151.15",
    ]
    with pytest.raises(ValueError, match=r"claims\[0\] \(CLP07 26300010001\)") as raised:
        _write(remittance)
    message = str(raised.value)
    assert "SVC02 - SVC03 = 80" in message and "1234567893" in message
    # No PHI in errors: no names, and no patient control number (CLP01, the patient's account number).
    assert "DOE" not in message and "JANE" not in message and "FPA-1001" not in message


def test_payment_total_and_patient_responsibility_must_agree() -> None:
    wrong_total = dataclasses.replace(
        FAMILY_REMIT, payment=dataclasses.replace(FAMILY_REMIT.payment, amount=D("177.40"))
    )
    assert balance_problems(wrong_total) == [
        "BPR02 = 177.40 but the sum of CLP04 (177.40) - the sum of PLB04 (27.85) = 149.55"
    ]
    wrong_share = dataclasses.replace(
        FAMILY_REMIT,
        claims=(dataclasses.replace(APPROVED, patient_responsibility=D("36")), DENIED, SEQUESTERED),
    )
    assert balance_problems(wrong_share) == [
        "claims[0] (CLP07 26300010001): CLP05 = 36 but its PR adjustments sum to 41"
    ]
    with pytest.raises(ValueError, match="CLP05 = 36"):
        _write(wrong_share)


def test_values_that_cannot_be_written_are_refused_without_echoing_them() -> None:
    bad_patient = dataclasses.replace(
        APPROVED, patient=RemitPerson("O*BRIEN", "JANE", "W1"), claim_filing_code="CI"
    )
    remittance = dataclasses.replace(FAMILY_REMIT, claims=(bad_patient, DENIED, SEQUESTERED))
    problems = format_problems(remittance)
    assert problems == [
        "claims[0].patient.last_name contains a delimiter (* : ^ ~) or a non-ASCII character",
        "claims[0] (CLP07 26300010001): claim filing indicator 'CI' (CLP06) is not in the 835's list "
        "(the 837P's CI and BL are not allowed in an 835)",
    ]
    with pytest.raises(ValueError, match="claims\\[0\\].patient.last_name") as raised:
        _write(remittance)
    assert "BRIEN" not in str(raised.value)
    half_cent = dataclasses.replace(
        CLINIC_REMIT, payment=RemitPayment(amount=D("0.005"), method="CHK", date=CYCLE)
    )
    assert "BPR02 = 0.005 is not a whole number of cents" in format_problems(half_cent)
    negative = dataclasses.replace(
        CLINIC_REMIT, payment=RemitPayment(amount=D("-5"), method="CHK", date=CYCLE)
    )
    assert any("carry the balance forward" in p for p in format_problems(negative))


def test_more_than_six_reasons_of_one_group_take_a_second_cas(tmp_path: Path) -> None:
    reasons = ["45", "97", "59", "151", "234", "B15", "253"]
    adjustments = tuple(co(reason, "10") for reason in reasons) + (pr(Carc.DEDUCTIBLE, "5"),)
    busy = claim("FPA-1004", "1", "100", "25", "5", line("99215", "100", "25", *adjustments))
    remittance = dataclasses.replace(
        FAMILY_REMIT,
        claims=(busy,),
        provider_adjustments=(),
        payment=dataclasses.replace(FAMILY_REMIT.payment, amount=D("25")),
    )
    text = _write(remittance)
    cas = [s for s in text.splitlines() if s.startswith("CAS")]
    assert cas == [
        "CAS*CO*45*10**97*10**59*10**151*10**234*10**B15*10~",
        "CAS*CO*253*10~",
        "CAS*PR*1*5~",
    ]
    path = tmp_path / "busy.835"
    path.write_text(text, encoding="ascii")
    assert (validate_835(path).outcome, validate_835(path).errors) == (ACCEPTED, [])


def test_shared_pyx12_sample_is_accepted(shared_x12: Path) -> None:
    report = validate_835(shared_x12 / "835" / "pyx12" / "835_mult_loops.txt")
    assert (report.outcome, report.errors, report.crashed) == (ACCEPTED, [], False)


def test_shared_invalid_sample_is_rejected_with_its_errors(shared_x12: Path) -> None:
    # SOURCES.md: pyx12 finds 2 errors (an invalid BPR16 date, no PER*BL in 1000A).
    report = validate_835(shared_x12 / "835" / "lfh" / "managed-care.835")
    assert report.outcome == REJECTED
    assert [(e["position"], e["segment"], e["element"], e["code"]) for e in report.errors] == [
        (4, "BPR", "BPR16", "IK403:8"),
        (10, "PER", "", "IK304:3"),
    ]


def test_validator_reports_st03_and_a_missing_technical_contact(tmp_path: Path) -> None:
    text = _write(CLINIC_REMIT)
    with_st03 = tmp_path / "st03.835"
    with_st03.write_text(text.replace("ST*835*0001~", "ST*835*0001*005010X221A1~"), encoding="ascii")
    report = validate_835(with_st03)
    assert report.outcome == ACCEPTED_WITH_ERRORS
    assert [(e["position"], e["segment"], e["element"], e["code"]) for e in report.errors] == [
        (3, "ST", "ST03", "st03_not_used")
    ]
    no_contact = tmp_path / "no_per.835"
    body = "".join(s + "~\n" for s in text.split("~\n") if s and not s.startswith("PER*BL"))
    # SE01 corrected, so the only error is the missing segment.
    se = next(s for s in body.splitlines() if s.startswith("SE*"))
    body = body.replace(se, f"SE*{int(se.split('*')[1]) - 1}*0001~")
    no_contact.write_text(body, encoding="ascii")
    report = validate_835(no_contact)
    assert report.outcome == REJECTED
    assert [e["code"] for e in report.errors] == ["IK304:3"]
    assert "Payer Technical Contact" in report.errors[0]["message"]


def test_an_837p_is_not_validated_as_an_835(shared_x12: Path) -> None:
    report = validate_835(shared_x12 / "837P" / "uhin" / "837.edi")
    assert report.outcome == REJECTED
    assert [e["code"] for e in report.errors] == ["not_835"]
