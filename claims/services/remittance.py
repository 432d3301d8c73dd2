"""835 remittance advice out: every decided claim not yet remitted, and the reversal of every remitted claim a
later claim replaced or voided, in one 005010X221A1 835 per payer and payee.

``remittances_generate`` is the one entry point (the ``generate_835`` command, the weekly beat task). Under the
advisory lock ``claims.remittance`` (one cycle at a time), for each (health plan, billing provider) with
decided, unremitted claims, in one transaction each:

* take those claims ``FOR UPDATE SKIP LOCKED``, with their lines and CAS adjustments (``ClaimAdjustment``);
* build the 835's claim payments: CLP02 1 (processed as primary) for approved, 4 for denied; CLP05 the member's
  share; CAS per line from the adjustments (group, CARC, amount), RARCs as LQ*HE;
* take back what was paid on claims ended after they were remitted: a claim "replaced" (CLM05-3 = 7) or
  "voided" (8) by a later claim, with ``remittance`` set and ``reversal_remittance`` not, is written again as
  it was remitted (same CLP01, CLP03-CLP05, lines, CAS from its ``ClaimAdjustment`` rows, same CLP07 = the
  claim id) with ``reversal=True``: CLP02 = 22 and every amount negated (IG 1.10.2.8, reversals and
  corrections), in the 835 of the original's own plan and billing provider, before the cycle's claim payments
  (a replacement decided in the same cycle follows its reversal in the same file). A claim replaced or voided
  before it was remitted was never paid and needs no reversal;
* when the reversals take back more than the cycle pays (a void alone, say), the negative net is carried
  forward with a provider-level adjustment PLB "FB" (forwarding balance, PLB04 negative: IG PLB, BPR02 must be
  zero or more), so BPR02 = 0 (BPR04 NON) and BPR02 = sum CLP04 - sum PLB04 still holds (PLB03-2 is the
  file's TRN02). The balance is kept on the file (``Remittance.forward_balance``); a later cycle of the same
  payer and payee with a positive net withholds as much of it as the net allows, with a positive PLB "FB"
  (PLB03-2 the TRN02 of the file that carried it), until the balance is recovered;
* write the file with ``claims.x12.writer835`` (which refuses anything that does not balance: per line
  SVC02 - SVC03 = CAS, per claim CLP03 - CLP04 = CAS, BPR02 = sum CLP04 - PLB), store it as a ``Remittance``
  (text, sha256, trace number TRN02) and mark the claims remitted with a compare-and-set on
  ``remittance IS NULL`` (reversals: ``reversal_remittance`` set, compare-and-set on it being null): a claim
  is remitted once and reversed at most once, a second run finds nothing to do.

A claim whose lines and adjustments do not balance (a claim decided before its CAS entries were recorded, or
changed by hand in the database) is left unremitted (or its reversal unsent) and counted in the run's
``error``; nothing is guessed.
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
from django.db.models import Sum
from django.utils import timezone

from claims.lifecycle import ClaimStatus
from claims.models import Claim, ClaimAdjustment, ClaimLine, ClaimStatusHistory, Remittance, RemittanceRun
from claims.services.lifecycle import (
    KEYS_FILTER,
    STATE_UNREMITTED,
    STATE_UNREVERSED,
    keys_params,
    month_counts_remitted,
    month_days,
    months_holding,
)
from claims.x12 import model835 as m
from claims.x12.writer835 import balance_problems, format_problems, write_835
from members.models import HealthPlan, Member, PlanType
from ops.platform import locks
from ops.platform.binding import bound_cursor
from ops.platform.models import RunOutcome
from providers.models import Provider

logger = logging.getLogger(__name__)

LOCK = "claims.remittance"
CLAIM_TABLE = Claim._meta.db_table
LINE_TABLE = ClaimLine._meta.db_table
# CLP02 (005010X221A1 2100 CLP02): 1 processed as primary, 4 denied.
_CLAIM_STATUS: dict[str, str] = {ClaimStatus.APPROVED.value: "1", ClaimStatus.DENIED.value: "4"}
# A remitted claim in one of these states was ended by a later claim (replacement, void): its payment is
# taken back with a CLP02 = 22 reversal.
_ENDED = [ClaimStatus.REPLACED.value, ClaimStatus.VOIDED.value]
# PLB03-1 "FB" (forwarding balance): a payee's negative net carried forward so that BPR02 is zero.
FORWARD_BALANCE = "FB"
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


_COLUMNS = (
    "id, service_date_from, claim_number, status, total_charge, total_paid, patient_responsibility, "
    "payer_claim_control_number, place_of_service, frequency_code, member_id"
)


def _take(plan_id: int, provider_id: int, days: list[dt.date] | None = None) -> list[_Claim]:
    """The decided, unremitted claims of one payer and payee served on ``days`` (every day of the months holding
    unremitted claims: ``_cycle_days``; read now when None), locked (``SKIP LOCKED``: another cycle's)."""
    if days is None:
        days = _cycle_days().unremitted
    if not days:
        # No month holds one: nothing to read. (An empty list on the partition key does not prune: PostgreSQL
        # would plan and lock every partition before finding the condition false.)
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_COLUMNS} FROM {CLAIM_TABLE} "
            f"WHERE health_plan_id = %s AND billing_provider_id = %s AND remittance_id IS NULL "
            f"AND status = ANY(%s) AND service_date_from = ANY(%s::date[]) ORDER BY id FOR UPDATE SKIP LOCKED",
            [plan_id, provider_id, list(_CLAIM_STATUS), days],
        )
        return [_Claim(*row) for row in cursor.fetchall()]


