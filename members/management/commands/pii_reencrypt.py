"""Re-encrypt every member's identifiers under the first key and recompute the SSN lookup hashes (members/pii.py):
the rotation step after a new PII_SALT_KEYS entry (first), a new DJANGO_SECRET_KEY (old one in
SECRET_KEY_FALLBACKS) or a new PII_HMAC_KEY. Batches of --batch rows, each its own transaction; safe to rerun."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from members.pii import pii_reencrypt


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=2_000, help="rows per transaction (default 2,000)")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = pii_reencrypt(batch=options["batch"])
        self.stdout.write(f"re-encrypted {rows:,} member PII rows under the first key")
