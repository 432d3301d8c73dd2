"""Shared argument handling of the maintenance commands: --dry-run prints the plan; without --yes, the plan
is printed and confirmation asked before anything is applied."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.models import TaskOutcome, TaskRun


class MaintenanceCommand(BaseCommand):
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="print what would be done, change nothing")
        parser.add_argument("--yes", action="store_true", help="apply without asking")

    def run_job(self, job: Callable[..., TaskRun], options: dict[str, Any], **kwargs: Any) -> None:
        if options["dry_run"] or not options["yes"]:
            run = job(dry_run=True, **kwargs)
            self._report(run)
            if options["dry_run"] or run.outcome != TaskOutcome.SUCCESS:
                return
            if input("Apply this plan? [y/N] ").strip().lower() not in ("y", "yes"):
                self.stdout.write("nothing done")
                return
        run = job(dry_run=False, **kwargs)
        self._report(run)
        if run.outcome == TaskOutcome.FAILED:
            raise CommandError(run.error)

    def _report(self, run: TaskRun) -> None:
        label = "plan" if run.dry_run else "run"
        self.stdout.write(
            f"{run.job} {label}: {run.outcome} in {run.duration_ms} ms, {run.rows_affected} rows"
        )
        for line in run.details.get("plan", []):
            self.stdout.write(f"  - {line}")
        if not run.dry_run:
            for key, value in run.details.items():
                if key != "plan":
                    self.stdout.write(f"  {key}: {value}")
        if run.error:
            self.stdout.write(f"  error: {run.error}")
