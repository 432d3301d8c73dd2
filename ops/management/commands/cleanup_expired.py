"""Delete expired log rows (refresh log, task runs, Celery results) in batches, then VACUUM (ANALYZE)."""

from __future__ import annotations

from typing import Any

from ops.maintenance import cleanup_expired
from ops.management.commands._maintenance import MaintenanceCommand


class Command(MaintenanceCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_job(cleanup_expired, options)
