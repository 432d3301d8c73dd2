"""python manage.py refresh_analytics — refresh the analytics views and summary tables now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analytics.services.refresh import ALL_VIEWS, GROUPS, views_refresh
from analytics.services.summaries import summaries_rebuild


class Command(BaseCommand):
    help = "Refresh materialized views (all, or one cadence group) and rebuild the day summaries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", choices=sorted(GROUPS), help="only this cadence group")
        parser.add_argument("--no-summaries", action="store_true", help="skip rebuilding the day summaries")

    def handle(self, *args: Any, **options: Any) -> None:
        views = GROUPS[options["group"]] if options["group"] else ALL_VIEWS
        for log in views_refresh(views=views, trigger="manual"):
            self.stdout.write(f"{log.view}: {log.outcome}, {log.rows} rows, {log.duration_ms} ms {log.error}")
        if not options["no_summaries"] and not options["group"]:
            for log in summaries_rebuild(trigger="manual"):
                self.stdout.write(f"{log.view}: {log.outcome}, {log.rows} rows, {log.duration_ms} ms")
