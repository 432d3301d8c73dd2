"""Exact duplicate, replacement and void: which claims of a file relate to which claims already on file.

Pure: no database. ``claims.services.ingest`` reads the claims on file that share a (billing provider, claim
number) pair with the file (``claims_on_file``, whose SQL orders lines as ``fingerprint`` does), calls
``decide``, and stores the links it returns. Ingest only links: every claim loads as received, and the
adjudication engine decides what a link means (``claims.adjudication.engine``: a duplicate denied CARC 18, the
original of a replacement or void ended). The rules:

* **Exact duplicate**: same billing provider, member, claim number (CLM01), service dates, total charge, and
  service lines (procedure code and charge, in LX order) as a claim already on file or earlier in the file,
  that is not itself a duplicate, and the new claim is an original (CLM05-3 = 1). It is linked to the original
  ("duplicate_of"); the engine denies it with CARC 18 ("Exact duplicate claim/service", X12 CARC list).
* **Replacement** (CLM05-3 = 7) and **void** (8): the latest claim (on file, then earlier in the file) with the
  same billing provider, claim number and member that is not a void is the original, unless it is already
  replaced or voided (or a claim earlier in the file already ends it). The new claim links to it ("replaces" /
  "voids"); the engine ends the original when it decides the new claim. With no such original the claim loads
  unlinked and a warning names CLM05-3 (005010X222A1 2300 CLM05-3; NUBC claim frequency code list); the
  engine then pends it for an examiner.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from claims.lifecycle import FINAL_STATUSES, ClaimStatus
from claims.models import ClaimRelation, FrequencyCode
from claims.x12.errors import Finding

# ((procedure code, line charge $), ...) in LX order: the service lines' part of a fingerprint.
LinePart = tuple[tuple[str, Decimal], ...]
# (billing provider id, member id, claim number, service date from, service date to, total charge $, LinePart)
Fingerprint = tuple[int, int, str, dt.date, dt.date, Decimal, LinePart]


def fingerprint_lines(lines: Iterable[tuple[int, str, Decimal]]) -> LinePart:
    """The lines' part of a fingerprint from (LX01 line number, code, charge): in line-number order, ties in the
    order given (file order, which is id order once loaded): the same order as ``claims_on_file``'s
    ``ORDER BY line_number, id``, so a claim read back from the tables and the same claim read from a file have
    equal fingerprints. Ingest's reader computes it per claim, beside the parser."""
    ordered = sorted(lines, key=lambda line: line[0])
    return tuple((code, charge) for _, code, charge in ordered)


def fingerprint(
    *,
    billing_provider_id: int,
    member_id: int,
    claim_number: str,
    service_date_from: dt.date,
    service_date_to: dt.date,
    total_charge: Decimal,
    lines: LinePart,
) -> Fingerprint:
    """The identity of a claim for the exact-duplicate rule; ``lines`` from ``fingerprint_lines``."""
    return (
        billing_provider_id,
        member_id,
        claim_number,
        service_date_from,
        service_date_to,
        total_charge,
        lines,
    )


@dataclass
class OnFile:
    """A claim already stored (or decided earlier in the same file)."""

    id: int
    service_date_from: dt.date
    status: str
    frequency_code: str
    relation: str
    fingerprint: Fingerprint


@dataclass(frozen=True)
class Incoming:
    """A claim of the file being loaded, with its id already allocated; ``position`` is its CLM segment's."""

    id: int
    service_date_from: dt.date
    frequency_code: str
    position: int
    fingerprint: Fingerprint


@dataclass
class Decision:
    """The link of a claim of the file: the claim it relates to (id, service date from) and how."""

    related: tuple[int, dt.date] | None = None
    relation: str = ""


@dataclass
class Decisions:
    claims: list[Decision]  # one per incoming claim, in the same order
    warnings: list[Finding] = field(default_factory=list)


def note_ended(*, replaced: bool, by_claim_id: int) -> str:
    """History note of an original ended by a replacement (``replaced``) or a void, claim ``by_claim_id``."""
    return f"{'replaced' if replaced else 'voided'} by claim {by_claim_id}"


def _series_key(fp: Fingerprint) -> tuple[int, str, int]:
    # Replacements and voids look for the latest claim with this billing provider, claim number and member.
    return (fp[0], fp[2], fp[1])


def decide(incoming: Sequence[Incoming], on_file: Sequence[OnFile]) -> Decisions:
    """Decide duplicates, replacements and voids for ``incoming`` (file order) against ``on_file``.

    ``on_file`` must be ordered oldest first (received time, then id): the latest of a series wins.
    Returns a ``Decision`` (the link) per incoming claim and a warning per replacement or void that found no
    original. An original that a replacement or void of the file names counts as ended for the rest of the
    file, so a second void of it warns instead of linking.
    """
    originals: dict[Fingerprint, tuple[int, dt.date]] = {}
    latest: dict[tuple[int, str, int], OnFile] = {}
    for f in on_file:
        if f.relation != ClaimRelation.DUPLICATE_OF:
            originals.setdefault(f.fingerprint, (f.id, f.service_date_from))
            if f.frequency_code != FrequencyCode.VOID:
                latest[_series_key(f.fingerprint)] = f
    decisions = [Decision() for _ in incoming]
    ended: set[int] = set()
    warnings: list[Finding] = []
    for claim, decision in zip(incoming, decisions, strict=True):
        fp = claim.fingerprint
        ends_another = claim.frequency_code in (FrequencyCode.REPLACEMENT, FrequencyCode.VOID)
        if fp in originals and not ends_another:
            decision.related = originals[fp]
            decision.relation = ClaimRelation.DUPLICATE_OF
            continue
        if ends_another:
            _link_original(claim, decision, latest.get(_series_key(fp)), ended, warnings)
        originals.setdefault(fp, (claim.id, claim.service_date_from))
        if claim.frequency_code != FrequencyCode.VOID:
            latest[_series_key(fp)] = OnFile(
                claim.id,
                claim.service_date_from,
                ClaimStatus.RECEIVED,
                claim.frequency_code,
                decision.relation,
                fp,
            )
    return Decisions(decisions, warnings)


def _link_original(
    claim: Incoming, decision: Decision, target: OnFile | None, ended: set[int], warnings: list[Finding]
) -> None:
    """A replacement or void: link it to its original (in the file, or on file), or warn that there is none."""
    replace = claim.frequency_code == FrequencyCode.REPLACEMENT
    if target is None or target.status in FINAL_STATUSES or target.id in ended:
        kind = "replacement" if replace else "void"
        number = claim.fingerprint[2]
        warnings.append(
            Finding(claim.position, "CLM", "CLM05-3", f"{kind} of claim {number!r}: no original on file")
        )
        return
    decision.related = (target.id, target.service_date_from)
    decision.relation = ClaimRelation.REPLACES if replace else ClaimRelation.VOIDS
    ended.add(target.id)