def _take_reversals(plan_id: int, provider_id: int, days: list[dt.date] | None = None) -> list[_Claim]:
    """The remitted claims of one payer and payee that a later claim replaced or voided and whose payment was
    not taken back yet (``reversal_remittance`` null), served on ``days`` (as ``_take``), locked as ``_take``
    does."""
    if days is None:
        days = _cycle_days().unreversed
    if not days:  # as in _take
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_COLUMNS} FROM {CLAIM_TABLE} "
            f"WHERE health_plan_id = %s AND billing_provider_id = %s AND remittance_id IS NOT NULL "
            f"AND reversal_remittance_id IS NULL AND status = ANY(%s) AND service_date_from = ANY(%s::date[]) "
            f"ORDER BY id FOR UPDATE SKIP LOCKED",
            [plan_id, provider_id, _ENDED, days],
        )
        return [_Claim(*row) for row in cursor.fetchall()]


@dataclass(frozen=True)
class _CycleDays:
    """Every day of the months holding claims to remit / reversals to send when the cycle started
    (``claims.services.lifecycle.months_holding``). Each statement of the cycle on the claims carries them as a
    literal list on the partition key, so PostgreSQL plans it over those months' partitions only (PostgreSQL
    docs, "Partition Pruning"); by status alone it was planned and locked over every month, four statements per
    payee (bench/results/2026-12-01-partitions-120.md, rows 49-54). Unremitted claims are recent: a few months."""

    unremitted: list[dt.date]
    unreversed: list[dt.date]


def _cycle_days() -> _CycleDays:
    return _CycleDays(
        month_days(months_holding([STATE_UNREMITTED])), month_days(months_holding([STATE_UNREVERSED]))
    )


def _remitted_status(claims: list[_Claim]) -> dict[int, str]:
    """CLP02 each ended claim was remitted with: the status the replacement or void moved it from (history).

    The written CLP02 of a reversal is 22 whatever this is; it keeps the reversal "the original payment as
    sent" (``model835.ClaimPayment``). A claim without that history row (not written by the lifecycle service)
    is taken as approved when something was paid, denied otherwise.
    """
    if not claims:
        return {}
    before = dict(
        ClaimStatusHistory.objects.filter(claim_id__in=[c.id for c in claims], to_status__in=_ENDED)
        .order_by("changed_at", "id")
        .values_list("claim_id", "from_status")
    )
    return {c.id: _CLAIM_STATUS.get(before.get(c.id, ""), "1" if c.total_paid else "4") for c in claims}


