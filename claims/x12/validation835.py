"""Implementation-guide validation of 835 files with pyx12: ``validate_835(path) -> ValidationReport``.

Checks one file against the ASC X12 005010X221A1 implementation guide (Health Care Claim Payment/Advice)
with pyx12 4.0's map, the way ``claims.x12.validation`` checks an 837P: pyx12 gets a normalised temporary
copy, is called defensively (any exception is an outcome "rejected", ``crashed=True``, never a crash of the
caller), and its logging is silenced (it logs element values). The result is the same ``ValidationReport``
(outcome "accepted" / "accepted_with_errors" / "rejected", errors with position, segment, element, code and
message).

What differs from the 837P, measured on pyx12 4.0 with the shared samples (../shared/data/x12/835):

* **The outcome comes from pyx12's error tree, not its 999.** pyx12's 999 writer needs ST03 to write AK2-03,
  and the 835 IG marks ST03 "Not Used": for every conformant 835 it raises inside (logged as "Failed to
  create 999 response", not raised) and leaves a 999 cut after AK1. So the outcome is read from the error
  handler's tree (its JSON form: interchange, group and transaction errors and ack codes, segment and
  element errors) and from ``x12n_document``'s own return value; ``ack_999`` is pyx12's 999 only when it
  wrote a complete one (ending with IEA), else "".
* **ST03.** A file that sends ST03 anyway makes pyx12 report it ("marked as Not Used") only in its log: the
  error sits on the ST node's elements, which neither its JSON tree nor the transaction's ack code carry, and
  the 999 writer then fails with a KeyError. The copy therefore drops ST03 and the report carries an
  ``st03_not_used`` error (the file is at best "accepted_with_errors").
* **Invalid without details.** When pyx12 returns "invalid" but its tree holds no error (an error in another
  envelope element, for the same reason), the report carries a ``pyx12_invalid`` error and is "rejected".
* Files whose groups are not GS01=HP / GS08=005010X221A1 / ST01=835 are rejected (``not_835``) before pyx12
  is called: pyx12 would validate an 837P against its own map and call it valid.

Normalisation, positions and the remaining codes are as in ``claims.x12.validation``: the BOM is dropped,
each segment re-written on its own line with surrounding whitespace removed, empty segments dropped and
reported (``empty_segment``), text after the last terminator reported (``unterminated_segment``), non-ASCII
rejected (``non_ascii``), a broken ISA rejected (``not_x12``). pyx12 findings carry the 999 element they
would be reported in: ``IK304:<code>`` segment, ``IK403:<code>`` element, ``IK502:<code>`` transaction,
``AK905:<code>`` group, ``TA105:<code>`` interchange (code lists of 005010X231A1). Positions are 1-based
segment numbers, ISA = 1, empty segments not counted.

The normalise-and-flatten steps are ``claims.x12.validation``'s, shared with the 837P validator; this module
adds the 835's GS/ST check (``_check_835``) and its own outcome rule.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from claims.x12.validation import (
    ACCEPTED,
    ACCEPTED_WITH_ERRORS,
    REJECTED,
    ValidationReport,
    collect_pyx12_errors,
    prepare_for_pyx12,
    run_pyx12,
)
from claims.x12.validation import validation_error as error

logger = logging.getLogger(__name__)

# pyx12 logs every validation error with element values (patient names, member ids: PHI); the report carries
# the same information in a controlled place.
logging.getLogger("pyx12").setLevel(logging.CRITICAL)

TARGET_VERSION = "005010X221A1"
__all__ = ["ACCEPTED", "ACCEPTED_WITH_ERRORS", "REJECTED", "ValidationReport", "validate_835"]


def _check_835(
    seg_id: str, elements: list[str], position: int, notes: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """GS/ST of an 835: HP/005010X221A1 and ST01 835, else the ``not_835`` error. ST03 is Not Used in this IG:
    dropped from the copy with a note (pyx12 would report it only in its log, module docstring)."""
    if seg_id == "GS":
        version = elements[8] if len(elements) > 8 else ""
        if elements[1:2] != ["HP"] or version != TARGET_VERSION:
            return error(
                position,
                "GS",
                "GS08" if elements[1:2] == ["HP"] else "GS01",
                "not_835",
                f"functional group is {elements[1] if len(elements) > 1 else '?'}/{version or '?'}; "
                f"expected HP/{TARGET_VERSION} (835)",
            )
        return None
    if elements[1:2] != ["835"]:
        return error(position, "ST", "ST01", "not_835", f"transaction set {elements[1:2]} is not an 835")
    if len(elements) > 3:
        notes.append(
            error(
                position,
                "ST",
                "ST03",
                "st03_not_used",
                "ST03 is sent but the 005010X221A1 IG marks it Not Used",
            )
        )
        del elements[3:]
    return None


def _complete_999(ack: str) -> str:
    """``ack`` when pyx12 finished writing it (its last segment is IEA), else "" (module docstring)."""
    segments = [s.strip() for s in ack.split("~") if s.strip()]
    return ack if segments and segments[-1].startswith("IEA") else ""


def validate_835(path: Path) -> ValidationReport:
    """Validate the 835 file at ``path`` against 005010X221A1 with pyx12.

    Returns a ``ValidationReport``: ``outcome`` "accepted" (pyx12 accepted every group and transaction set
    and nothing was found), "accepted_with_errors" (pyx12 accepted, but normalising found something, e.g.
    ``st03_not_used`` or ``empty_segment``) or "rejected"; ``errors`` as dicts ``{"position", "segment",
    "element", "code", "message"}`` sorted by position (codes: module docstring). Never raises for file
    content; raises ``OSError`` only when ``path`` cannot be read.
    """
    raw = Path(path).read_bytes()
    with tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="ascii", newline="") as copy:
        prepared = prepare_for_pyx12(
            raw,
            copy,
            check=_check_835,
            no_group=error(None, "GS", "", "not_835", "no functional group (GS): truncated, or not an 835"),
        )
        del raw
        if prepared.fatal:
            return ValidationReport(outcome=REJECTED, errors=prepared.notes)
        copy.seek(0)
        try:
            valid, ack, doc = run_pyx12(copy)
        except Exception as exc:  # noqa: BLE001 - any pyx12 failure is a validation outcome, never a crash
            logger.info("pyx12 raised %s on %s", type(exc).__name__, path)
            crash = error(None, "", "", "crash", f"pyx12 raised {type(exc).__name__}: {exc}")
            return ValidationReport(outcome=REJECTED, errors=[*prepared.notes, crash], crashed=True)

    found, acks_ok = collect_pyx12_errors(doc, prepared.envelope_ids)
    errors = [*prepared.notes, *found]
    if not doc.get("interchanges"):
        # pyx12 returns without a tree when it does not recognise the envelope (it logs, it does not raise).
        errors.append(error(1, "ISA", "", "not_x12", "pyx12 could not read the interchange envelope"))
        acks_ok = False
    elif not valid and not found:
        errors.append(
            error(
                None,
                "",
                "",
                "pyx12_invalid",
                "pyx12 found the file invalid but its error tree holds no detail "
                "(an error in an ISA, GS or ST element, which the tree does not carry)",
            )
        )
        acks_ok = False
    errors.sort(key=lambda e: e["position"] if e["position"] is not None else 0)
    if not acks_ok or found:
        outcome = REJECTED
    elif errors:
        outcome = ACCEPTED_WITH_ERRORS
    else:
        outcome = ACCEPTED
    return ValidationReport(outcome=outcome, errors=errors, ack_999=_complete_999(ack))
