"""835 remittance advice out: every decided claim not yet remitted, one 005010X221A1 835 per payer and payee.

``remittances_generate`` is the one entry point (the ``generate_835`` command, the weekly beat task). Under the
advisory lock ``claims.remittance`` (one cycle at a time), for each (health plan, billing provider) with
decided, unremitted claims, in one transaction each:

* take those claims ``FOR UPDATE SKIP LOCKED``, with their lines and CAS adjustments (``ClaimAdjustment``);
* build the 835's claim payments: CLP02 1 (processed as primary) for approved, 4 for denied; CLP05 the member's
  share; CAS per line from the adjustments (group, CARC, amount), RARCs as LQ*HE;
* write the file with ``claims.x12.writer835`` (which refuses anything that does not balance: per line
  SVC02 - SVC03 = CAS, per claim CLP03 - CLP04 = CAS, BPR02 = sum CLP04 - PLB), store it as a ``Remittance``
  (text, sha256, trace number TRN02) and mark the claims remitted with a compare-and-set on
  ``remittance IS NULL``: a claim is remitted once, a second run finds nothing to do.

A claim whose lines and adjustments do not balance (synthetic history decided before adjudication recorded CAS
entries) is left unremitted and counted in the run's ``error``; nothing about it is guessed.
The payer's own identity (tax id, address, contact) comes from settings ``REMITTANCE_PAYER``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from claims.lifecycle import ClaimStatus
from claims.models import Claim, ClaimAdjustment, ClaimLine, Remittance, RemittanceRun
from claims.x12 import model835 as m
from claims.x12.writer835 import balance_problems, format_problems, write_835
from members.models import HealthPlan, Member, PlanType
from ops.platform import locks
from ops.platform.models import RunOutcome
from providers.models import Provider

logger = logging.getLogger(__name__)

LOCK = "claims.remittance"
CLAIM_TABLE = Claim._meta.db_table
LINE_TABLE = ClaimLine._meta.db_table
# CLP02 (005010X221A1 2100 CLP02): 1 processed as primary, 4 denied.
_CLAIM_STATUS: dict[str, str] = {ClaimStatus.APPROVED.value: "1", ClaimStatus.DENIED.value: "4"}
# CLP06 has no "CI" (commercial) or "BL" (Blue Cross/Blue Shield) of the 837P's SBR09 list: commercial is
# reported as 15 (indemnity insurance), the rest of what the 835's list lacks as ZZ (mutually defined).
_FILING_CODE: dict[str, str] = {PlanType.COMMERCIAL.value: "15"}


def claim_filing_code(plan_type: str) -> str:
    """The 835 CLP06 code of a plan type (``members.PlanType``, the 837P's SBR09 values)."""
    if plan_type in m.CLAIM_FILING_CODES:
        return plan_type
    return _FILING_CODE.get(plan_type, "ZZ")


@dataclass(frozen=True)
class _Claim:
    id: int
    service_date_from: dt.date
    claim_number: str
    status: str
    total_charge: Decimal
    total_paid: Decimal
    patient_responsibility: Decimal
    payer_claim_control_number: str
    place_of_service: str
    frequency_code: str
    member_id: int


def _payer(plan: HealthPlan) -> m.RemitPayer:
    conf: dict[str, str] = settings.REMITTANCE_PAYER
    return m.RemitPayer(
        name=plan.name[:60],
        payer_id=plan.payer_id,
        tax_id=conf["tax_id"],
        address=m.RemitAddress(conf["address_line1"], conf["city"], conf["state_code"], conf["zip_code"]),
        contact_name=conf["contact_name"],
        contact_phone=conf["contact_phone"],
    )


def _payee(provider: Provider) -> m.RemitPayee:
    name = provider.organization_name or f"{provider.last_name} {provider.first_name}".strip()
    zip_code = "".join(ch for ch in provider.zip_code if ch.isdigit())
    return m.RemitPayee(
        name=name[:60] or provider.npi,
        npi=provider.npi,
        tax_id=provider.tax_id,
        address=m.RemitAddress(
            provider.address_line1 or "UNKNOWN", provider.city, provider.state_code, zip_code
        ),
    )


def _take(plan_id: int, provider_id: int) -> list[_Claim]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, service_date_from, claim_number, status, total_charge, total_paid, patient_responsibility, "
            f"payer_claim_control_number, place_of_service, frequency_code, member_id FROM {CLAIM_TABLE} "
            f"WHERE health_plan_id = %s AND billing_provider_id = %s AND remittance_id IS NULL "
            f"AND status = ANY(%s) ORDER BY id FOR UPDATE SKIP LOCKED",
            [plan_id, provider_id, list(_CLAIM_STATUS)],
        )
        return [_Claim(*row) for row in cursor.fetchall()]