def _payments(
    claims: list[_Claim], plan: HealthPlan, *, reversed_as: dict[int, str] | None = None
) -> tuple[list[m.ClaimPayment], list[int], int]:
    """Claim payments of ``claims`` that balance, their ids, and how many did not balance (left out).

    With ``reversed_as`` (claim id -> CLP02 it was remitted with) each is the reversal of the claim's payment
    as it was remitted (``reversal=True``: 005010X221A1 CLP02 = 22, amounts negated by the writer).
    """
    keys = keys_params((c.id, c.service_date_from) for c in claims)
    lines: dict[int, list[ClaimLine]] = defaultdict(list)
    # The ids and months as literal lists (KEYS_FILTER): planned over the claims' months only, where a join to
    # unnest() pruned at run time, after every partition was planned and locked.
    for line in ClaimLine.objects.raw(
        f"SELECT l.* FROM {LINE_TABLE} l WHERE "
        f"{KEYS_FILTER.format(alias='l', id='claim_id').replace('%b', '%s')} ORDER BY l.claim_id, l.line_number",
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
            status_code=reversed_as[c.id] if reversed_as is not None else _CLAIM_STATUS[c.status],
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
            reversal=reversed_as is not None,
        )
        # The claim alone, its payment as BPR02 (a reversal's negated payment as a forward balance).
        forward = (
            (m.ProviderAdjustment("0000000000", dt.date.today(), FORWARD_BALANCE, -c.total_paid),)
            if payment.reversal
            else ()
        )
        probe = m.Remittance(
            payer=_payer(plan),
            payee=m.RemitPayee("PROBE", "0000000000", "000000000", m.RemitAddress("X", "X", "XX", "00000")),
            payment=m.RemitPayment(
                Decimal("0") if payment.reversal else c.total_paid,
                "CHK" if c.total_paid and not payment.reversal else "NON",
                dt.date.today(),
            ),
            trace_number="probe",
            production_date=dt.date.today(),
            claims=(payment,),
            provider_adjustments=forward,
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

    Each payee's file holds the reversals (CLP02 = 22) of its remitted claims since replaced or voided, then
    its newly decided claims; ``run.claims`` counts both, ``run.total_paid`` sums BPR02.

    Each file is also written to ``out_dir`` when given. Raises ``LockTimeout`` when another cycle is running,
    and ``ValueError`` (from the writer) for values an 835 cannot carry (the run is recorded as failed; the
    payee groups written before it stay written).
    """
    day = payment_date or timezone.now().date()
    run = RemittanceRun.objects.create(started_at=timezone.now(), payment_date=day)
    skipped = 0
    skipped_reversals = 0
    try:
        with transaction.atomic():
            locks.xact_lock(LOCK, timeout="1s")
        days = _cycle_days()
        decided = Claim.objects.filter(
            remittance__isnull=True, status__in=list(_CLAIM_STATUS), service_date_from__in=days.unremitted
        )
        ended = Claim.objects.filter(
            remittance__isnull=False,
            reversal_remittance__isnull=True,
            status__in=_ENDED,
            service_date_from__in=days.unreversed,
        )
        groups = sorted(
            {
                *decided.values_list("health_plan_id", "billing_provider_id").order_by().distinct(),
                *ended.values_list("health_plan_id", "billing_provider_id").order_by().distinct(),
            }
        )
        plans = HealthPlan.objects.in_bulk({p for p, _ in groups})
        providers = Provider.objects.in_bulk({b for _, b in groups})
        for index, (plan_id, provider_id) in enumerate(groups, start=1):
            with transaction.atomic():
                # One cycle at a time: a second run waits here at most briefly, then fails as "running".
                locks.xact_lock(LOCK, timeout="30s")
                written, left_out, reversals_left_out = _remit_group(
                    run,
                    plans[plan_id],
                    providers[provider_id],
                    index=index,
                    method=method,
                    out_dir=out_dir,
                    days=days,
                )
                skipped += left_out
                skipped_reversals += reversals_left_out
                if written is not None:
                    run.payees += 1
                    run.claims += written.claims
                    run.total_paid += written.paid
        run.outcome = RunOutcome.SUCCESS
        errors = []
        if skipped:
            errors.append(
                f"{skipped} decided claims left unremitted: their lines and adjustments do not balance"
            )
        if skipped_reversals:
            errors.append(
                f"{skipped_reversals} reversals of replaced or voided claims left unsent: "
                "their lines and adjustments do not balance"
            )
        run.error = "; ".join(errors)
    except Exception as exc:
        logger.exception("835 cycle %s failed", run.pk)
        run.outcome = RunOutcome.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:4000]
        raise
    finally:
        run.finished_at = timezone.now()
        run.save()
    return run


def _mark(
    ids: list[int], months: dict[int, dt.date], column: str, remittance_id: int, unmarked: str
) -> list[dt.date]:
    """Set ``column`` to ``remittance_id`` on the claims ``ids`` still ``unmarked`` (the compare-and-set: a claim
    is remitted once, reversed at most once); by id and month (``KEYS_FILTER``), so only their months' partitions
    are planned. Returns the service_date_from of each claim marked."""
    if not ids:
        return []
    with bound_cursor() as cursor:
        cursor.execute(
            f"UPDATE {CLAIM_TABLE} AS c SET {column} = %b::bigint "
            f"WHERE {KEYS_FILTER.format(alias='c', id='id')} AND {unmarked} RETURNING c.service_date_from",
            [remittance_id, *keys_params((i, months[i]) for i in ids)],
        )
        return [row[0] for row in cursor.fetchall()]


def _balance_owed(plan: HealthPlan, provider: Provider) -> tuple[Decimal, str]:
    """What ``provider`` still owes ``plan`` from forwarding balances carried in earlier 835s (dollars, >= 0),
    and the TRN02 of the latest file that carried one (the PLB03-2 reference of its recovery)."""
    files = Remittance.objects.filter(payee=provider, health_plan=plan)
    total = files.aggregate(total=Sum("forward_balance"))["total"] or Decimal("0")
    carried = (
        files.filter(forward_balance__lt=0).order_by("-id").values_list("trace_number", flat=True).first()
    )
    return -total, carried or ""


def _remit_group(
    run: RemittanceRun,
    plan: HealthPlan,
    provider: Provider,
    *,
    index: int,
    method: str,
    out_dir: Path | None,
    days: _CycleDays | None = None,
) -> tuple[Remittance | None, int, int]:
    """One payer's 835 to one payee: reversals first (CLP02 = 22), then the decided claims.

    Returns the stored ``Remittance`` (None when there was nothing to write), and how many claims and how
    many reversals were left out because they do not balance.
    """
    # Without the cycle's days (a caller of one group: the benchmark, which replaces _take with its own
    # two-argument reader), the takes read the months themselves.
    if days is None:
        ended, claims = _take_reversals(plan.pk, provider.pk), _take(plan.pk, provider.pk)
    else:
        ended = _take_reversals(plan.pk, provider.pk, days.unreversed)
        claims = _take(plan.pk, provider.pk, days.unremitted)
    if not claims and not ended:
        return None, 0, 0
    reversals, reversed_ids, unbalanced_reversals = (
        _payments(ended, plan, reversed_as=_remitted_status(ended)) if ended else ([], [], 0)
    )
    payments, ids, unbalanced = _payments(claims, plan) if claims else ([], [], 0)
    if not payments and not reversals:
        return None, unbalanced, unbalanced_reversals
    # X12 RFI 791: a reversal goes before its correction, in the same 835.
    every = (*reversals, *payments)
    net = sum((p.sign * p.paid for p in every), Decimal("0"))
    trace = f"{run.pk:06d}{plan.pk:04d}{provider.pk:08d}"
    # IG BPR02 is zero or more: a payee owing money after its reversals gets BPR02 = 0 and the negative net as
    # a PLB "FB" forwarding balance (PLB04 negative increases the payment), so BPR02 = sum CLP04 - sum PLB04.
    fiscal_year_end = dt.date(run.payment_date.year, 12, 31)
    forward: tuple[m.ProviderAdjustment, ...] = ()
    balance = Decimal("0")
    if net < 0:
        balance = net
        forward = (m.ProviderAdjustment(provider.npi, fiscal_year_end, FORWARD_BALANCE, net, trace),)
    else:
        owed, carried_in = _balance_owed(plan, provider)
        if owed > 0 and net > 0:
            balance = min(owed, net)
            forward = (
                m.ProviderAdjustment(provider.npi, fiscal_year_end, FORWARD_BALANCE, balance, carried_in),
            )
            net -= balance
    amount = max(net, Decimal("0"))
    remittance = m.Remittance(
        payer=_payer(plan),
        payee=_payee(provider),
        payment=m.RemitPayment(amount, method if amount else "NON", run.payment_date),
        trace_number=trace,
        production_date=run.payment_date,
        claims=every,
        provider_adjustments=forward,
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
        health_plan=plan,
        forward_balance=balance,
        trace_number=trace,
        file_name=f"{run.payment_date:%Y%m%d}_{plan.payer_id}_{provider.npi}_{trace}.835"[:120],
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        claims=len(ids) + len(reversed_ids),
        paid=amount,
        content=text,
    )
    months = {c.id: c.service_date_from for c in (*claims, *ended)}
    marked = _mark(ids, months, "remittance_id", row.pk, "remittance_id IS NULL")
    if len(marked) != len(ids):
        raise RuntimeError(f"835 {trace}: {len(ids) - len(marked)} claims were remitted meanwhile")
    reversed_marked = _mark(
        reversed_ids,
        months,
        "reversal_remittance_id",
        row.pk,
        "remittance_id IS NOT NULL AND reversal_remittance_id IS NULL",
    )
    if len(reversed_marked) != len(reversed_ids):
        raise RuntimeError(
            f"835 {trace}: {len(reversed_ids) - len(reversed_marked)} claims were reversed meanwhile"
        )
    month_counts_remitted(remitted=marked, reversed_=reversed_marked)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / row.file_name).write_bytes(data)
    return row, unbalanced, unbalanced_reversals
