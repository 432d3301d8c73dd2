"""makemigrations that understands both partitioned models and materialized views.

django-pgviews-redux overrides makemigrations with its own autodetector, and psqlextra's pgmakemigrations does
not use it; each alone writes wrong migrations for the other's models (STACK.md bug 3). This command uses
pgviews' autodetector inside psqlextra's patched migration state. The ``ops`` app is listed before
``django_pgviews`` in INSTALLED_APPS so this command is the one Django finds.
"""

from typing import Any

from django_pgviews.management.commands.makemigrations import Command as PgViewsMakeMigrations
from psqlextra.backend.migrations import postgres_patched_migrations


class Command(PgViewsMakeMigrations):
    def handle(self, *app_labels: Any, **options: Any) -> None:
        with postgres_patched_migrations():
            super().handle(*app_labels, **options)