def _payments(claims: list[_Claim], plan: HealthPlan) -> tuple[list[m.ClaimPayment], list[int], int]:
    """Claim payments of ``claims`` that balance, their ids, and how many did not balance (left out)."""
    keys = ([c.id for c in claims], [c.service_date_from for c in claims])
    lines: dict[int, list[ClaimLine]] = defaultdict(list)
    for line in ClaimLine.objects.raw(
        f"SELECT l.* FROM {LINE_TABLE} l JOIN unnest(%s::bigint[], %s::date[]) AS k(id, sdf) "
        f"ON l.claim_id = k.id AND l.service_date_from = k.sdf ORDER BY l.claim_id, l.line_number",
        keys,
    ):
        lines[line.claim_id].append(line)
    cas: dict[tuple[int, int], list[ClaimAdjustment]] = defaultdict(list)
    for adj in ClaimAdjustment.objects.filter(claim_id__in=keys[0]).order_by("claim_id", "line_number", "id"):
        cas[(adj.claim_id, adj.line_number)].append(adj)
    members = Member.objects.in_bulk({c.member_id for c in claims})
    filing = claim_filing_code(plan.plan_type)
    payments: list[m.ClaimPayment] = []
    ids: list[int] = []
    unbalanced = 0
    for c in claims:
        member = members[c.member_id]
        services = tuple(
            m.ServicePayment(
                procedure_code=line.procedure_code,
                charge=line.charge,
                paid=line.paid,
                units=line.units,
                service_date=line.service_date,
                adjustments=tuple(
                    m.Adjustment(a.group_code, a.carc, a.amount) for a in cas[(c.id, line.line_number)]
                ),
                remark_codes=tuple(sorted({a.rarc for a in cas[(c.id, line.line_number)] if a.rarc})),
                modifiers=tuple(line.modifiers),
                procedure_qualifier=line.procedure_qualifier,
            )
            for line in lines[c.id]
        )
        payment = m.ClaimPayment(
            patient_control_number=c.claim_number,
            status_code=_CLAIM_STATUS[c.status],
            total_charge=c.total_charge,
            paid=c.total_paid,
            patient_responsibility=c.patient_responsibility,
            claim_filing_code=filing,
            payer_claim_control_number=str(c.id),
            facility_code=c.place_of_service,
            patient=m.RemitPerson(member.last_name, member.first_name, member.subscriber_identifier),
            lines=services,
            adjustments=tuple(m.Adjustment(a.group_code, a.carc, a.amount) for a in cas[(c.id, 0)]),
            frequency_code=c.frequency_code,
        )
        probe = m.Remittance(
            payer=_payer(plan),
            payee=m.RemitPayee("PROBE", "0000000000", "000000000", m.RemitAddress("X", "X", "XX", "00000")),
            payment=m.RemitPayment(c.total_paid, "CHK" if c.total_paid else "NON", dt.date.today()),
            trace_number="probe",
            production_date=dt.date.today(),
            claims=(payment,),
        )
        if balance_problems(probe):
            unbalanced += 1
            continue
        payments.append(payment)
        ids.append(c.id)
    return payments, ids, unbalanced


