"""python manage.py sync_schedules — write config/beat.py's schedules into django-celery-beat's tables."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from config.beat import SCHEDULES, sync_schedules


class Command(BaseCommand):
    help = "Create or update the Celery beat schedules declared in config/beat.py (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="also overwrite intervals changed in the admin"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        changed = sync_schedules(reset=options["reset"])
        self.stdout.write(f"beat schedules: {len(SCHEDULES)} declared, {len(changed)} created or updated")
        for name in changed:
            self.stdout.write(f"  {name}")
