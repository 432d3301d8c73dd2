"""What claims staff do from the work queue: assign, approve, deny, pend, and a supervisor's override.

Every status change goes through the claim-lifecycle writer (``claims.services.lifecycle.claims_status_change``)
with the status the person SAW on the page as the compare-and-set ``from_status`` (``SeenClaim``): a claim that
moved since the page was opened (another examiner decided it, a re-adjudication ran) raises ``StatusConflict``
and nothing changes, for any claim of the call. The admin (claims.admin, the work queue) carries that status
in a hidden field of its forms.

Money is ``Decimal`` dollars. A denial writes one CAS entry per line, group CO with the examiner's CARC (and
RARC) for the whole line charge, so per line and per claim charge = paid + adjustments holds as the 835 needs
it (005010X221A1 2110 CAS; CARC/RARC lists at x12.org/codes). Approvals are priced by the engine, never typed
in: an examiner's approval runs the engine with the review pends skipped (``decide(reviewed=True)``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from claims.adjudication.edits import Action, Edit, GroupCode, PendReason
from claims.adjudication.engine import ClaimDecision, LineFacts, denied_in_full
from claims.adjudication.pricing import ZERO
from claims.carc import Carc
from claims.lifecycle import ClaimStatus, StatusSource
from claims.models import Claim, ClaimAdjustment, ClaimLine
from claims.services.adjudication import (
    AdjudicationResult,
    Redecision,
    RedecisionRefused,
    adjustment_rows,
    adjustments_copy,
    claims_adjudicate,
    claims_redecide,
)
from claims.services.lifecycle import (
    KEYS_FILTER,
    StatusChange,
    StatusConflict,
    claims_status_change,
    keys_params,
)
from members.models import MemberAccumulator
from ops.platform.binding import bound_cursor

CLAIM_TABLE = Claim._meta.db_table
LINE_TABLE = ClaimLine._meta.db_table
ACCUMULATOR_TABLE = MemberAccumulator._meta.db_table

# CARC: one to three digits, or a letter and one or two digits (A1, B7, P1); RARC: M, MA or N and up to three
# digits (M76, MA130, N257). Shapes of the X12 code lists (x12.org/codes).
_CARC = re.compile(r"\d{1,3}|[A-Z]\d{1,2}")
_RARC = re.compile(r"(?:MA|M|N)\d{1,3}")


class ActionRefused(ValueError):
    """The action does not apply (wrong status for it, a denial with no CARC, an override of a remitted claim,
    an override the engine will not price). Nothing was changed. Messages name claims by id only."""


@dataclass(frozen=True)
class SeenClaim:
    """A claim as the person saw it on the page: id, partition key and the status shown (the compare-and-set)."""

    id: int
    service_date_from: dt.date
    status: str


def _require(claims: Sequence[SeenClaim], allowed: Iterable[str], action: str) -> None:
    """Raise ``ActionRefused`` unless every claim was seen in one of the ``allowed`` statuses (and there is one)."""
    if not claims:
        raise ActionRefused(f"no claims to {action}")
    allowed = set(allowed)
    wrong = sorted(c.id for c in claims if c.status not in allowed)
    if wrong:
        raise ActionRefused(f"only {' or '.join(sorted(allowed))} claims can be {action}: {wrong[:10]}")


def _clean_carc(carc: str, rarc: str) -> tuple[str, str]:
    carc, rarc = carc.strip().upper(), rarc.strip().upper()
    if not carc:
        raise ActionRefused("a denial needs a CARC")
    if not _CARC.fullmatch(carc):
        raise ActionRefused(f"{carc!r} is not a CARC")
    if rarc and not _RARC.fullmatch(rarc):
        raise ActionRefused(f"{rarc!r} is not a RARC")
    return carc, rarc


def claims_assign(*, claims: Sequence[SeenClaim], user: Any) -> int:
    """Make ``user`` the assignee of the pended ``claims`` ("assign to me"); no status change.

    A claim already assigned is taken over (a supervisor hands work around the same way). Returns how many were
    assigned. Raises ``StatusConflict`` (nothing assigned) when a claim is no longer pended.
    The claims are found by id and month (``KEYS_FILTER``), so the UPDATE is planned over their months'
    partitions only, not every month's (PostgreSQL docs, "Partition Pruning").
    """
    wanted = {c.id: c for c in claims}
    if not wanted:
        return 0
    with transaction.atomic(), bound_cursor() as cursor:
        cursor.execute(
            f"UPDATE {CLAIM_TABLE} AS c SET assignee_id = %b::integer "
            f"WHERE {KEYS_FILTER.format(alias='c', id='id')} AND c.status = %b::text RETURNING c.id",
            [
                user.pk,
                *keys_params((c.id, c.service_date_from) for c in wanted.values()),
                ClaimStatus.PENDED.value,
            ],
        )
        assigned = {row[0] for row in cursor.fetchall()}
        if len(assigned) != len(wanted):
            raise StatusConflict(sorted(i for i in wanted if i not in assigned))
    return len(assigned)


def claims_approve(*, claims: Sequence[SeenClaim], actor: Any, note: str = "") -> AdjudicationResult:
    """Approve pended claims: each moves pended -> validated (source examiner, the actor), then the engine
    prices it with the review pends skipped (``decide(reviewed=True)``), all in one transaction.

    The engine still decides: a claim with no enrollment on file is pended again, a line outside coverage is
    denied, a claim whose every line is denied is denied; the result's ``decided`` counts say so.
    Raises ``ActionRefused`` for a claim not seen as pended, ``StatusConflict`` (nothing changes) when one moved.
    """
    _require(claims, {ClaimStatus.PENDED}, "approved")
    with transaction.atomic():
        claims_status_change(
            changes=[
                StatusChange(c.id, c.service_date_from, c.status, ClaimStatus.VALIDATED, note or "approved")
                for c in claims
            ],
            source=StatusSource.EXAMINER,
            actor=actor,
        )
        # In this transaction, so no other run can take the claims between the two steps and price them with
        # the review pends still on (which would pend them straight back).
        result = claims_adjudicate(
            claim_keys=[(c.id, c.service_date_from) for c in claims],
            reviewed=True,
            trigger="examiner: approve",
        )
    return result


def claims_deny(*, claims: Sequence[SeenClaim], actor: Any, carc: str, rarc: str = "", note: str = "") -> int:
    """Deny pended claims with CARC ``carc`` (and optional RARC ``rarc``): pended -> denied (source examiner,
    the actor), the CARC on the claim, ``total_paid`` 0; every line ``decision`` denied, allowed and paid 0, and
    one CAS entry per line (group CO, the CARC, the RARC, amount = the line charge). Returns how many.

    Raises ``ActionRefused`` without a CARC, for a malformed CARC or RARC, or for a claim not seen as pended;
    ``StatusConflict`` (nothing changes) when a claim moved since it was seen.
    """
    carc, rarc = _clean_carc(carc, rarc)
    _require(claims, {ClaimStatus.PENDED}, "denied")
    now = timezone.now()
    with transaction.atomic():
        claims_status_change(
            changes=[
                StatusChange(
                    c.id,
                    c.service_date_from,
                    c.status,
                    ClaimStatus.DENIED,
                    note=note or f"CARC {carc}",
                    denial_reason_code=carc,
                    total_paid=ZERO,
                )
                for c in claims
            ],
            source=StatusSource.EXAMINER,
            actor=actor,
            at=now,
        )
        _write_denial(claims, carc=carc, rarc=rarc, now=now)
    return len(claims)


def claims_pend(*, claims: Sequence[SeenClaim], actor: Any, reason: str, note: str = "") -> int:
    """Pend validated or pended claims with ``reason`` (claims.adjudication.edits.PendReason): they wait in the
    work queue (source examiner, the actor). Returns how many.

    Raises ``ActionRefused`` for an unknown reason or a claim seen in another status; ``StatusConflict``
    (nothing changes) when a claim moved since it was seen.
    """
    if reason not in PendReason.values:
        raise ActionRefused(f"{reason!r} is not a pend reason")
    _require(claims, {ClaimStatus.VALIDATED, ClaimStatus.PENDED}, "pended")
    claims_status_change(
        changes=[
            StatusChange(
                c.id,
                c.service_date_from,
                c.status,
                ClaimStatus.PENDED,
                note=note or PendReason(reason).label,
                pend_reason=reason,
            )
            for c in claims
        ],
        source=StatusSource.EXAMINER,
        actor=actor,
    )
    return len(claims)


def claims_override(
    *, claim: SeenClaim, actor: Any, to_status: str, reason: str, carc: str = "", rarc: str = ""
) -> ClaimDecision | None:
    """A supervisor turns a decision over, with a reason (source supervisor, the actor, the reason as note).

    * approved -> denied needs a CARC: the claim is denied as ``claims_deny`` denies (CO adjustments of every
      line charge, paid 0), and the deductible the approval spent (its PR-1 adjustments) goes back to the
      member's accumulator;
    * denied -> approved is priced by the engine with the review pends skipped; when the engine would still
      deny or pend it (no coverage on the date of service, timely filing...), nothing changes and
      ``ActionRefused`` says why: a payment is never typed in.

    Returns the engine's decision for an approval, None for a denial. Raises ``ActionRefused`` for any other
    move, a missing reason or CARC, or a claim already remitted in an 835 (a correction is a reversal in the
    next 835, not an override); ``StatusConflict`` when the claim is no longer in the status seen.
    """
    reason = reason.strip()
    if not reason:
        raise ActionRefused("an override needs a reason")
    if (claim.status, to_status) not in {
        (ClaimStatus.APPROVED, ClaimStatus.DENIED),
        (ClaimStatus.DENIED, ClaimStatus.APPROVED),
    }:
        raise ActionRefused(
            f"an override turns approved into denied or back, not {claim.status} -> {to_status}"
        )
    if to_status == ClaimStatus.DENIED:
        carc, rarc = _clean_carc(carc, rarc)
    with transaction.atomic():
        member_id, plan_id = _lock_seen(claim)
        if to_status == ClaimStatus.APPROVED:
            redecision = Redecision(
                claim.status, ClaimStatus.APPROVED, StatusSource.SUPERVISOR, actor, f"override: {reason}"
            )
            try:
                (decision,) = claims_redecide(
                    claim_keys=[(claim.id, claim.service_date_from)], redecision=redecision
                )
            except RedecisionRefused as exc:
                raise ActionRefused(str(exc)) from exc
            return decision
        now = timezone.now()
        _return_deductible(claim, member_id=member_id, plan_id=plan_id)
        claims_status_change(
            changes=[
                StatusChange(
                    claim.id,
                    claim.service_date_from,
                    claim.status,
                    ClaimStatus.DENIED,
                    note=f"override: {reason}",
                    denial_reason_code=carc,
                    total_paid=ZERO,
                )
            ],
            source=StatusSource.SUPERVISOR,
            actor=actor,
            at=now,
        )
        _write_denial([claim], carc=carc, rarc=rarc, now=now)
    return None


def _lock_seen(claim: SeenClaim) -> tuple[int, int]:
    """Lock the claim row (the 835 run takes claims ``FOR UPDATE SKIP LOCKED``, so it cannot remit it meanwhile)
    and check it is still as seen and not remitted. Returns (member id, health plan id)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT status, remittance_id, member_id, health_plan_id FROM {CLAIM_TABLE} "
            f"WHERE id = %s AND service_date_from = %s FOR UPDATE",
            [claim.id, claim.service_date_from],
        )
        row = cursor.fetchone()
    if row is None or row[0] != claim.status:
        raise StatusConflict([claim.id])
    if row[1] is not None:
        raise ActionRefused(f"claim {claim.id} was already remitted in an 835: it cannot be overridden")
    return row[2], row[3]