def remittances_generate(
    *, payment_date: dt.date | None = None, out_dir: Path | None = None, method: str = "CHK"
) -> RemittanceRun:
    """Write the 835s of one payment cycle (``payment_date``, default today) and return the saved run.

    Each file is also written to ``out_dir`` when given. Raises ``LockTimeout`` when another cycle is running,
    and ``ValueError`` (from the writer) for values an 835 cannot carry (the run is recorded as failed; the
    payee groups written before it stay written).
    """
    day = payment_date or timezone.now().date()
    run = RemittanceRun.objects.create(started_at=timezone.now(), payment_date=day)
    skipped = 0
    try:
        with transaction.atomic():
            locks.xact_lock(LOCK, timeout="1s")
        groups = list(
            Claim.objects.filter(remittance__isnull=True, status__in=list(_CLAIM_STATUS))
            .values_list("health_plan_id", "billing_provider_id")
            .distinct()
            .order_by("health_plan_id", "billing_provider_id")
        )
        plans = HealthPlan.objects.in_bulk({p for p, _ in groups})
        providers = Provider.objects.in_bulk({b for _, b in groups})
        for index, (plan_id, provider_id) in enumerate(groups, start=1):
            with transaction.atomic():
                # One cycle at a time: a second run waits here at most briefly, then fails as "running".
                locks.xact_lock(LOCK, timeout="30s")
                written, left_out = _remit_group(
                    run, plans[plan_id], providers[provider_id], index=index, method=method, out_dir=out_dir
                )
                skipped += left_out
                if written is not None:
                    run.payees += 1
                    run.claims += written.claims
                    run.total_paid += written.paid
        run.outcome = RunOutcome.SUCCESS
        if skipped:
            run.error = (
                f"{skipped} decided claims left unremitted: their lines and adjustments do not balance"
            )
    except Exception as exc:
        logger.exception("835 cycle %s failed", run.pk)
        run.outcome = RunOutcome.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:4000]
        raise
    finally:
        run.finished_at = timezone.now()
        run.save()
    return run


def _remit_group(
    run: RemittanceRun, plan: HealthPlan, provider: Provider, *, index: int, method: str, out_dir: Path | None
) -> tuple[Remittance | None, int]:
    claims = _take(plan.pk, provider.pk)
    if not claims:
        return None, 0
    payments, ids, unbalanced = _payments(claims, plan)
    if not payments:
        return None, unbalanced
    amount = sum((p.paid for p in payments), Decimal("0"))
    trace = f"{run.pk:06d}{plan.pk:04d}{provider.pk:08d}"
    remittance = m.Remittance(
        payer=_payer(plan),
        payee=_payee(provider),
        payment=m.RemitPayment(amount, method if amount else "NON", run.payment_date),
        trace_number=trace,
        production_date=run.payment_date,
        claims=tuple(payments),
    )
    problems = format_problems(remittance)
    if problems:
        raise ValueError(f"835 for payee NPI {provider.npi}: " + "; ".join(problems[:5]))
    text = write_835(
        remittance,
        interchange_control_number=(run.pk * 10_000 + index) % 1_000_000_000,
        sender_id=plan.payer_id[:15],
        receiver_id=provider.npi,
        created=timezone.now(),
    )
    data = text.encode("ascii")
    row = Remittance.objects.create(
        run=run,
        payee=provider,
        trace_number=trace,
        file_name=f"{run.payment_date:%Y%m%d}_{plan.payer_id}_{provider.npi}_{trace}.835"[:120],
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        claims=len(ids),
        paid=amount,
        content=text,
    )
    marked = Claim.objects.filter(id__in=ids, remittance__isnull=True).update(remittance=row)
    if marked != len(ids):
        raise RuntimeError(f"835 {trace}: {len(ids) - marked} claims were remitted meanwhile")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / row.file_name).write_bytes(data)
    return row, unbalanced
