"""Readable labels for the reasons ``FailedClaimsMonthly`` groups by: CARCs, code-check problems, file errors.

The labels live with the codes they describe: CARC descriptions in ``claims.carc.Carc`` (from the X12 Claim
Adjustment Reason Code list, x12.org/codes/claim-adjustment-reason-codes), code-check kinds in
``claims.codes.CodeCheckKind``. This module only reads them, for the failed-claims page and the report.
"""

from __future__ import annotations

from claims.carc import Carc, carc_description
from claims.codes import CodeCheckKind

__all__ = ["CARC_DESCRIPTIONS", "carc_description", "code_check_label", "file_rejection_label"]

# {code: description} of the common CARCs; any other code is described by carc_description's fallback.
CARC_DESCRIPTIONS: dict[str, str] = {carc.value: carc.label for carc in Carc}


def code_check_label(reason: str) -> str:
    """The label of a code-check kind (a ``CodeCheckKind`` value, as analytics.sql.CODE_CHECK_KIND classifies
    each problem; a claim counts once per kind); an unknown reason is shown as it is, "" as unclassified."""
    try:
        return CodeCheckKind(reason).label
    except ValueError:
        return reason or "Unclassified code-check problem"


def file_rejection_label(segment: str) -> str:
    """A rejected file is keyed by the segment of its first error (claims.services.ingest)."""
    return f"First error at a {segment} segment" if segment else "Rejected before the first segment"
