"""REINDEX INDEX CONCURRENTLY the B-tree indexes whose estimated bloat (pgstatindex) passes the threshold."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from ops.maintenance import reindex_bloated
from ops.management.commands._maintenance import MaintenanceCommand


class Command(MaintenanceCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--threshold-pct", type=float, help="bloat percent (OPS_REINDEX_BLOAT_PCT)")
        parser.add_argument("--min-bytes", type=int, help="smallest index measured (OPS_REINDEX_MIN_BYTES)")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_job(
            reindex_bloated, options, threshold_pct=options["threshold_pct"], min_bytes=options["min_bytes"]
        )