def _return_deductible(claim: SeenClaim, *, member_id: int, plan_id: int) -> None:
    """Give back to the member's plan-year accumulator the deductible (PR-1) an approval spent, under its row
    lock (the lock the adjudication service takes, so a run deciding the member's claims waits for it)."""
    spent = ClaimAdjustment.objects.filter(
        claim_id=claim.id, group_code=GroupCode.PATIENT, carc=Carc.DEDUCTIBLE
    ).aggregate(total=Sum("amount"))["total"]
    if not spent:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ACCUMULATOR_TABLE} SET deductible_met = GREATEST(deductible_met - %s, 0) "
            f"WHERE member_id = %s AND plan_id = %s AND plan_year = %s",
            [spent, member_id, plan_id, claim.service_date_from.year],
        )


def _write_denial(claims: Sequence[SeenClaim], *, carc: str, rarc: str, now: dt.datetime) -> None:
    """Everything of a denial but the status: lines denied (allowed, paid 0), the claim's allowed, patient
    responsibility and processing time, and the CAS entries replacing any the claim had (``denied_in_full``:
    the engine's own shape, so a claim total that is not its lines' sum gets its claim-level entry too)."""
    edit = Edit("examiner_denied", Action.DENY_CLAIM, "Denied by claims staff", carc=carc, rarc=rarc)
    keys = keys_params((c.id, c.service_date_from) for c in claims)
    # Claim ids are unique, so the id list alone picks the rows; the month list prunes to their partitions
    # (claims.services.lifecycle.KEYS_FILTER).
    on_claims = KEYS_FILTER.format(alias="c", id="id")
    on_lines = KEYS_FILTER.format(alias="l", id="claim_id")
    with bound_cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, c.total_charge, c.received_at FROM {CLAIM_TABLE} c WHERE {on_claims}", keys
        )
        heads = {cid: (charge, received) for cid, charge, received in cursor.fetchall()}
        cursor.execute(
            f"SELECT l.claim_id, l.line_number, l.procedure_code, l.modifiers, l.charge, l.units, l.service_date, "
            f"l.place_of_service FROM {LINE_TABLE} l WHERE {on_lines} ORDER BY l.claim_id, l.line_number",
            keys,
        )
        lines: dict[int, list[LineFacts]] = {c.id: [] for c in claims}
        for claim_id, number, code, modifiers, charge, units, day, place in cursor.fetchall():
            lines[claim_id].append(LineFacts(number, code, tuple(modifiers), charge, units, day, place))
        cursor.execute(
            f"UPDATE {LINE_TABLE} AS l SET allowed = 0, paid = 0, decision = %s::text WHERE {on_lines}",
            [ClaimStatus.DENIED, *keys],
        )
        cursor.execute(
            f"UPDATE {CLAIM_TABLE} AS c SET allowed = 0, patient_responsibility = 0, processing_ms = v.ms "
            f"FROM unnest(%b::bigint[], %b::bigint[]) AS v(id, ms) WHERE c.id = v.id AND {on_claims}",
            [
                [c.id for c in claims],
                [int((now - heads[c.id][1]).total_seconds() * 1000) for c in claims],
                *keys,
            ],
        )
    ClaimAdjustment.objects.filter(claim_id__in=[c.id for c in claims]).delete()
    adjustments_copy(
        [
            row
            for c in claims
            for row in adjustment_rows(
                c.id, c.service_date_from, denied_in_full(lines[c.id], heads[c.id][0], edit)
            )
        ]
    )
