"""Audit log partitions only: rollover and retention (24 months online by default, archive then drop)."""

from __future__ import annotations

from typing import Any

from ops.maintenance import partitions_maintain
from ops.management.commands._maintenance import MaintenanceCommand


class Command(MaintenanceCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_job(partitions_maintain, options, groups=["audit"])
