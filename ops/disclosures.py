"""Accounting of disclosures (45 CFR 164.528): who saw or changed one member's PHI between two times, from the
audit trail (``ops_auditevent``).

A member's PHI is reached through the member's page (``members.member``), the PII page and its reveals
(``members.memberpii``, keyed by the member's id) and the pages of the member's claims (``claims.claim``, keyed by
claim id); the report takes the events of all three, allowed and denied, oldest first. Each lookup reads
``audit_object_idx`` (object type, object id, newest first) and the claims through ``claim_member_history_idx``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connections

from claims.models import Claim
from members.models import Member
from ops.platform.models import AuditEvent

MEMBER_TYPES = ("members.member", "members.memberpii")
CLAIM_TYPE = "claims.claim"


class UnknownMember(LookupError):
    """No member with that id or member number."""


@dataclass(frozen=True)
class Disclosure:
    occurred_at: dt.datetime
    username: str
    action: str
    outcome: str
    object_type: str
    object_id: str
    ip_address: str | None
    request_id: str
    reason: str

    def as_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["occurred_at"] = self.occurred_at.isoformat()
        return row


def member_id_for(value: str) -> int:
    """A member's id from its id or its member number (exact). Raises ``UnknownMember``."""
    text = value.strip()
    found = Member.objects.filter(member_number=text).values_list("id", flat=True).first()
    if found is None and text.isdigit():
        found = Member.objects.filter(id=int(text)).values_list("id", flat=True).first()
    if found is None:
        raise UnknownMember("no member with that id or member number")
    return int(found)


def member_disclosures(
    member_id: int, *, since: dt.datetime, until: dt.datetime, using: str = "default"
) -> list[Disclosure]:
    """The audit events on member ``member_id``'s member page, PII (views, changes, reveals) and claims with
    ``since <= occurred_at < until``, oldest first."""
    claim_ids = [
        str(cid)
        for cid in Claim.objects.using(using).filter(member_id=member_id).values_list("id", flat=True)
    ]
    table = AuditEvent._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"""
            SELECT occurred_at, username, action, outcome, object_type, object_id, host(ip_address), request_id,
                   reason
            FROM {table}
            WHERE occurred_at >= %s AND occurred_at < %s
              AND ((object_type = ANY(%s) AND object_id = %s) OR (object_type = %s AND object_id = ANY(%s)))
            ORDER BY occurred_at, id
            """,
            [since, until, list(MEMBER_TYPES), str(member_id), CLAIM_TYPE, claim_ids],
        )
        return [Disclosure(*row) for row in cursor.fetchall()]
