"""Accounting of disclosures for one member: who saw or changed the member's PHI (member page, PII and its
reveals, claims) between two dates, from the audit trail (ops/disclosures.py; 45 CFR 164.528). Running it is
itself an audit event."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ops.disclosures import UnknownMember, member_disclosures, member_id_for
from ops.platform.audit import audit_record
from ops.platform.models import AuditAction


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--member", required=True, help="member id or member number")
        parser.add_argument("--since", type=_day, help="first day (UTC), default six years ago (164.528(a))")
        parser.add_argument("--until", type=_day, help="last day (UTC), inclusive, default today")
        parser.add_argument("--json", action="store_true", help="one JSON document instead of a table")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            member_id = member_id_for(options["member"])
        except UnknownMember as error:
            raise CommandError(str(error)) from None
        today = timezone.now().date()
        first = options["since"] or today.replace(year=today.year - 6)
        last = options["until"] or today
        if last < first:
            raise CommandError("--until is before --since")
        since = dt.datetime.combine(first, dt.time.min, tzinfo=dt.UTC)
        until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        rows = member_disclosures(member_id, since=since, until=until)
        audit_record(action=AuditAction.VIEW, object_type="ops.disclosures", object_id=member_id)
        if options["json"]:
            document = {
                "member_id": member_id,
                "since": since.isoformat(),
                "until": until.isoformat(),
                "events": [row.as_json() for row in rows],
            }
            self.stdout.write(json.dumps(document, indent=2))
            return
        self.stdout.write(f"member {member_id}: {len(rows)} events from {first} to {last} (UTC)")
        for row in rows:
            self.stdout.write(
                f"{row.occurred_at:%Y-%m-%d %H:%M:%S} {row.username or '-':<20} {row.action:<12} {row.outcome:<8} "
                f"{row.object_type}:{row.object_id} {row.ip_address or '-'} {row.reason}"
            )
