"""Partition rollover, DEFAULT repair and retention (archive, verify, drop) for every partition group.

``--group audit`` is the audit log alone (it replaces the former ``audit_archive`` command).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from ops.maintenance import partitions_maintain
from ops.management.commands._maintenance import MaintenanceCommand
from ops.platform.partitioning import registry


class Command(MaintenanceCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        groups = [g.name for g in registry()]
        parser.add_argument("--group", action="append", choices=groups, help="only these partition groups")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_job(partitions_maintain, options, groups=options["group"])
