"""The claim lifecycle: its status vocabulary, who may move a claim, and which moves are allowed.

Pure rules, no database: ``claims.services.lifecycle`` is the one writer that applies them (compare-and-set on
the status, a ``ClaimStatusHistory`` row per change), and ingest, validation, the synthetic-data generator and
the tests all go through it. Analytics builds its SQL from these enums rather than from string literals.

Statuses follow the payer's processing of a professional claim (005010X222A1 in, 005010X221A1 835 out):
received → validated (the 999 accepted the transaction set and the code checks passed) → adjudicated
(approved / denied, or pended for an examiner). A later claim can end an earlier one: a replacement
(CLM05-3 = 7) makes it "replaced", a void (8) "voided" (NUBC claim frequency code list).
"""

from __future__ import annotations

import functools

from django.db import models


class ClaimStatus(models.TextChoices):
    """Claim lifecycle: received -> validated -> adjudicated (approved / denied / pended)."""

    RECEIVED = "received", "Received"
    VALIDATED = "validated", "Validated"
    PENDED = "pended", "Pended"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    # Terminal states set by a later claim: a replacement (frequency 7) or a void (frequency 8).
    REPLACED = "replaced", "Replaced"
    VOIDED = "voided", "Voided"


# The work queue: claims staff still have to act on these.
OPEN_STATUSES = (ClaimStatus.RECEIVED, ClaimStatus.VALIDATED, ClaimStatus.PENDED)
# A claim in these states can no longer be replaced or voided.
FINAL_STATUSES = frozenset({ClaimStatus.REPLACED, ClaimStatus.VOIDED})

# The "from" status of a claim's first history row: it did not exist before.
NEW = ""


class StatusSource(models.TextChoices):
    """What moved a claim (``ClaimStatusHistory.source``) when it was not a person at a screen."""

    INGEST = "ingest", "Ingest (837P load)"
    VALIDATION = "validation", "Validation (pyx12, 999)"
    ADJUDICATION = "adjudication", "Adjudication"
    EXAMINER = "examiner", "Claims examiner"
    # A supervisor overturning a decision (approved <-> denied), always with a reason (claims.services.examiner).
    SUPERVISOR = "supervisor", "Claims supervisor (override)"


_ENDED_BY_LATER_CLAIM = {ClaimStatus.REPLACED, ClaimStatus.VOIDED}
_DECIDED = {ClaimStatus.APPROVED, ClaimStatus.DENIED, ClaimStatus.PENDED}

# from status -> the statuses it may move to. "received" may be decided at once (a claim of a file the 999
# rejected is pended; a replacement or void may end an original not yet validated); a pended claim may be
# pended again (a new reason) or sent back to validated for re-adjudication. A decided claim may be turned
# over (approved <-> denied) only by a supervisor's override with a reason (StatusSource.SUPERVISOR): an
# appeal, or an examiner's mistake caught before the 835 went out; nothing else ever moves a decided claim
# except a later replacement or void.
TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({ClaimStatus.RECEIVED}),
    ClaimStatus.RECEIVED: frozenset({ClaimStatus.VALIDATED, *_DECIDED, *_ENDED_BY_LATER_CLAIM}),
    ClaimStatus.VALIDATED: frozenset({*_DECIDED, *_ENDED_BY_LATER_CLAIM}),
    ClaimStatus.PENDED: frozenset({ClaimStatus.VALIDATED, *_DECIDED, *_ENDED_BY_LATER_CLAIM}),
    ClaimStatus.APPROVED: frozenset({ClaimStatus.DENIED, *_ENDED_BY_LATER_CLAIM}),
    ClaimStatus.DENIED: frozenset({ClaimStatus.APPROVED, *_ENDED_BY_LATER_CLAIM}),
    ClaimStatus.REPLACED: frozenset(),
    ClaimStatus.VOIDED: frozenset(),
}


class IllegalTransition(ValueError):
    """A status move the lifecycle does not allow (a programming error, never bad input)."""

    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(f"claim status cannot move from {from_status or '(new)'!r} to {to_status!r}")
        self.from_status = from_status
        self.to_status = to_status


def check_transition(from_status: str, to_status: str) -> None:
    """Raise ``IllegalTransition`` unless ``TRANSITIONS`` allows ``from_status`` -> ``to_status``."""
    if to_status not in TRANSITIONS.get(from_status, frozenset()):
        raise IllegalTransition(from_status, to_status)


@functools.cache
def initial_transitions(status: str) -> tuple[tuple[str, str], ...]:
    """The moves a claim made when it was loaded straight into ``status``: [("", received), (received, status)].

    ``[("", "received")]`` for a plain new claim. Raises ``IllegalTransition`` for a status ingest cannot set.
    """
    moves = [(NEW, ClaimStatus.RECEIVED.value)]
    if status != ClaimStatus.RECEIVED:
        moves.append((ClaimStatus.RECEIVED.value, status))
    for old, new in moves:
        check_transition(old, new)
    # Cached (ingest asks once per claim loaded): a tuple, so no caller can change the answer for the next.
    return tuple(moves)
