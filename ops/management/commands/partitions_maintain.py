"""Partition rollover, DEFAULT repair and retention (archive, verify, drop) for claims and the audit log."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from ops.maintenance import partitions_maintain
from ops.management.commands._maintenance import MaintenanceCommand


class Command(MaintenanceCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--group", action="append", choices=["claims", "audit"], help="only these groups")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_job(partitions_maintain, options, groups=options["group"])
