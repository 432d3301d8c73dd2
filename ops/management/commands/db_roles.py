"""Create the platform's PostgreSQL roles (owner, app, reporting) from the administrative connection
(DATABASE_ADMIN_URL) and set their attributes; idempotent. Grants follow at every migrate (ops/roles.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ops.roles import grants_apply, roles_ensure


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--admin-url",
            default=None,
            help="a superuser or CREATEROLE connection (default DATABASE_ADMIN_URL)",
        )
        parser.add_argument(
            "--grants",
            action="store_true",
            help="also grant the privileges in DATABASE_URL's database now (migrate does it after every run)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for line in roles_ensure(options["admin_url"]):
            self.stdout.write(line)
        if options["grants"]:
            grants_apply()
            self.stdout.write("granted the app and reporting roles their privileges in this database")
